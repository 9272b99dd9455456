package llamacpp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/llamacpp"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
)

// TestConformanceConversation runs 4-turn conversations against the real
// llama-server of TestConformance through its OpenAI chat route, each
// turn carrying the whole history (the generated replies kept), and
// checks them against what the server says: zero failures; every turn's
// input tokens equal the usage.prompt_tokens of its own stream, read from
// the raw bytes the tap recorded, and timings.prompt_n + cache_n; the
// output is max_tokens exactly; a turn's prompt is longer than the
// previous turn's by at least its reply and user message; and the slot's
// prompt cache (llama-server keeps each slot's last prompt: cache_n) served
// part of every later turn's prompt, as /metrics'
// prompt_tokens_cached_total counts.
func TestConformanceConversation(t *testing.T) {
	if raceEnabled {
		t.Skip("real-server conformance runs without -race (.ci/run's conformance step): the race detector slows the client")
	}
	in := llamacpp.Require(t)
	srv := llamacpp.Serve(t, in, llamacpp.Options{Parallel: slots})
	tok, err := tokenizer.Default()
	require.NoError(t, err)
	convs, err := scenarios.Synthetic{
		Turns: scenarios.Constant(4), SystemLen: scenarios.Constant(24),
		UserLen: scenarios.Constant(16), OutputLen: scenarios.Constant(12),
	}.Conversations(context.Background(), tok, slots, 7)
	require.NoError(t, err)
	for i := range convs {
		for k, turn := range convs[i].Turns {
			convs[i].Turns[k].User = fmt.Sprintf("c%dt%d %s", i, k, turn.User) // unique: the tap keys by it
			convs[i].Turns[k].UserTokens = len(tok.Encode(convs[i].Turns[k].User))
		}
	}

	tap := newTap(t, strings.TrimPrefix(srv.URL, "http://"))
	client, err := servingbench.NewChat(servingbench.OpenAIConfig{
		BaseURL: tap.url(), Model: srv.Alias, IgnoreEOS: true, Tokenizer: tok, KeepText: true,
		MaxConcurrency: slots, RequestTimeout: time.Minute,
	})
	require.NoError(t, err)
	defer client.Close()
	ctx := context.Background()
	before, err := srv.Metrics(ctx)
	require.NoError(t, err)
	rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Conversations: convs, MaxConcurrency: slots})
	require.NoError(t, err)
	after, err := srv.Metrics(ctx)
	require.NoError(t, err)

	require.Zero(t, rep.Failed, "failed turns, by reason: %v", rep.Errors)
	cr := rep.Conversations
	require.Equal(t, len(convs), cr.Completed, "turns not sent: %v", cr.NotSent)
	require.Len(t, cr.PerTurn, 4)
	streams, err := tap.streams()
	require.NoError(t, err)
	prev := map[int]int{}
	cached := 0
	perTurn := make([]int, 4)
	for _, res := range rep.Results {
		turn := convs[res.Conversation].Turns[res.Turn-1]
		body, ok := streams[turn.User]
		require.True(t, ok, "conversation %d turn %d: the tap saw its response", res.Conversation, res.Turn)
		raw, err := parseStream(body)
		require.NoError(t, err)
		require.NotNil(t, raw.Usage, "conversation %d turn %d: usage", res.Conversation, res.Turn)
		require.NotNil(t, raw.Timings)
		assert.Equal(t, raw.Usage.PromptTokens, res.InputTokens, "conversation %d turn %d: input tokens = the server's usage.prompt_tokens", res.Conversation, res.Turn)
		assert.Equal(t, raw.Usage.PromptTokens, raw.Timings.PromptN+raw.Timings.CacheN, "conversation %d turn %d", res.Conversation, res.Turn)
		assert.Equal(t, turn.MaxTokens, res.OutputTokens, "conversation %d turn %d", res.Conversation, res.Turn)
		if res.Turn > 1 {
			grow := prev[res.Conversation] + turn.UserTokens
			assert.Greater(t, res.InputTokens, grow, "conversation %d turn %d: the history grew by the reply and the user message", res.Conversation, res.Turn)
		}
		prev[res.Conversation] = res.InputTokens
		cached += raw.Timings.CacheN
		perTurn[res.Turn-1] += res.InputTokens
	}
	for k, pt := range cr.PerTurn {
		assert.Equal(t, perTurn[k], pt.TotalInputTokens, "turn %d: the per-turn total is the server's", k+1)
		assert.Equal(t, len(convs), pt.Completed)
	}
	assert.Greater(t, cached, 0, "the slots' prompt cache served later turns")
	counted, err := after.Sub(before, llamacpp.PromptTokensCachedTotal)
	require.NoError(t, err)
	assert.Equal(t, float64(cached), counted, "prompt_tokens_cached_total counts the cache_n of the run's turns")
	t.Logf("%d turns; per-turn mean input tokens %.1f %.1f %.1f %.1f; %d prompt tokens from the slots' cache",
		len(rep.Results), cr.PerTurn[0].MeanInputTokens(), cr.PerTurn[1].MeanInputTokens(), cr.PerTurn[2].MeanInputTokens(), cr.PerTurn[3].MeanInputTokens(), cached)
}
