package servingbench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/stats"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// e2eRun benchmarks srv with n unique prompts of promptWords words, all
// dispatched at once, through the client newClient builds (nil:
// NewCompletions), and returns the report with the server's records keyed
// by prompt. A nil cfg reaches srv over the network.
func e2eRun(t testing.TB, srv *servingtest.Server, cfg *servingbench.OpenAIConfig, newClient func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error),
	n, promptWords, maxTokens int, tok servingbench.Tokenizer) (*servingbench.Report, map[string]servingtest.Record) {
	t.Helper()
	if cfg == nil {
		cfg = &servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Model().Name}
	}
	cfg.MaxConcurrency, cfg.IgnoreEOS, cfg.Tokenizer = n, true, tok
	if newClient == nil {
		newClient = servingbench.NewCompletions
	}
	client, err := newClient(*cfg)
	require.NoError(t, err)
	defer client.Close()
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		words := make([]string, promptWords)
		for j := range words {
			words[j] = fmt.Sprintf("w%d_%d", i, j)
		}
		reqs[i] = servingbench.Request{Prompt: strings.Join(words, " "), MaxTokens: maxTokens}
	}
	rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs, MaxConcurrency: n})
	require.NoError(t, err)
	truth := map[string]servingtest.Record{}
	for _, r := range srv.Truth() {
		truth[r.Prompt] = r
	}
	require.Len(t, truth, n, "the server saw every request once")
	return rep, truth
}

// latencyErrors returns, over all requests, the absolute differences
// between measured and true TTFT, E2EL and ITL (gap by gap). The truth of a
// request's TTFT is its first chunk's flush time minus the client's send
// time (the server cannot see when the client started; Received minus Sent
// is the server's own accept-and-parse queue, checked separately).
func latencyErrors(t testing.TB, rep *servingbench.Report, reqs map[int]string, truth map[string]servingtest.Record) (ttft, e2el, itl []time.Duration) {
	t.Helper()
	abs := func(d time.Duration) time.Duration { return max(d, -d) }
	for _, res := range rep.Results {
		rec := truth[reqs[res.Index]]
		require.Len(t, res.Events, len(rec.Chunks), "request %d: one token event per token chunk", res.Index)
		require.False(t, rec.Received.Before(res.Sent), "request %d: the server received it before the client stamped Sent", res.Index)
		ttft = append(ttft, abs(res.TTFT()-rec.Chunks[0].Sub(res.Sent)))
		e2el = append(e2el, abs(res.E2EL()-rec.Chunks[len(rec.Chunks)-1].Sub(res.Sent)))
		for i := 1; i < len(rec.Chunks); i++ {
			itl = append(itl, abs(res.Events[i]-res.Events[i-1]-rec.Chunks[i].Sub(rec.Chunks[i-1])))
		}
	}
	return ttft, e2el, itl
}

func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return time.Duration(stats.Percentile(ds, 99))
}

func promptsByIndex(rep *servingbench.Report, truth map[string]servingtest.Record) map[int]string {
	// Results carry no prompt; the runner keeps Config.Requests order, and
	// e2eRun's prompts start with "w<index>_".
	m := map[int]string{}
	for p := range truth {
		var i int
		fmt.Sscanf(p, "w%d_", &i)
		m[i] = p
	}
	return m
}

// TestEndToEndMatchesServerTruth checks measured latencies against the
// simulated server's record of when it flushed each chunk, on 64
// concurrent streams of the realistic model, for every backend's client
// and stream layout (streamClients), exactly: client and server
// run in a synctest bubble over an in-memory listener, so both read the
// same fake clock, which stands still while either side works. Every
// token event must be stamped with its chunk's flush time, so TTFT, ITL and
// E2EL equal the server's to the nanosecond. A systematic error (a new
// connection per request, a timestamp taken after the whole body, a
// role-only chunk stamping TTFT, a token lost or counted twice) fails it
// on any machine, however loaded. Accuracy against the real clock is
// measured by BenchmarkTTFTAccuracy.
func TestEndToEndMatchesServerTruth(t *testing.T) {
	for _, sc := range streamClients() {
		t.Run(sc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := servingtest.Realistic(1)
				sc.layout(&m)
				srv := newBubbleServer(t, m)
				cfg := bubbleConfig(srv)
				rep, truth := e2eRun(t, srv, &cfg, sc.new, 64, 16, 48, nil)
				require.Equal(t, 64, rep.Completed, "errors: %v", rep.Errors)
				byIndex := promptsByIndex(rep, truth)
				for _, res := range rep.Results {
					rec := truth[byIndex[res.Index]]
					assert.Equal(t, sc.proto, rec.Protocol, "request %d: the protocol the server saw", res.Index)
					require.Len(t, rec.Chunks, 48, "request %d: chunks sent", res.Index)
					assert.Equal(t, rec.OutputTokens, res.OutputTokens, "request %d: OutputTokens", res.Index)
					assert.Equal(t, wantOutputSource(sc.proto), res.OutputSource, "request %d: OutputSource", res.Index)
					assert.Equal(t, rec.PromptTokens, res.InputTokens, "request %d: InputTokens", res.Index)
					assert.Equal(t, rec.Received, res.Sent, "request %d: Sent, want the server's Received", res.Index)
					assert.Equal(t, rec.Chunks, eventTimes(res), "request %d: token events, want the server's flush times", res.Index)
					assert.Equal(t, rec.Chunks[0].Sub(res.Sent), res.TTFT(), "request %d: TTFT", res.Index)
					assert.Equal(t, rec.E2EL(), res.E2EL(), "request %d: E2EL", res.Index)
					for i := 1; i < len(rec.Chunks); i++ {
						assert.Equal(t, rec.Chunks[i].Sub(rec.Chunks[i-1]), res.Events[i]-res.Events[i-1], "request %d: ITL %d", res.Index, i)
					}
				}
				// The timing model holds in the bubble: a token a step,
				// no step shorter than the model's base decode time.
				m = srv.Model()
				for _, rec := range truth {
					for i := 1; i < len(rec.Chunks); i++ {
						require.GreaterOrEqual(t, rec.Chunks[i].Sub(rec.Chunks[i-1]), m.DecodeBase, "request %d: step %d", rec.Index, i)
					}
				}
			})
		})
	}
}

// TestEndToEndTokenCounts checks exact input and output counts in every
// usage position, with one and several tokens a chunk, on both endpoints.
func TestEndToEndTokenCounts(t *testing.T) {
	tests := []struct {
		usage          servingtest.UsagePosition
		tokensPerChunk int
		tok            servingbench.Tokenizer
		wantOut        servingbench.CountSource
		wantIn         servingbench.CountSource
	}{
		{servingtest.UsageSeparate, 1, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{servingtest.UsageInline, 1, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{servingtest.UsageSeparate, 3, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{servingtest.UsageInline, 4, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{servingtest.UsageNone, 3, servingtest.WordTokenizer{}, servingbench.SourceTokenizer, servingbench.SourceTokenizer},
		{servingtest.UsageNone, 1, nil, servingbench.SourceEvents, servingbench.SourceNone},
	}
	for _, tt := range tests {
		for _, chat := range []bool{false, true} {
			name := fmt.Sprintf("usage=%v/chunk=%d/tokenizer=%v/chat=%v", tt.usage, tt.tokensPerChunk, tt.tok != nil, chat)
			t.Run(name, func(t *testing.T) {
				srv := servingtest.NewServer(servingtest.Model{Name: "m", Usage: tt.usage, TokensPerChunk: tt.tokensPerChunk})
				defer srv.Close()
				newClient := servingbench.NewCompletions
				if chat {
					newClient = servingbench.NewChat
				}
				rep, truth := e2eRun(t, srv, nil, newClient, 8, 5+len(name)%7, 37, tt.tok)
				require.Equal(t, 8, rep.Completed, "errors: %v", rep.Errors)
				byIndex := promptsByIndex(rep, truth)
				wantIn, wantOut := 0, 0
				for _, res := range rep.Results {
					rec := truth[byIndex[res.Index]]
					assert.Equal(t, rec.OutputTokens, res.OutputTokens, "output tokens")
					assert.Equal(t, tt.wantOut, res.OutputSource)
					assert.Equal(t, len(rec.Chunks), len(res.Events), "token events")
					assert.Equal(t, tt.wantIn, res.InputSource)
					if tt.wantIn != servingbench.SourceNone {
						assert.Equal(t, rec.PromptTokens, res.InputTokens, "input tokens")
					}
					wantIn += rec.PromptTokens
					wantOut += rec.OutputTokens
				}
				if tt.wantIn != servingbench.SourceNone {
					assert.Equal(t, wantIn, rep.TotalInputTokens)
				}
				assert.Equal(t, wantOut, rep.TotalOutputTokens)
			})
		}
	}
}

// TestEndToEndTokenCountsNative checks exact input and output counts from
// the native protocols' own fields (TGI's details, llama.cpp's last
// tokens_predicted and tokens_evaluated), with one and several tokens a
// flush, and the fallbacks when TGI is not asked for details.
func TestEndToEndTokenCountsNative(t *testing.T) {
	noDetails := map[string]any{"parameters": map[string]any{"details": false}}
	tests := []struct {
		client         string
		tokensPerChunk int
		extra          map[string]any
		tok            servingbench.Tokenizer
		wantOut        servingbench.CountSource
		wantIn         servingbench.CountSource
	}{
		{"tgi", 1, nil, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{"tgi", 3, nil, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{"tgi", 3, noDetails, servingtest.WordTokenizer{}, servingbench.SourceTokenizer, servingbench.SourceTokenizer},
		{"tgi", 1, noDetails, nil, servingbench.SourceEvents, servingbench.SourceNone},
		{"llama.cpp-native", 1, nil, nil, servingbench.SourceUsage, servingbench.SourceUsage},
		{"llama.cpp-native", 3, nil, nil, servingbench.SourceUsage, servingbench.SourceUsage},
	}
	clients := map[string]streamClient{}
	for _, sc := range streamClients() {
		clients[sc.name] = sc
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/chunk=%d/details=%v/tokenizer=%v", tt.client, tt.tokensPerChunk, tt.extra == nil, tt.tok != nil)
		t.Run(name, func(t *testing.T) {
			srv := servingtest.NewServer(servingtest.Model{Name: "m", TokensPerChunk: tt.tokensPerChunk})
			defer srv.Close()
			cfg := &servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", ExtraBody: tt.extra}
			rep, truth := e2eRun(t, srv, cfg, clients[tt.client].new, 8, 5+len(name)%7, 37, tt.tok)
			require.Equal(t, 8, rep.Completed, "errors: %v", rep.Errors)
			byIndex := promptsByIndex(rep, truth)
			for _, res := range rep.Results {
				rec := truth[byIndex[res.Index]]
				assert.Equal(t, rec.OutputTokens, res.OutputTokens, "output tokens")
				assert.Equal(t, tt.wantOut, res.OutputSource)
				assert.Equal(t, len(rec.Chunks), len(res.Events), "token events")
				assert.Equal(t, rec.OutputTokens, len(res.Events), "one event a token")
				assert.Equal(t, tt.wantIn, res.InputSource)
				if tt.wantIn != servingbench.SourceNone {
					assert.Equal(t, rec.PromptTokens, res.InputTokens, "input tokens")
				}
			}
		})
	}
}

// TestEventDefinitionAgreesWithVLLM shows that our token-event definition
// (only chunks carrying output) and vLLM v0.9.1's (every chunk with a
// choices entry, so the chat role-only chunk too) give the same TTFT and
// the same total of inter-token gaps on a one-token-per-chunk server: the
// role-only chunk is flushed with the first token, so vLLM's extra event
// adds one zero gap (its mean ITL is ours times (n-1)/n, within 1% for
// 128 tokens). Both definitions are applied to the same stamped chat
// streams, in a synctest bubble, so the comparison is exact.
func TestEventDefinitionAgreesWithVLLM(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := servingtest.Realistic(1)
		srv := newBubbleServer(t, m)
		const n, maxTokens = 8, 128
		body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"a b c"}],"max_completion_tokens":%d,"ignore_eos":true,"stream":true}`, m.Name, maxTokens)
		for range n {
			resp, err := srv.Client().Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
			require.NoError(t, err)
			var all, content []time.Time
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
				if !ok || string(data) == "[DONE]" {
					continue
				}
				now := time.Now()
				var chunk struct {
					Choices []struct {
						Delta struct{ Content string }
					}
				}
				require.NoError(t, json.Unmarshal(data, &chunk))
				if len(chunk.Choices) > 0 {
					all = append(all, now)
					if chunk.Choices[0].Delta.Content != "" {
						content = append(content, now)
					}
				}
			}
			resp.Body.Close()
			require.Len(t, content, maxTokens)
			require.Len(t, all, maxTokens+1, "the role-only chunk is an event for vLLM")
			assert.Equal(t, content[0], all[0], "TTFT: the role-only chunk comes with the first token")
			assert.Equal(t, content[len(content)-1].Sub(content[0]), all[len(all)-1].Sub(all[0]), "sum of ITLs")
			ours := float64(content[len(content)-1].Sub(content[0])) / float64(len(content)-1)
			vllm := float64(all[len(all)-1].Sub(all[0])) / float64(len(all)-1)
			assert.InEpsilon(t, ours, vllm, 0.01, "mean ITL")
		}
	})
}
