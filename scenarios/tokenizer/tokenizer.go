package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/ardanlabs/jinja"

	"github.com/servingbench/servingbench/internal/hftok"
	"github.com/servingbench/servingbench/servingbench"
)

// Tokenizer is a HuggingFace tokenizer loaded from tokenizer.json (and
// tokenizer_config.json when present). It produces the ids HuggingFace
// tokenizers gives for encode(text, add_special_tokens=False): no BOS/EOS is
// added, but added and special tokens written in the text (such as ChatML's
// "<|im_end|>") become their ids. Decode keeps special tokens.
//
// Supported: byte-level BPE (GPT-2, Llama 3, Qwen2/2.5/3, DeepSeek style)
// and SentencePiece-style BPE with byte fallback (Llama 2, Mistral). A file
// using any other component fails to load with an error naming it
// ("unsupported component: ..."), never a silent mismatch. The tokenizer
// never downloads anything.
//
// A Tokenizer is safe for concurrent use.
type Tokenizer struct {
	tok          *hftok.Tokenizer
	name         string
	path         string // the tokenizer.json read; "" for the built-in
	bos, eos     SpecialToken
	addBOS       bool
	chatTemplate string
	templateFrom string // the file the chat template was read from, for errors

	compiled struct { // the chat template, compiled on first use
		once sync.Once
		tmpl *jinja.Template
		err  error
	}
}

var _ servingbench.Tokenizer = (*Tokenizer)(nil)

// SpecialToken is a token named in tokenizer_config.json (bos_token,
// eos_token). The zero value (empty Content) means the file names none; ID
// is -1 when the named token is not in the vocabulary.
type SpecialToken struct {
	Content string
	ID      int
}

// Encode returns the ids of text without adding special tokens.
func (t *Tokenizer) Encode(text string) []int { return t.tok.Encode(text, false) }

// EncodeSpecialAsText is Encode with special tokens written in the text
// encoded as ordinary text (HuggingFace's encode_special_tokens=True).
func (t *Tokenizer) EncodeSpecialAsText(text string) []int { return t.tok.Encode(text, true) }

// Decode returns the text of ids, skipping none; ids outside the
// vocabulary are ignored. Invalid UTF-8 becomes U+FFFD, one per maximal
// ill-formed subsequence, as HuggingFace and Python do.
func (t *Tokenizer) Decode(ids []int) string { return t.tok.Decode(ids) }

// SpecialIDs returns the ids of the added tokens marked special (BOS, EOS,
// <unk>, ChatML's <|im_start|>, ...), ascending: what HuggingFace's
// all_special_ids holds for the tokenizers supported here. Random with
// ExactLength samples no prompt token from them, as newer vLLM does.
func (t *Tokenizer) SpecialIDs() []int {
	var ids []int
	for _, a := range t.tok.AddedTokens() {
		if a.Special {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// VocabSize is the base vocabulary size without added tokens
// (transformers' tokenizer.vocab_size, which vLLM's random dataset uses).
func (t *Tokenizer) VocabSize() int { return t.tok.VocabSize() }

// Name is how the tokenizer was found: the path or ORG/NAME given, or
// DefaultName for Default.
func (t *Tokenizer) Name() string { return t.name }

// Path is the tokenizer.json (or tokenizer.json.gz) file read, "" for the
// built-in tokenizer.
func (t *Tokenizer) Path() string { return t.path }

// BOS and EOS are tokenizer_config.json's bos_token and eos_token, with
// their ids; ok is false when the file names none.
func (t *Tokenizer) BOS() (tok SpecialToken, ok bool) { return t.bos, t.bos.Content != "" }

// EOS: see BOS.
func (t *Tokenizer) EOS() (tok SpecialToken, ok bool) { return t.eos, t.eos.Content != "" }

// AddsBOS reports tokenizer_config.json's add_bos_token: whether the model's
// own tokenizer would put BOS before a prompt (Encode never does).
func (t *Tokenizer) AddsBOS() bool { return t.addBOS }

// ChatTemplate is tokenizer_config.json's chat_template (the "default" one
// when it lists several), else the chat_template.jinja file beside it, or "".
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// NotFoundError is returned when no tokenizer.json exists for a name; it
// lists every path tried.
type NotFoundError struct {
	Name  string
	Tried []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("tokenizer: no tokenizer for %q; tried %s", e.Name, strings.Join(e.Tried, ", "))
}

func newTokenizer(name string, tokenizerJSON, configJSON []byte) (*Tokenizer, error) {
	tok, err := hftok.Parse(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{tok: tok, name: name}
	if len(configJSON) == 0 {
		return t, nil
	}
	var cfg struct {
		BOS          json.RawMessage `json:"bos_token"`
		EOS          json.RawMessage `json:"eos_token"`
		AddBOS       bool            `json:"add_bos_token"`
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(configJSON, &cfg); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: %w", err)
	}
	t.addBOS = cfg.AddBOS
	if t.bos, err = t.special(cfg.BOS); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: bos_token: %w", err)
	}
	if t.eos, err = t.special(cfg.EOS); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: eos_token: %w", err)
	}
	if t.chatTemplate, err = chatTemplate(cfg.ChatTemplate); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: chat_template: %w", err)
	}
	return t, nil
}

// special reads a token given as a string, an AddedToken object
// {"content": ...} or null.
func (t *Tokenizer) special(raw json.RawMessage) (SpecialToken, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return SpecialToken{}, nil
	}
	var content string
	if err := json.Unmarshal(raw, &content); err != nil {
		var obj struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return SpecialToken{}, fmt.Errorf("neither a string nor {\"content\": ...}: %s", raw)
		}
		content = obj.Content
	}
	id, ok := t.tok.TokenToID(content)
	if !ok {
		id = -1
	}
	return SpecialToken{Content: content, ID: id}, nil
}

// chatTemplate reads a template given as a string or as a list of
// {"name", "template"} (the "default" one wins, else the first).
func chatTemplate(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("neither a string nor a list of {name, template}")
	}
	for _, e := range list {
		if e.Name == "default" {
			return e.Template, nil
		}
	}
	if len(list) > 0 {
		return list[0].Template, nil
	}
	return "", nil
}
