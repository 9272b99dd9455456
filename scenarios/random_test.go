package scenarios

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
)

func TestRandomDefaults(t *testing.T) {
	tok := newFakeTok()
	reqs, err := Random{}.Requests(context.Background(), tok, 5, 1)
	require.NoError(t, err)
	require.Len(t, reqs, 5)
	for i, r := range reqs {
		assert.Equal(t, 128, r.MaxTokens, "Requests()[%d].MaxTokens", i)
		assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens is not the measured count", i)
		assert.Positive(t, r.PromptTokens)
		// Decoding 1024 ids of at least one byte each gives >= 1024 bytes.
		assert.GreaterOrEqual(t, len(r.Prompt), 1024, "len(Requests()[%d].Prompt)", i)
	}
	assert.Equal(t, "dataset=random/in=1024/out=128", Random{}.String())
}

func TestRandomBounds(t *testing.T) {
	tests := []struct {
		name           string
		d              Random
		l              int
		minOne         bool
		wantLo, wantHi int
	}{
		{"v0.9.1 truncates", Random{RangeRatio: 0.25}, 10, false, 7, 12},
		{"exact floors and ceils", Random{RangeRatio: 0.25, ExactLength: true}, 10, false, 7, 13},
		{"no range", Random{}, 256, false, 256, 256},
		{"exact output at least 1", Random{RangeRatio: 0.9, ExactLength: true}, 1, true, 1, 2},
		{"v0.9.1 output may be 0", Random{RangeRatio: 0.9}, 1, true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := tt.d.bounds(tt.l, tt.minOne)
			assert.Equal(t, [2]int{tt.wantLo, tt.wantHi}, [2]int{lo, hi}, "%+v.bounds(%d) = %d,%d, want %d,%d", tt.d, tt.l, lo, hi, tt.wantLo, tt.wantHi)
		})
	}
}

func TestRandomLengthsWithinRange(t *testing.T) {
	tok := newFakeTok()
	for _, exact := range []bool{false, true} {
		d := Random{InputLen: 100, OutputLen: 40, RangeRatio: 0.5, PrefixLen: 10, ExactLength: exact}
		reqs, err := d.Requests(context.Background(), tok, 300, 7)
		require.NoError(t, err)
		outs := map[int]bool{}
		for i, r := range reqs {
			require.GreaterOrEqual(t, r.MaxTokens, 20, "%v: Requests()[%d].MaxTokens", d, i)
			require.LessOrEqual(t, r.MaxTokens, 60, "%v: Requests()[%d].MaxTokens", d, i)
			outs[r.MaxTokens] = true
			assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "%v: Requests()[%d].PromptTokens", d, i)
			if exact {
				require.GreaterOrEqual(t, r.PromptTokens, 10+50, "%v: Requests()[%d].PromptTokens", d, i)
				require.LessOrEqual(t, r.PromptTokens, 10+150, "%v: Requests()[%d].PromptTokens", d, i)
			}
		}
		assert.Greater(t, len(outs), 20, "%v: only %d distinct output lengths in 300 draws", d, len(outs))
	}
}

func TestRandomExactLength(t *testing.T) {
	tok := newFakeTok()
	plain, err := Random{InputLen: 200, PrefixLen: 20}.Requests(context.Background(), tok, 50, 3)
	require.NoError(t, err)
	exact, err := Random{InputLen: 200, PrefixLen: 20, ExactLength: true}.Requests(context.Background(), tok, 50, 3)
	require.NoError(t, err)
	short := 0
	for i := range plain {
		if plain[i].PromptTokens != 220 {
			short++
		}
		assert.Equal(t, 220, exact[i].PromptTokens, "exact Requests()[%d].PromptTokens", i)
	}
	// The fake tokenizer merges neighbouring pieces, as BPE does: without
	// the adjustment most prompts come back shorter than asked.
	assert.Greater(t, short, 25, "prompts with PromptTokens != 220 without ExactLength")
}

func TestRandomPrefixShared(t *testing.T) {
	tok := newFakeTok()
	withPrefix, err := Random{InputLen: 50, PrefixLen: 64}.Requests(context.Background(), tok, 20, 11)
	require.NoError(t, err)
	without, err := Random{InputLen: 114}.Requests(context.Background(), tok, 20, 11)
	require.NoError(t, err)
	// Each id decodes to at least one byte.
	assert.GreaterOrEqual(t, len(commonPrefix(withPrefix)), 64, "common prefix of prompts with PrefixLen 64")
	assert.Less(t, len(commonPrefix(without)), 8, "common prefix of prompts without a prefix")
}

func commonPrefix(reqs []servingbench.Request) string {
	p := reqs[0].Prompt
	for _, r := range reqs[1:] {
		for !strings.HasPrefix(r.Prompt, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

func TestRandomSeed(t *testing.T) {
	tok := newFakeTok()
	d := Random{InputLen: 64, OutputLen: 16, RangeRatio: 0.3, PrefixLen: 4}
	a, err := d.Requests(context.Background(), tok, 30, 42)
	require.NoError(t, err)
	b, err := d.Requests(context.Background(), tok, 30, 42)
	require.NoError(t, err)
	c, err := d.Requests(context.Background(), tok, 30, 43)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, different requests")
	assert.NotEqual(t, a, c, "different seeds, same requests")
}

func TestRandomSkipsSpecialIDs(t *testing.T) {
	tok := newFakeTok()
	ids := allowedIDs(tok, true)
	assert.Equal(t, tok.VocabSize()-1, ids.len(), "allowedIDs(fakeTok, true).len()")
	ids = allowedIDs(tok, false)
	assert.Equal(t, tok.VocabSize(), ids.len(), "allowedIDs(fakeTok, false).len()")
	ids = allowedIDs(plainTok{tok}, true)
	assert.Equal(t, tok.VocabSize(), ids.len(), "allowedIDs(plainTok, true).len()")
}

func TestRandomErrors(t *testing.T) {
	tok := newFakeTok()
	tests := []struct {
		name string
		d    Random
		tok  servingbench.Tokenizer
		n    int
		want string
	}{
		{"range 1", Random{RangeRatio: 1}, tok, 1, "RangeRatio"},
		{"range negative", Random{RangeRatio: -0.1}, tok, 1, "RangeRatio"},
		{"range NaN", Random{RangeRatio: math.NaN()}, tok, 1, "RangeRatio"},
		{"input negative", Random{InputLen: -1}, tok, 1, "InputLen"},
		{"output negative", Random{OutputLen: -1}, tok, 1, "OutputLen"},
		{"prefix negative", Random{PrefixLen: -1}, tok, 1, "PrefixLen"},
		{"empty prompt", Random{InputLen: 1, RangeRatio: 0.5}, tok, 1, "shortest prompt"},
		{"nil tokenizer", Random{}, nil, 1, "tokenizer is nil"},
		{"negative n", Random{}, tok, -1, "n must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.d.Requests(context.Background(), tt.tok, tt.n, 1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	reqs, err := Random{}.Requests(context.Background(), tok, 0, 1)
	require.NoError(t, err)
	assert.Empty(t, reqs)
}

// BenchmarkRandomPrompts prepares 10,000 random prompts of 1,024 tokens
// with the fake tokenizer and with the real Qwen3 one (target: under 5 s).
//
//	go test -run '^$' -bench RandomPrompts -benchtime 1x -count 3 ./scenarios
func BenchmarkRandomPrompts(b *testing.B) {
	qwen, err := tokenizer.Load("tokenizer/testdata/qwen3")
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		tok  servingbench.Tokenizer
	}{{"tok=fake", newFakeTok()}, {"tok=qwen3", qwen}} {
		b.Run(tt.name, func(b *testing.B) { benchmarkRandomPrompts(b, tt.tok) })
	}
}

func benchmarkRandomPrompts(b *testing.B, tok servingbench.Tokenizer) {
	for _, d := range []Random{{InputLen: 1024}, {InputLen: 1024, ExactLength: true}} {
		b.Run(d.String(), func(b *testing.B) {
			for b.Loop() {
				reqs, err := d.Requests(context.Background(), tok, 10000, 1)
				if err != nil || len(reqs) != 10000 {
					b.Fatalf("Requests = %d, %v", len(reqs), err)
				}
			}
		})
	}
}

// TestRandomExactLengthSkipsRealSpecialTokens: with the real Llama 2 and
// Qwen3 tokenizers, ExactLength prompts contain no special token (Llama 2's
// ids 0-2 would decode to the literal text "<unk><s></s>").
func TestRandomExactLengthSkipsRealSpecialTokens(t *testing.T) {
	for _, family := range []string{"llama2", "qwen3"} {
		t.Run(family, func(t *testing.T) {
			tok, err := tokenizer.Load("tokenizer/testdata/" + family)
			require.NoError(t, err)
			special := tok.SpecialIDs()
			require.NotEmpty(t, special, "SpecialIDs()")
			var texts []string
			for _, id := range special {
				texts = append(texts, tok.Decode([]int{id}))
			}
			reqs, err := Random{InputLen: 64, OutputLen: 1, ExactLength: true}.Requests(context.Background(), tok, 200, 7)
			require.NoError(t, err)
			for i, r := range reqs {
				for _, s := range texts {
					assert.NotContains(t, r.Prompt, s, "request %d: special token %q in the prompt", i, s)
				}
			}
			// The sampled ids exclude exactly the special ids inside the
			// base vocabulary (Llama 2's 0-2; Qwen3's come after it).
			inVocab := 0
			for _, id := range special {
				if id < tok.VocabSize() {
					inVocab++
				}
			}
			ids := allowedIDs(tok, true)
			assert.Equal(t, tok.VocabSize()-inVocab, ids.len(), "allowed ids")
			for _, id := range special {
				_, found := slices.BinarySearch(ids.allowed, id)
				assert.False(t, found, "special id %d allowed", id)
			}
		})
	}
}
