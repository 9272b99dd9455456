package llamacpp

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/servingbench/servingbench/internal/gguf"
)

// TinyModel describes the conformance suite's model: a llama-architecture
// GGUF around a real byte-level BPE tokenizer, with untrained "chain"
// weights that make greedy decoding deterministic and readable:
//
//   - token embeddings are random N(0, 1);
//   - every block is close to the identity (weights N(0, 1) scaled by
//     0.002/sqrt(fan-in)), so the final hidden state is roughly the
//     embedding of the current token;
//   - the output matrix maps token prev(u) to token u along a fixed cycle
//     of word tokens (a leading-space marker and 3-12 lowercase letters),
//     so the argmax follows the cycle.
//
// Greedy decoding thus emits one plain word token per step and never an
// end-of-sequence or other special token: generation always runs to
// max_tokens. All of llama.cpp's work (prefill, KV cache, sampling over the
// full vocabulary, HTTP and SSE) is real; only the text is meaningless.
// It is the construction of shared/tools/llamacpp/make_tiny_gguf.py, with
// Go's PCG for numpy's generator. The zero value is that script's default.
type TinyModel struct {
	Name   string // "" means "tiny-qwen3-chain"
	Embd   int    // embedding width; 0 means 64
	Layers int    // 0 means 2
	Heads  int    // 0 means 4; must divide Embd
	FF     int    // feed-forward width; 0 means 256
	Ctx    int    // trained context length; 0 means 4096
	Pre    string // llama.cpp pre-tokenizer name; "" means "qwen2"
	Seed   uint64
}

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	tokenNormal      = 1
	tokenControl     = 3
	tokenUserDefined = 4
	tokenUnused      = 5
)

// wordToken matches the chain's tokens: byte-level BPE writes a leading
// space as U+0120.
var wordToken = regexp.MustCompile("^\u0120[a-z]{3,12}$")

// vocab is a tokenizer as GGUF stores it.
type vocab struct {
	tokens       []string
	types        []int32
	merges       []string
	bos, eos     int // -1: none
	addBOS       bool
	chatTemplate string
}

// Build returns the model for the tokenizer in tokenizerJSON and
// configJSON (HuggingFace tokenizer.json and tokenizer_config.json).
func (m TinyModel) Build(tokenizerJSON, configJSON []byte) (*gguf.Writer, error) {
	if m.Name == "" {
		m.Name = "tiny-qwen3-chain"
	}
	m.Embd, m.Layers, m.Heads, m.FF, m.Ctx = or(m.Embd, 64), or(m.Layers, 2), or(m.Heads, 4), or(m.FF, 256), or(m.Ctx, 4096)
	if m.Pre == "" {
		m.Pre = "qwen2"
	}
	if m.Embd%m.Heads != 0 {
		return nil, fmt.Errorf("llamacpp: TinyModel.Embd %d is not a multiple of Heads %d", m.Embd, m.Heads)
	}
	v, err := loadVocab(tokenizerJSON, configJSON)
	if err != nil {
		return nil, err
	}
	var cycle []int
	for i, text := range v.tokens {
		if v.types[i] == tokenNormal && wordToken.MatchString(text) {
			cycle = append(cycle, i)
		}
	}
	if len(cycle) < 2 {
		return nil, fmt.Errorf("llamacpp: the tokenizer has %d word tokens, too few for the chain", len(cycle))
	}

	n, E, F := len(v.tokens), m.Embd, m.FF
	g := new(gguf.Writer)
	g.String("general.architecture", "llama")
	g.String("general.name", m.Name)
	g.String("general.description", "synthetic chain weights (not trained); tokenizer from qwen3")
	g.Uint32("llama.context_length", uint32(m.Ctx))
	g.Uint32("llama.embedding_length", uint32(E))
	g.Uint32("llama.block_count", uint32(m.Layers))
	g.Uint32("llama.feed_forward_length", uint32(F))
	g.Uint32("llama.attention.head_count", uint32(m.Heads))
	g.Uint32("llama.attention.head_count_kv", uint32(m.Heads))
	g.Uint32("llama.rope.dimension_count", uint32(E/m.Heads))
	g.Float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
	g.Uint32("llama.vocab_size", uint32(n))
	g.Uint32("general.file_type", 1)         // mostly F16
	g.String("tokenizer.ggml.model", "gpt2") // llama.cpp's name for byte-level BPE
	g.String("tokenizer.ggml.pre", m.Pre)
	g.Strings("tokenizer.ggml.tokens", v.tokens)
	g.Int32s("tokenizer.ggml.token_type", v.types)
	g.Strings("tokenizer.ggml.merges", v.merges)
	if v.eos >= 0 {
		g.Uint32("tokenizer.ggml.eos_token_id", uint32(v.eos))
	}
	if v.bos >= 0 {
		g.Uint32("tokenizer.ggml.bos_token_id", uint32(v.bos))
	}
	g.Bool("tokenizer.ggml.add_bos_token", v.addBOS)
	if v.chatTemplate != "" {
		g.String("tokenizer.chat_template", v.chatTemplate)
	}

	rng := rand.New(rand.NewPCG(m.Seed, 0))
	normal := func(n int, scale float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * scale)
		}
		return out
	}
	ones := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	nearZero := func(rows, cols int) []float32 { return normal(rows*cols, 0.002/math.Sqrt(float64(cols))) }

	emb := normal(n*E, 1)
	output := make([]float32, n*E)
	for i, u := range cycle { // logit[u] = <h, emb[prev(u)]>: the argmax follows the cycle
		prev := cycle[(i+len(cycle)-1)%len(cycle)]
		copy(output[u*E:(u+1)*E], emb[prev*E:(prev+1)*E])
	}
	add := func(name string, rows, cols int, typ uint32, data []float32) {
		if err == nil {
			err = g.Tensor(name, rows, cols, typ, data)
		}
	}
	add("token_embd.weight", n, E, gguf.TypeF16, emb)
	add("output_norm.weight", 0, E, gguf.TypeF32, ones(E))
	add("output.weight", n, E, gguf.TypeF16, output)
	for i := range m.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", 0, E, gguf.TypeF32, ones(E))
		for _, name := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
			add(p+name+".weight", E, E, gguf.TypeF16, nearZero(E, E))
		}
		add(p+"ffn_norm.weight", 0, E, gguf.TypeF32, ones(E))
		add(p+"ffn_gate.weight", F, E, gguf.TypeF16, nearZero(F, E))
		add(p+"ffn_up.weight", F, E, gguf.TypeF16, nearZero(F, E))
		add(p+"ffn_down.weight", E, F, gguf.TypeF16, nearZero(E, F))
	}
	return g, err
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// loadVocab reads the vocabulary as llama.cpp's convert_hf_to_gguf.py
// does for byte-level BPE: ids from the model's vocab and the added
// tokens, "<|...|>" added tokens as control tokens even where
// tokenizer.json does not mark them special (Qwen's FIM tokens), holes in
// the id space as unused "[PADn]" tokens.
func loadVocab(tokenizerJSON, configJSON []byte) (*vocab, error) {
	var tj struct {
		Model struct {
			Type   string            `json:"type"`
			Vocab  map[string]int    `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(tokenizerJSON, &tj); err != nil {
		return nil, fmt.Errorf("llamacpp: tokenizer.json: %w", err)
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("llamacpp: tokenizer.json: model type %q, want BPE", tj.Model.Type)
	}
	n := 0
	for _, id := range tj.Model.Vocab {
		n = max(n, id+1)
	}
	for _, t := range tj.AddedTokens {
		n = max(n, t.ID+1)
	}
	v := &vocab{tokens: make([]string, n), types: make([]int32, n), bos: -1, eos: -1}
	set := make([]bool, n)
	for text, id := range tj.Model.Vocab {
		v.tokens[id], v.types[id], set[id] = text, tokenNormal, true
	}
	for _, t := range tj.AddedTokens {
		typ := int32(tokenUserDefined)
		if t.Special || (strings.HasPrefix(t.Content, "<|") && strings.HasSuffix(t.Content, "|>")) ||
			(strings.HasPrefix(t.Content, "<\uff5c") && strings.HasSuffix(t.Content, "\uff5c>")) {
			typ = tokenControl
		}
		v.tokens[t.ID], v.types[t.ID], set[t.ID] = t.Content, typ, true
	}
	ids := make(map[string]int, n)
	for i := range v.tokens {
		if !set[i] {
			v.tokens[i], v.types[i] = fmt.Sprintf("[PAD%d]", i), tokenUnused
		}
		ids[v.tokens[i]] = i
	}
	for i, raw := range tj.Model.Merges { // "a b", or ["a", "b"] in newer tokenizers
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var pair []string
			if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
				return nil, fmt.Errorf("llamacpp: tokenizer.json: merge %d is %s", i, raw)
			}
			s = pair[0] + " " + pair[1]
		}
		v.merges = append(v.merges, s)
	}

	var tc map[string]json.RawMessage
	if err := json.Unmarshal(configJSON, &tc); err != nil {
		return nil, fmt.Errorf("llamacpp: tokenizer_config.json: %w", err)
	}
	special := func(key string) (int, error) {
		raw, ok := tc[key]
		if !ok || string(raw) == "null" {
			return -1, nil
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				return -1, fmt.Errorf("llamacpp: tokenizer_config.json: %s is %s", key, raw)
			}
			s = obj.Content
		}
		if id, ok := ids[s]; ok && s != "" {
			return id, nil
		}
		return -1, nil
	}
	var err error
	if v.bos, err = special("bos_token"); err != nil {
		return nil, err
	}
	if v.eos, err = special("eos_token"); err != nil {
		return nil, err
	}
	if raw, ok := tc["add_bos_token"]; ok {
		_ = json.Unmarshal(raw, &v.addBOS)
	}
	if raw, ok := tc["chat_template"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &v.chatTemplate); err != nil {
			return nil, fmt.Errorf("llamacpp: tokenizer_config.json: chat_template is not a string")
		}
	}
	return v, nil
}
