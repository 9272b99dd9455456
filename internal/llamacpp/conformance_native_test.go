package llamacpp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

// nativeCases send 64 requests in all, 8-32 output tokens each, through
// llama.cpp's native /completion.
var nativeCases = []struct{ concurrency, requests int }{{1, 24}, {4, 40}}

// TestConformanceNative benchmarks the real llama-server of
// TestConformance through its native POST /completion (the
// llama.cpp-native backend: servingbench.NewLlamaCppNative), with
// servingbench's transport and runner, and checks every count against
// what the server says about the same requests: the "stop": true object
// of each stream (tokens_predicted, tokens_evaluated, stop_type, timings),
// read from the raw stream the tap recorded, and the /metrics counters
// over the run. Exactly: output tokens = n_predict = tokens_predicted =
// token events = timings.predicted_n; input tokens = tokens_evaluated =
// timings.prompt_n + cache_n = our tokenizer's count of the prompt; the
// run's totals = the counters' deltas; and, as in TestConformance, the
// server's intervals lie inside ours: TTFT >= prompt_ms and E2EL >=
// prompt_ms + predicted_ms. cache_prompt is left at the server's default,
// so a prompt's prefix in a slot's cache counts in cache_n and in
// prompt_tokens_cached_total, as on the OpenAI routes.
func TestConformanceNative(t *testing.T) {
	if raceEnabled {
		t.Skip("real-server conformance runs without -race (.ci/run's conformance step): the race detector slows the client the timing checks measure")
	}
	in := llamacpp.Require(t)
	srv := llamacpp.Serve(t, in, llamacpp.Options{Parallel: slots})
	tok, err := tokenizer.Default()
	require.NoError(t, err)
	total := 0
	for i, tc := range nativeCases {
		t.Run(fmt.Sprintf("concurrency=%d", tc.concurrency), func(t *testing.T) {
			total += runConformanceNative(t, srv, tok, tc.concurrency, tc.requests, uint64(100+i))
		})
	}
	t.Logf("%d requests in all", total)
}

func runConformanceNative(t *testing.T, srv *llamacpp.Server, tok *tokenizer.Tokenizer, concurrency, n int, seed uint64) int {
	reqs, err := scenarios.Random{InputLen: 48, OutputLen: 20, RangeRatio: 0.6, ExactLength: true}.Requests(context.Background(), tok, n, seed)
	require.NoError(t, err)
	tap := newTap(t, strings.TrimPrefix(srv.URL, "http://"))
	client, err := servingbench.NewLlamaCppNative(servingbench.OpenAIConfig{
		BaseURL: tap.url(), Model: srv.Alias, IgnoreEOS: true, Tokenizer: tok,
		MaxConcurrency: concurrency, RequestTimeout: time.Minute,
	})
	require.NoError(t, err)
	defer client.Close()

	ctx := context.Background()
	before, err := srv.Metrics(ctx)
	require.NoError(t, err)
	rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Requests: reqs, MaxConcurrency: concurrency})
	require.NoError(t, err)
	after, err := srv.Metrics(ctx)
	require.NoError(t, err)

	require.Zero(t, rep.Failed, "failed requests, by reason: %v", rep.Errors)
	require.Equal(t, len(reqs), rep.Completed)
	assert.Equal(t, map[servingbench.CountSource]int{servingbench.SourceUsage: len(reqs)}, rep.InputSources, "input counts from tokens_evaluated")
	assert.Equal(t, map[servingbench.CountSource]int{servingbench.SourceUsage: len(reqs)}, rep.OutputSources, "output counts from tokens_predicted")
	assert.Zero(t, rep.NoDone, "no stream ended without its stop object")

	streams, err := tap.streams()
	require.NoError(t, err)
	var wantIn, wantOut int
	for _, res := range rep.Results {
		req := reqs[res.Index]
		body, ok := streams[req.Prompt]
		require.True(t, ok, "request %d: the tap saw its response", res.Index)
		raw, err := parseNativeStream(body)
		require.NoError(t, err, "request %d", res.Index)
		require.True(t, raw.Stopped, "request %d: the stream ends with \"stop\": true", res.Index)
		require.NotNil(t, raw.Timings, "request %d: timings", res.Index)
		tm := raw.Timings

		assert.Equal(t, "limit", raw.StopType, "request %d: ignore_eos runs to n_predict", res.Index)
		assert.Equal(t, req.MaxTokens, raw.TokensPredicted, "request %d: tokens_predicted = n_predict", res.Index)
		assert.Equal(t, req.MaxTokens, res.OutputTokens, "request %d: OutputTokens = n_predict", res.Index)
		assert.Equal(t, req.MaxTokens, len(res.Events), "request %d: one token event a token", res.Index)
		assert.Equal(t, raw.Tokens, len(res.Events), "request %d: token events = content events", res.Index)
		assert.Equal(t, tm.PredictedN, len(res.Events), "request %d: events = timings.predicted_n", res.Index)
		assert.Equal(t, raw.TokensEvaluated, res.InputTokens, "request %d: InputTokens = tokens_evaluated", res.Index)
		assert.Equal(t, raw.TokensEvaluated, tm.PromptN+tm.CacheN, "request %d: tokens_evaluated = timings.prompt_n + cache_n", res.Index)
		assert.Equal(t, req.PromptTokens, res.InputTokens, "request %d: the server counts the prompt as our tokenizer does", res.Index)

		promptMS, predMS := msDuration(tm.PromptMS), msDuration(tm.PredictedMS)
		assert.GreaterOrEqual(t, res.TTFT(), promptMS, "request %d: TTFT >= timings.prompt_ms", res.Index)
		assert.GreaterOrEqual(t, res.E2EL(), promptMS+predMS, "request %d: E2EL >= prompt_ms + predicted_ms", res.Index)
		wantIn += raw.TokensEvaluated
		wantOut += raw.TokensPredicted
	}
	assert.Equal(t, wantIn, rep.TotalInputTokens, "TotalInputTokens = sum of tokens_evaluated")
	assert.Equal(t, wantOut, rep.TotalOutputTokens, "TotalOutputTokens = sum of tokens_predicted")
	prompt, err := after.Sub(before, llamacpp.PromptTokensTotal)
	require.NoError(t, err)
	cached, err := after.Sub(before, llamacpp.PromptTokensCachedTotal)
	require.NoError(t, err)
	predicted, err := after.Sub(before, llamacpp.TokensPredictedTotal)
	require.NoError(t, err)
	assert.Equal(t, float64(rep.TotalInputTokens), prompt+cached, "TotalInputTokens = delta of %s + %s", llamacpp.PromptTokensTotal, llamacpp.PromptTokensCachedTotal)
	assert.Equal(t, float64(rep.TotalOutputTokens), predicted, "TotalOutputTokens = delta of %s", llamacpp.TokensPredictedTotal)

	t.Logf("%d requests (%d resent on a new connection) in %v, %d in (%v cached) / %d out tokens; TTFT mean %v; TPOT mean %v; ITL mean %v",
		len(reqs), rep.Resent, rep.Duration.Round(time.Millisecond), rep.TotalInputTokens, cached, rep.TotalOutputTokens,
		rep.TTFT.Mean.Round(time.Microsecond), rep.TPOT.Mean.Round(time.Microsecond), rep.ITL.Mean.Round(time.Microsecond))
	return len(reqs)
}

// nativeStream is what the test reads from a captured /completion stream,
// independently of servingbench's decoder.
type nativeStream struct {
	// Tokens counts the objects with content.
	Tokens int
	// Stopped: the last object has "stop": true; the fields below are its.
	Stopped                          bool
	TokensPredicted, TokensEvaluated int
	StopType                         string
	Timings                          *timings
	// Done is set if a data: [DONE] came (it must not, on this route).
	Done bool
}

func parseNativeStream(b []byte) (*nativeStream, error) {
	s := &nativeStream{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			s.Done = true
			continue
		}
		var ev struct {
			Content         string   `json:"content"`
			Stop            bool     `json:"stop"`
			TokensPredicted int      `json:"tokens_predicted"`
			TokensEvaluated int      `json:"tokens_evaluated"`
			StopType        string   `json:"stop_type"`
			Timings         *timings `json:"timings"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return nil, fmt.Errorf("object %q: %w", data, err)
		}
		if s.Stopped {
			return nil, fmt.Errorf("object after the stop object: %q", data)
		}
		if ev.Content != "" {
			s.Tokens++
		}
		if ev.Stop {
			s.Stopped = true
			s.TokensPredicted, s.TokensEvaluated, s.StopType, s.Timings = ev.TokensPredicted, ev.TokensEvaluated, ev.StopType, ev.Timings
		}
	}
	if s.Done {
		return nil, fmt.Errorf("data: [DONE] on /completion")
	}
	return s, sc.Err()
}
