package llamacpp

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/hftok/builtin"
)

// TestLoadVocabQwen3 checks the vocabulary against what
// shared/tools/llamacpp/make_tiny_gguf.py reports for the same tokenizer
// (n_vocab=151669 merges=151387 bos=None eos=151645, chain=23789 word
// tokens starting Ġthe Ġand Ġfor Ġcon); the GGUF header the two write is
// byte-identical.
func TestLoadVocabQwen3(t *testing.T) {
	tj, cj, err := builtin.Qwen3()
	require.NoError(t, err)
	v, err := loadVocab(tj, cj)
	require.NoError(t, err)
	assert.Len(t, v.tokens, 151669)
	assert.Len(t, v.merges, 151387)
	assert.Equal(t, -1, v.bos)
	assert.Equal(t, 151645, v.eos)
	assert.Equal(t, "<|im_end|>", v.tokens[v.eos])
	assert.Equal(t, int32(tokenControl), v.types[v.eos])
	assert.False(t, v.addBOS)
	assert.Contains(t, v.chatTemplate, "<|im_start|>")
	var cycle []string
	for i, text := range v.tokens {
		if v.types[i] == tokenNormal && wordToken.MatchString(text) {
			cycle = append(cycle, text)
		}
	}
	assert.Len(t, cycle, 23789)
	assert.Equal(t, []string{"Ġthe", "Ġand", "Ġfor", "Ġcon"}, cycle[:4])
}

// TestTinyModelBuild builds the model for a five-token tokenizer and checks
// the file's size: header, 2+9 tensors per layer, aligned data.
func TestTinyModelBuild(t *testing.T) {
	tj := []byte(`{"model":{"type":"BPE","vocab":{"a":0,"Ġabc":1,"Ġdef":2,"Ġghi":3},"merges":["a b",["Ġ","abc"]]},
		"added_tokens":[{"id":5,"content":"<|end|>","special":false}]}`)
	cj := []byte(`{"eos_token":{"content":"<|end|>"},"bos_token":null,"chat_template":"{{x}}"}`)
	v, err := loadVocab(tj, cj)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "Ġabc", "Ġdef", "Ġghi", "[PAD4]", "<|end|>"}, v.tokens)
	assert.Equal(t, []int32{tokenNormal, tokenNormal, tokenNormal, tokenNormal, tokenUnused, tokenControl}, v.types)
	assert.Equal(t, []string{"a b", "Ġ abc"}, v.merges)
	assert.Equal(t, 5, v.eos)

	g, err := TinyModel{Embd: 8, Heads: 2, FF: 16, Layers: 1}.Build(tj, cj)
	require.NoError(t, err)
	var a, b bytes.Buffer
	_, err = g.WriteTo(&a)
	require.NoError(t, err)
	g, err = TinyModel{Embd: 8, Heads: 2, FF: 16, Layers: 1}.Build(tj, cj)
	require.NoError(t, err)
	_, err = g.WriteTo(&b)
	require.NoError(t, err)
	assert.Equal(t, a.Bytes(), b.Bytes(), "the same model on every build")
	assert.Equal(t, []byte("GGUF"), a.Bytes()[:4])

	_, err = TinyModel{Embd: 10, Heads: 4}.Build(tj, cj)
	assert.ErrorContains(t, err, "Embd 10 is not a multiple of Heads 4")
	_, err = TinyModel{}.Build([]byte(`{"model":{"type":"Unigram"}}`), cj)
	assert.ErrorContains(t, err, `model type "Unigram", want BPE`)
	_, err = TinyModel{}.Build([]byte(`{"model":{"type":"BPE","vocab":{"a":0}}}`), cj)
	assert.ErrorContains(t, err, "0 word tokens, too few for the chain")
}
