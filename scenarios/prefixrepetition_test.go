package scenarios

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefixRepetitionRequests(t *testing.T) {
	tok := newFakeTok()
	d := PrefixRepetition{PrefixLen: 32, SuffixLen: 16, NumPrefixes: 4, OutputLen: 9}
	reqs, err := d.Requests(context.Background(), tok, 25, 3)
	require.NoError(t, err)
	require.Len(t, reqs, 25)
	// Every id decodes to at least one byte, so the first 32 bytes of a
	// prompt lie inside its prefix.
	groups := map[string]int{}
	keys := make([]string, len(reqs))
	for i, r := range reqs {
		keys[i] = r.Prompt[:32]
		groups[keys[i]]++
		assert.Equal(t, 9, r.MaxTokens, "Requests()[%d].MaxTokens", i)
		assert.Equal(t, len(tok.Encode(r.Prompt)), r.PromptTokens, "Requests()[%d].PromptTokens", i)
		assert.InDelta(t, 48, r.PromptTokens, 3, "Requests()[%d].PromptTokens", i)
	}
	sizes := make([]int, 0, len(groups))
	for _, c := range groups {
		sizes = append(sizes, c)
	}
	slices.Sort(sizes)
	assert.Equal(t, []int{6, 6, 6, 7}, sizes, "prompts per prefix")
	runs := 1
	for i := 1; i < len(keys); i++ {
		if keys[i] != keys[i-1] {
			runs++
		}
	}
	assert.Greater(t, runs, 8, "requests are not shuffled: %d runs of one prefix", runs)
	assert.Equal(t, "dataset=prefix-repetition/prefix=32/suffix=16/prefixes=4/out=9", d.String())
}

func TestPrefixRepetitionSeed(t *testing.T) {
	tok := newFakeTok()
	d := PrefixRepetition{PrefixLen: 20, SuffixLen: 10, NumPrefixes: 2}
	a, err := d.Requests(context.Background(), tok, 6, 1)
	require.NoError(t, err)
	b, err := d.Requests(context.Background(), tok, 6, 1)
	require.NoError(t, err)
	c, err := d.Requests(context.Background(), tok, 6, 2)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, different requests")
	assert.NotEqual(t, a, c, "different seeds, same requests")
	for i, r := range a {
		assert.Equal(t, 128, r.MaxTokens, "default Requests()[%d].MaxTokens", i)
	}
}

func TestPrefixRepetitionErrors(t *testing.T) {
	tok := newFakeTok()
	_, err := PrefixRepetition{}.Requests(context.Background(), tok, 9, 1)
	assert.ErrorContains(t, err, "n (9) must be >= NumPrefixes (10)")
	_, err = PrefixRepetition{SuffixLen: -1}.Requests(context.Background(), tok, 20, 1)
	assert.ErrorContains(t, err, "PrefixRepetition.SuffixLen")
	reqs, err := PrefixRepetition{}.Requests(context.Background(), tok, 0, 1)
	require.NoError(t, err)
	assert.Empty(t, reqs)
}
