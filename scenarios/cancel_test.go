package scenarios

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// cancelingTok is a tokenizer that cancels a context on its first Encode
// (the first prompt made) and counts its Encode calls.
type cancelingTok struct {
	servingbench.Tokenizer
	cancel  context.CancelFunc
	encodes atomic.Int64
}

func (c *cancelingTok) Encode(text string) []int {
	if c.encodes.Add(1) == 1 {
		c.cancel()
	}
	return c.Tokenizer.Encode(text)
}

// TestPrepareHonoursContext cancels the context at the first prompt of a
// large preparation (100,000 prompts of 1,024 tokens, the issue's
// example, which takes a minute and a half uncancelled) and requires
// context.Canceled with no requests, having made only a few prompts: no
// clock is read, the event is the first Encode.
func TestPrepareHonoursContext(t *testing.T) {
	const n = 100_000
	datasets := []Dataset{
		Random{InputLen: 1024, OutputLen: 16},
		Random{InputLen: 1024, OutputLen: 16, ExactLength: true},
		PrefixRepetition{PrefixLen: 256, SuffixLen: 768, NumPrefixes: 10},
		Sonnet{Path: sonnetFixture, InputLen: 550, PrefixLen: 200},
		ShareGPT{Path: shareGPTFixture},
		Custom{Path: customFixture},
	}
	for _, d := range datasets {
		t.Run(d.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tok := &cancelingTok{Tokenizer: newFakeTok(), cancel: cancel}
			s := Scenario{Dataset: d, NumPrompts: n, Seed: 1}
			reqs, arr, err := s.Prepare(ctx, tok)
			require.Error(t, err, "Prepare after a cancel")
			assert.True(t, errors.Is(err, context.Canceled), "Prepare error = %v, want context.Canceled", err)
			assert.Nil(t, reqs)
			assert.Nil(t, arr)
			assert.Less(t, tok.encodes.Load(), int64(n), "Encode calls after a cancel at the first prompt")
		})
	}
}

// TestPrepareCancelledBefore: a context done before Prepare makes no
// prompt at all.
func TestPrepareCancelledBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tok := &cancelingTok{Tokenizer: newFakeTok(), cancel: func() {}}
	_, _, err := Scenario{Dataset: Random{InputLen: 1024}, NumPrompts: 100_000}.Prepare(ctx, tok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, tok.encodes.Load(), "Encode calls with a done context")
}
