package tokenizer

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// The expected renderings below are written from the templates' own logic
// (testdata/qwen3/tokenizer_config.json and testdata/llama3/
// tokenizer_config.json, the chat_template field), for transformers'
// apply_chat_template(messages, tokenize=False, add_generation_prompt=True).
// They were also checked against Python's Jinja2 3.1.6 in the environment
// transformers builds (ImmutableSandboxedEnvironment, trim_blocks=True,
// lstrip_blocks=True; transformers' src/transformers/utils/chat_template_utils.py,
// _compile_jinja_template), with the same variables.
func TestApplyChatTemplate(t *testing.T) {
	history := []servingbench.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Content: "Hi there"},
		{Role: "assistant", Content: "Hello!"},
		{Role: "user", Content: "  Tell me a joke.\n"},
	}
	tests := []struct {
		name   string
		family string
		msgs   []servingbench.Message
		want   string
	}{{
		// Qwen3: the system message first as <|im_start|>system ...
		// <|im_end|>, each user message verbatim (no trim), the
		// assistant reply before the last user query without a think
		// block, then the generation prompt "<|im_start|>assistant\n"
		// (enable_thinking undefined: no empty think block).
		name: "qwen3", family: "qwen3", msgs: history,
		want: "<|im_start|>system\nYou are terse.<|im_end|>\n" +
			"<|im_start|>user\nHi there<|im_end|>\n" +
			"<|im_start|>assistant\nHello!<|im_end|>\n" +
			"<|im_start|>user\n  Tell me a joke.\n<|im_end|>\n" +
			"<|im_start|>assistant\n",
	}, {
		// Qwen3 drops the reasoning of replies before the last user query:
		// content.split('</think>')[-1].lstrip('\n').
		name: "qwen3-think-dropped", family: "qwen3",
		msgs: []servingbench.Message{
			{Role: "user", Content: "Q1"},
			{Role: "assistant", Content: "<think>\nhmm\n</think>\n\nA1"},
			{Role: "user", Content: "Q2"},
		},
		want: "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n" +
			"<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n",
	}, {
		name: "qwen3-one-user-message", family: "qwen3",
		msgs: []servingbench.Message{{Role: "user", Content: "Hello"}},
		want: "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
	}, {
		// Llama 3: bos_token before the first message, each message as
		// <|start_header_id|>ROLE<|end_header_id|>\n\n + content|trim +
		// <|eot_id|>, and the assistant header always (the template
		// ignores add_generation_prompt).
		name: "llama3", family: "llama3", msgs: history,
		want: "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>" +
			"<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>" +
			"<|start_header_id|>user<|end_header_id|>\n\nTell me a joke.<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := testTokenizer(t, tt.family)
			got, err := tok.ApplyChatTemplate(tt.msgs)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "ApplyChatTemplate(%q)", tt.msgs)
			// Rendering again (the compiled template reused) gives the same.
			again, err := tok.ApplyChatTemplate(tt.msgs)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestApplyChatTemplateSpecialTokens(t *testing.T) {
	tok := testTokenizer(t, "qwen3")
	got, err := tok.ApplyChatTemplate([]servingbench.Message{{Role: "user", Content: "Hello"}})
	require.NoError(t, err)
	// <|im_start|> user \n Hello <|im_end|> \n <|im_start|> assistant \n:
	// the markers are single special-token ids.
	im := 151644
	ids := tok.Encode(got)
	assert.Equal(t, im, ids[0], "first id")
	assert.Equal(t, []int{im, 77091, 198}, ids[len(ids)-3:], "generation prompt ids")
}

func TestApplyChatTemplateDefault(t *testing.T) {
	def, err := Default()
	require.NoError(t, err)
	msgs := []servingbench.Message{{Role: "user", Content: "Hello"}}
	got, err := def.ApplyChatTemplate(msgs)
	require.NoError(t, err)
	want, err := testTokenizer(t, "qwen3").ApplyChatTemplate(msgs)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the built-in Qwen3 template renders as testdata's")
}

func TestApplyChatTemplateNone(t *testing.T) {
	tok := testTokenizer(t, "llama2") // its tokenizer_config.json has no chat_template
	_, err := tok.ApplyChatTemplate([]servingbench.Message{{Role: "user", Content: "Hello"}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNoChatTemplate), "errors.Is(%v, ErrNoChatTemplate)", err)
	assert.Contains(t, err.Error(), filepath.Join("testdata", "llama2", "tokenizer_config.json"))
}
