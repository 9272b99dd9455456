package scenarios

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/servingbench/servingbench/internal/hftok"
	"github.com/servingbench/servingbench/internal/hftok/builtin"
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
	bos, eos     SpecialToken
	addBOS       bool
	chatTemplate string
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
// "builtin:qwen3" for DefaultTokenizer.
func (t *Tokenizer) Name() string { return t.name }

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
	return fmt.Sprintf("scenarios: no tokenizer for %q; tried %s", e.Name, strings.Join(e.Tried, ", "))
}

// LoadTokenizer loads a tokenizer from, in order of trial:
//   - a tokenizer.json file (or a gzipped tokenizer.json.gz), with
//     tokenizer_config.json read from the same directory when present;
//   - a directory holding tokenizer.json (or tokenizer.json.gz), as a
//     model directory does;
//   - ORG/NAME in the HuggingFace cache: $HF_HUB_CACHE, $HF_HOME/hub,
//     $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub, under
//     models--ORG--NAME/snapshots/REV/ (the revision in refs/main first).
//
// It never downloads. When nothing is found the error is a *NotFoundError.
func LoadTokenizer(pathOrName string) (*Tokenizer, error) {
	if pathOrName == "" {
		return nil, errors.New("scenarios: LoadTokenizer: empty path or name")
	}
	var tried []string
	if fi, err := os.Stat(pathOrName); err == nil {
		if !fi.IsDir() {
			return loadFiles(pathOrName, pathOrName, filepath.Join(filepath.Dir(pathOrName), "tokenizer_config.json"))
		}
		for _, f := range []string{"tokenizer.json", "tokenizer.json.gz"} {
			p := filepath.Join(pathOrName, f)
			tried = append(tried, p)
			if fileExists(p) {
				return loadFiles(pathOrName, p, filepath.Join(pathOrName, "tokenizer_config.json"))
			}
		}
	} else {
		tried = append(tried, pathOrName)
	}
	if org, name, ok := hubName(pathOrName); ok {
		for _, hub := range hubCaches() {
			repo := filepath.Join(hub, "models--"+org+"--"+name)
			for _, snap := range snapshots(repo) {
				p := filepath.Join(snap, "tokenizer.json")
				tried = append(tried, p)
				if fileExists(p) {
					return loadFiles(pathOrName, p, filepath.Join(snap, "tokenizer_config.json"))
				}
			}
			if len(snapshots(repo)) == 0 {
				tried = append(tried, filepath.Join(repo, "snapshots", "*", "tokenizer.json"))
			}
		}
	}
	return nil, &NotFoundError{Name: pathOrName, Tried: tried}
}

var defaultTokenizer struct {
	once sync.Once
	tok  *Tokenizer
	err  error
}

// DefaultTokenizer returns the built-in Qwen3 tokenizer (the Qwen2, Qwen2.5
// and Qwen3 vocabulary), embedded compressed in the binary. It is loaded
// once, on first use, and shared.
func DefaultTokenizer() (*Tokenizer, error) {
	d := &defaultTokenizer
	d.once.Do(func() {
		tj, cj, err := builtin.Qwen3()
		if err != nil {
			d.err = err
			return
		}
		d.tok, d.err = newTokenizer("builtin:qwen3", tj, cj)
	})
	return d.tok, d.err
}

// ResolveTokenizer picks the tokenizer for a run as vLLM does:
// tokenizerFlag when given (an error if it cannot be loaded), else
// modelFlag as a path or HuggingFace cache name, else DefaultTokenizer. id
// names the choice (for the report's tokenizer_id); note is a one-line
// message for the user when the default was used, else "".
func ResolveTokenizer(tokenizerFlag, modelFlag string) (tok *Tokenizer, id, note string, err error) {
	if tokenizerFlag != "" {
		tok, err := LoadTokenizer(tokenizerFlag)
		if err != nil {
			return nil, "", "", fmt.Errorf("--tokenizer: %w", err)
		}
		return tok, tokenizerFlag, "", nil
	}
	why := "no --tokenizer or --model given"
	if modelFlag != "" {
		tok, err := LoadTokenizer(modelFlag)
		if err == nil {
			return tok, modelFlag, "", nil
		}
		var nf *NotFoundError
		if errors.As(err, &nf) {
			why = fmt.Sprintf("no tokenizer found for --model %q", modelFlag)
		} else {
			why = fmt.Sprintf("tokenizer for --model %q unusable (%v)", modelFlag, err)
		}
	}
	tok, err = DefaultTokenizer()
	if err != nil {
		return nil, "", "", err
	}
	return tok, tok.Name(), why + "; using the built-in Qwen3 tokenizer (pass --tokenizer PATH for exact counts)", nil
}

func loadFiles(name, tokenizerPath, configPath string) (*Tokenizer, error) {
	tj, err := readMaybeGzip(tokenizerPath)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	cj, err := os.ReadFile(configPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	t, err := newTokenizer(name, tj, cj)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %s: %w", tokenizerPath, err)
	}
	if t.chatTemplate == "" { // newer transformers save it beside the config
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(configPath), "chat_template.jinja")); err == nil {
			t.chatTemplate = string(b)
		}
	}
	return t, nil
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

func readMaybeGzip(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return data, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if data, err = io.ReadAll(zr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// hubName splits ORG/NAME (two non-empty parts, no path syntax).
func hubName(s string) (org, name string, ok bool) {
	org, name, ok = strings.Cut(s, "/")
	if !ok || org == "" || name == "" || strings.ContainsAny(name, "/\\") ||
		org == "." || org == ".." || strings.HasPrefix(s, "~") {
		return "", "", false
	}
	return org, name, true
}

// hubCaches lists the HuggingFace hub cache directories to search.
func hubCaches() []string {
	var dirs []string
	add := func(d string) {
		for _, x := range dirs {
			if x == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		add(d)
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		add(filepath.Join(d, "hub"))
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		add(filepath.Join(d, "huggingface", "hub"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, ".cache", "huggingface", "hub"))
	}
	return dirs
}

// snapshots lists a cached repository's snapshot directories, the one
// refs/main names first, then the rest newest first.
func snapshots(repo string) []string {
	entries, err := os.ReadDir(filepath.Join(repo, "snapshots"))
	if err != nil {
		return nil
	}
	main := ""
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		main = strings.TrimSpace(string(ref))
	}
	type snap struct {
		path string
		rank int64
	}
	var snaps []snap
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		s := snap{path: filepath.Join(repo, "snapshots", e.Name())}
		if info, err := e.Info(); err == nil {
			s.rank = info.ModTime().UnixNano()
		}
		if e.Name() == main {
			s.rank = 1<<63 - 1
		}
		snaps = append(snaps, s)
	}
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].rank > snaps[j].rank })
	out := make([]string, len(snaps))
	for i, s := range snaps {
		out[i] = s.path
	}
	return out
}
