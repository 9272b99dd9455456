package servingbench_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestEndToEndReasoning: on a simulated stream of R reasoning tokens then
// A answer tokens, TTFT (any token event, vLLM's), TTFO (the first answer
// token) and both counts are exact, on the bubble's clock, from each
// source: the server's usage.completion_tokens_details.reasoning_tokens,
// the tokenizer over each part, the token events. With 4 tokens a chunk
// and R = 10 the third chunk carries the last 2 reasoning and the first 2
// answer tokens: one event, the first answer event.
func TestEndToEndReasoning(t *testing.T) {
	const n, maxTokens = 16, 48
	tests := []struct {
		name        string
		reasoning   servingtest.Reasoning
		perChunk    int
		tokenizer   bool
		wantAnswer  int // index of the first answer event
		wantSource  servingbench.CountSource
		wantR, want int // reasoning and answer counts
	}{
		{"usage", servingtest.Reasoning{Tokens: 10}, 1, false, 10, servingbench.SourceUsage, 10, 38},
		{"usage new field name", servingtest.Reasoning{Tokens: 10, Field: "reasoning"}, 1, false, 10, servingbench.SourceUsage, 10, 38},
		{"usage boundary chunk", servingtest.Reasoning{Tokens: 10}, 4, false, 2, servingbench.SourceUsage, 10, 38},
		{"tokenizer", servingtest.Reasoning{Tokens: 10, OmitUsage: true}, 1, true, 10, servingbench.SourceTokenizer, 10, 38},
		{"tokenizer boundary chunk", servingtest.Reasoning{Tokens: 10, OmitUsage: true}, 4, true, 2, servingbench.SourceTokenizer, 10, 38},
		{"events", servingtest.Reasoning{Tokens: 10, OmitUsage: true}, 1, false, 10, servingbench.SourceEvents, 10, 38},
		// Each count a lower bound: the boundary event counts in both.
		{"events boundary chunk", servingtest.Reasoning{Tokens: 10, OmitUsage: true}, 4, false, 2, servingbench.SourceEvents, 3, 10},
		{"reasoning only", servingtest.Reasoning{Tokens: 100}, 1, false, maxTokens, servingbench.SourceUsage, maxTokens, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := servingtest.Realistic(1)
				m.TokensPerChunk, m.Reasoning = tt.perChunk, tt.reasoning
				srv := newBubbleServer(t, m)
				cfg := bubbleConfig(srv)
				var tok servingbench.Tokenizer
				if tt.tokenizer {
					tok = servingtest.WordTokenizer{}
				}
				rep, truth := e2eRun(t, srv, &cfg, servingbench.NewChat, n, 16, maxTokens, tok)
				require.Equal(t, n, rep.Completed, "errors: %v", rep.Errors)
				byIndex := promptsByIndex(rep, truth)
				var ttfos []time.Duration
				for _, res := range rep.Results {
					rec := truth[byIndex[res.Index]]
					require.Equal(t, rec.Chunks, eventTimes(res), "request %d: token events, want the server's flush times", res.Index)
					assert.Equal(t, rec.Chunks[0].Sub(res.Sent), res.TTFT(), "request %d: TTFT, the first (reasoning) token", res.Index)
					assert.Equal(t, tt.wantAnswer, res.FirstAnswer, "request %d: FirstAnswer", res.Index)
					i, ok := rec.FirstAnswer()
					if tt.wantAnswer < len(res.Events) {
						require.True(t, ok, "request %d: the server sent an answer token", res.Index)
						assert.Equal(t, tt.wantAnswer, i, "request %d: the server's first answer chunk", res.Index)
						assert.Equal(t, rec.Chunks[i].Sub(res.Sent), res.TTFO(), "request %d: TTFO", res.Index)
						assert.Greater(t, res.TTFO(), res.TTFT(), "request %d: TTFO after TTFT", res.Index)
						ttfos = append(ttfos, res.TTFO())
					} else {
						assert.False(t, ok, "request %d: no answer chunk", res.Index)
						assert.Zero(t, res.TTFO(), "request %d: TTFO without an answer", res.Index)
					}
					assert.Equal(t, maxTokens, res.OutputTokens, "request %d: OutputTokens", res.Index)
					assert.Equal(t, min(tt.reasoning.Tokens, maxTokens), rec.ReasoningTokens, "request %d: the server's reasoning tokens", res.Index)
					assert.Equal(t, tt.wantR, res.ReasoningTokens, "request %d: ReasoningTokens", res.Index)
					assert.Equal(t, tt.want, res.AnswerTokens, "request %d: AnswerTokens", res.Index)
					assert.Equal(t, tt.wantSource, res.ReasoningSource, "request %d: ReasoningSource", res.Index)
				}
				assert.Equal(t, n, rep.ReasoningRequests, "ReasoningRequests")
				assert.Equal(t, n*tt.wantR, rep.TotalReasoningTokens, "TotalReasoningTokens")
				assert.Equal(t, n*tt.want, rep.TotalAnswerTokens, "TotalAnswerTokens")
				assert.Equal(t, map[servingbench.CountSource]int{tt.wantSource: n}, rep.ReasoningSources, "ReasoningSources")
				assert.Equal(t, len(ttfos), rep.TTFO.Count, "TTFO is over the requests with an answer token")
				assert.Equal(t, n-len(ttfos), rep.ReasoningOnly, "ReasoningOnly")
				assert.ElementsMatch(t, ttfos, rep.TTFO.Samples, "TTFO samples")
			})
		})
	}
}

// TestReasoningCompletionsUnaffected: a reasoning model's completions
// route streams text only, so the run has no reasoning, no TTFO and the
// text block of an ordinary run.
func TestReasoningCompletionsUnaffected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := servingtest.Realistic(1)
		m.Reasoning = servingtest.Reasoning{Tokens: 10}
		srv := newBubbleServer(t, m)
		cfg := bubbleConfig(srv)
		rep, truth := e2eRun(t, srv, &cfg, servingbench.NewCompletions, 8, 16, 24, nil)
		require.Equal(t, 8, rep.Completed, "errors: %v", rep.Errors)
		for _, rec := range truth {
			assert.Zero(t, rec.ReasoningTokens, "request %d: the completions route does not reason", rec.Index)
		}
		for _, res := range rep.Results {
			assert.Zero(t, res.FirstAnswer, "request %d: FirstAnswer", res.Index)
			assert.Equal(t, res.TTFT(), res.TTFO(), "request %d: TTFO is TTFT", res.Index)
			assert.Equal(t, servingbench.SourceNone, res.ReasoningSource, "request %d: ReasoningSource", res.Index)
		}
		assert.Zero(t, rep.ReasoningRequests, "ReasoningRequests")
		assert.Zero(t, rep.TTFO.Count, "TTFO")
		var buf bytes.Buffer
		require.NoError(t, servingbench.WriteText(&buf, rep, servingbench.TextOptions{}))
		assert.NotContains(t, buf.String(), "Reasoning", "text block")
		assert.NotContains(t, buf.String(), "TTFO", "text block")
	})
}

// TestReasoningFixture decodes the vLLM reasoning stream of
// internal/sse/testdata (reasoning_content deltas, then content): its
// three reasoning events and two answer events.
func TestReasoningFixture(t *testing.T) {
	stream := readFixture(t, "../internal/sse/testdata/vllm-chat-reasoning.sse")
	srv := newStaticSSEServer(t, stream)
	tok := servingtest.WordTokenizer{}
	for _, tc := range []struct {
		name      string
		tokenizer servingbench.Tokenizer
		source    servingbench.CountSource
		r, a      int
	}{
		{"events", nil, servingbench.SourceEvents, 3, 2},
		{"tokenizer", tok, servingbench.SourceTokenizer, 3, 1}, // "Let me think", "Yes."
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := servingbench.NewChat(servingbench.OpenAIConfig{BaseURL: srv, Model: "Qwen/Qwen3-0.6B", Tokenizer: tc.tokenizer, KeepText: true})
			require.NoError(t, err)
			defer client.Close()
			var res servingbench.Result
			client.Send(t.Context(), &servingbench.Request{Prompt: "p", MaxTokens: 5}, &res)
			require.NoError(t, res.Err)
			require.Len(t, res.Events, 5)
			assert.Equal(t, 3, res.FirstAnswer, "FirstAnswer: after three reasoning_content deltas")
			assert.Equal(t, res.Events[3], res.TTFO(), "TTFO")
			assert.Equal(t, 5, res.OutputTokens, "OutputTokens: usage.completion_tokens")
			assert.Equal(t, tc.source, res.ReasoningSource, "ReasoningSource: the fixture's usage has no reasoning_tokens")
			assert.Equal(t, tc.r, res.ReasoningTokens, "ReasoningTokens")
			assert.Equal(t, tc.a, res.AnswerTokens, "AnswerTokens")
			assert.Equal(t, "Let me thinkYes.", res.Text, "Text: reasoning and answer in stream order")
		})
	}
}

// readFixture reads a stream file.
func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// newStaticSSEServer serves stream as an event stream on 127.0.0.1.
func newStaticSSEServer(t *testing.T, stream []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
