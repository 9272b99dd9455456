package servingtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// charTokenizer counts bytes: a tokenizer unlike WordTokenizer.
type charTokenizer struct{}

func (charTokenizer) Encode(s string) []int {
	ids := make([]int, len(s))
	for i := range s {
		ids[i] = int(s[i])
	}
	return ids
}
func (charTokenizer) Decode(ids []int) string { return strings.Repeat("x", len(ids)) }
func (charTokenizer) VocabSize() int          { return 256 }

func TestTokenizerCountsPrompt(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Model
		want int
	}{
		{"default word tokenizer", Model{}, 3},
		{"custom tokenizer", Model{Tokenizer: charTokenizer{}}, len("one two  three")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(tc.m)
			defer srv.Close()
			s := stream(t, srv.URL+"/v1/completions", body(false, "one two  three", 2, nil))
			u := s.Chunks[len(s.Chunks)-1].Usage
			require.NotNil(t, u)
			assert.Equal(t, tc.want, u.PromptTokens)
			assert.Equal(t, tc.want, srv.Truth()[0].PromptTokens)
		})
	}
}

func TestWordTokenizer(t *testing.T) {
	var tok WordTokenizer
	ids := tok.Encode("  the model\tstreams tokens\n")
	assert.Len(t, ids, 4)
	assert.Equal(t, " the model", tok.Decode(ids[:2]))
	assert.Equal(t, tok.Encode(tok.Decode(ids)), tok.Encode(tok.Decode(tok.Encode(tok.Decode(ids)))), "Decode/Encode is stable")
	for _, id := range ids {
		assert.True(t, id >= 0 && id < tok.VocabSize(), "id %d out of the vocabulary", id)
	}
	assert.Equal(t, 4, CountWords("a b\nc  d"))
}

func TestProfiles(t *testing.T) {
	fp16, w8a8 := Sim7BFP16(), Sim7BW8A8()
	assert.NotEqual(t, fp16.Name, w8a8.Name)
	for _, batch := range []int{1, 64, 256} {
		step := func(m Model) int64 {
			return int64(m.DecodeBase) + int64(batch)*int64(m.DecodePerSeq)
		}
		assert.Less(t, step(w8a8), step(fp16), "W8A8 decode step at batch %d", batch)
	}
	assert.Less(t, w8a8.PrefillPerToken, fp16.PrefillPerToken)
	assert.Equal(t, 10.0, Realistic(10).Speed)
	assert.Equal(t, Model{Name: ZeroCost().Name}, ZeroCost(), "ZeroCost has no costs or limits")
}
