package tokenizer

import (
	"errors"
	"fmt"

	"github.com/ardanlabs/jinja"
	"github.com/servingbench/servingbench/servingbench"
)

// ErrNoChatTemplate is wrapped by the error of ApplyChatTemplate on a
// tokenizer whose files hold no chat template.
var ErrNoChatTemplate = errors.New("no chat_template")

// ApplyChatTemplate renders a chat history as the prompt a completions
// endpoint is sent: the text HuggingFace transformers'
// apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
// gives, so that the model sees the layout it was trained on and that a
// chat endpoint's server would build (vLLM renders the same template with
// the same variables).
//
// The template is the chat_template of tokenizer_config.json (or of
// chat_template.jinja beside it, where newer transformers save it), read
// by Load; it is compiled on first use with github.com/ardanlabs/jinja,
// which applies Jinja2's trim_blocks and lstrip_blocks as transformers
// does. The variables are transformers': messages (a list of {role,
// content}), add_generation_prompt (true) and the special tokens
// tokenizer_config.json names (bos_token, eos_token, as their text; a token
// it does not name is left undefined); tools and documents are undefined.
// The template's raise_exception calls and render errors are returned.
//
// The text holds the template's special tokens written out (Llama 3's
// "<|begin_of_text|>", Qwen's "<|im_start|>"); Encode turns them into
// their ids. A server that adds a BOS of its own to a completions prompt
// (AddsBOS: Llama 2 style tokenizers) would then see two.
//
// A tokenizer with no chat template gives an error wrapping
// ErrNoChatTemplate that names the file read.
func (t *Tokenizer) ApplyChatTemplate(msgs []servingbench.Message) (string, error) {
	if t.chatTemplate == "" {
		return "", fmt.Errorf("tokenizer: %s: %w (the prompt of a completions endpoint needs the model's chat template)", t.configFile(), ErrNoChatTemplate)
	}
	c := &t.compiled
	c.once.Do(func() {
		c.tmpl, c.err = jinja.Compile(t.chatTemplate)
		if c.err != nil {
			c.err = fmt.Errorf("tokenizer: %s: chat_template: %w", t.configFile(), c.err)
		}
	})
	if c.err != nil {
		return "", c.err
	}
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	vars := map[string]any{"messages": list, "add_generation_prompt": true}
	if t.bos.Content != "" {
		vars["bos_token"] = t.bos.Content
	}
	if t.eos.Content != "" {
		vars["eos_token"] = t.eos.Content
	}
	out, err := c.tmpl.Render(vars)
	if err != nil {
		return "", fmt.Errorf("tokenizer: %s: rendering chat_template for %d messages: %w", t.configFile(), len(msgs), err)
	}
	return out, nil
}

// configFile names the file a chat template was, or would have been, read
// from.
func (t *Tokenizer) configFile() string {
	if t.templateFrom != "" {
		return t.templateFrom
	}
	return t.name + ": tokenizer_config.json"
}
