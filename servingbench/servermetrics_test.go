package servingbench_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servermetrics"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// metricsRun benchmarks srv with n requests of promptWords words and
// maxTokens tokens, at most conc in flight, scraping its /metrics every
// second, inside a synctest bubble.
func metricsRun(t *testing.T, srv *servingtest.Server, n, conc, promptWords, maxTokens int) *servingbench.Report {
	t.Helper()
	cfg := bubbleConfig(srv)
	cfg.IgnoreEOS = true
	client, err := servingbench.NewCompletions(cfg)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		words := make([]string, promptWords)
		for j := range words {
			words[j] = fmt.Sprintf("w%d_%d", i, j)
		}
		reqs[i] = servingbench.Request{Prompt: strings.Join(words, " "), MaxTokens: maxTokens}
	}
	scraper := &servermetrics.Scraper{
		URL: srv.URL + "/metrics",
		Get: func(ctx context.Context) (*http.Response, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/metrics", nil)
			if err != nil {
				return nil, err
			}
			return srv.Client().Do(req)
		},
	}
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, MaxConcurrency: conc, Warmup: true, ServerMetrics: scraper,
	})
	require.NoError(t, err)
	return rep
}

// TestServerMetricsExact scrapes the simulated server (vLLM's names,
// servingtest/metrics.go) every second of a 48-request run in a synctest
// bubble, where the scrapes, the engine and the client share the fake
// clock. Every step is 7 ms (no per-token prefill, no per-sequence
// decode cost), so no step ends on a whole second of the run (the first
// would be at 7 s, after the run's 4.2 s) and each scrape sees a settled server. Then exactly:
// the counter deltas are the server's own counts of the run's requests
// (its records: the warm-up, sent before the first scrape, is not
// counted) and our totals; at every scrape running + waiting is the
// client's in-flight count at that instant (TimeSeries.InFlight), running
// never exceeds the batch (MaxRunning 4) and reaches it; the gauges' mean
// and max are those of the samples.
func TestServerMetricsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := servingtest.Model{Name: "sim-7ms", DecodeBase: 7 * time.Millisecond, MaxRunning: 4, KVCacheTokens: 4096}
		srv := newBubbleServer(t, m)
		rep := metricsRun(t, srv, 48, 12, 16, 50)
		require.Equal(t, 48, rep.Completed, "errors: %v", rep.Errors)
		sm := rep.ServerMetrics
		require.True(t, sm.Scraped(), "scraped: %v", sm.Err)
		assert.Equal(t, "vLLM", sm.Server.Server)

		// 48 requests, 4 at a time, 50 tokens at 7 ms each (the first in
		// the prefill's step): 12 rounds of 50 steps, 4.2 s. A request sent
		// at the very instant a step starts joins that step or the next,
		// as the bubble's scheduler orders the two goroutines, so a round
		// may start a step late: whole steps, at most one a round.
		const step = 7 * time.Millisecond
		assert.Zero(t, rep.Duration%step, "Duration %v: whole steps", rep.Duration)
		assert.True(t, rep.Duration >= 12*50*step && rep.Duration <= 12*51*step, "Duration %v, want 12 rounds of 50 steps, each up to a step late", rep.Duration)
		during := int(rep.Duration / time.Second) // scrapes at 1 s .. 4 s
		assert.Equal(t, during+2, sm.Scrapes, "Scrapes: before, every second, after")
		assert.Zero(t, sm.FailedScrapes)
		assert.Empty(t, sm.Warnings)

		truth := srv.Truth()
		require.Len(t, truth, 49, "the warm-up and the run")
		var prompt, output int
		for _, r := range truth[1:] { // the warm-up came first
			prompt += r.PromptTokens
			output += r.OutputTokens
		}
		got, names, ok := sm.PromptTokens()
		require.True(t, ok)
		assert.Equal(t, "vllm:prompt_tokens_total", names)
		assert.Equal(t, float64(prompt), got, "prompt tokens: the server's records")
		assert.Equal(t, float64(rep.TotalInputTokens), got, "prompt tokens: ours")
		gen, _, _ := sm.GenerationTokens()
		assert.Equal(t, float64(output), gen, "generation tokens: the server's records")
		assert.Equal(t, float64(48*50), gen, "generation tokens")
		label := `{model_name="sim-7ms"}`
		assert.Equal(t, float64(output), sm.Counters["vllm:generation_tokens_total"+label], "the series by its full name")

		ts := rep.TimeSeries()
		require.Len(t, ts.Server.At, during+1, "a value a bucket")
		var sumRunning float64
		for i := range during {
			at := ts.Server.At[i]
			require.Equal(t, time.Duration(i+1)*time.Second, at, "bucket %d: the scrape at its end, on the run's clock", i)
			running, waiting := ts.Server.Running[i], ts.Server.Waiting[i]
			assert.Equal(t, float64(ts.InFlight[i]), running+waiting, "at %v: running + waiting = the client's in flight", at)
			assert.Equal(t, 4.0, running, "at %v: the batch is full", at)
			sumRunning += running
		}
		assert.True(t, math.IsNaN(ts.Server.Running[during]), "no scrape in the last bucket, which holds the end")
		// The client series, from the server's own records on the same
		// clock: dispatches, ends, tokens and first tokens by second.
		n := len(ts.Dispatched)
		require.Equal(t, during+1, n, "buckets up to the one holding the end")
		wantDone, wantTok, wantTTFTs := make([]int, n), make([]float64, n), make([]int, n)
		var wantMax []time.Duration = make([]time.Duration, n)
		for _, r := range truth[1:] {
			wantDone[int(r.Done.Sub(rep.Date)/time.Second)]++
			for i, c := range r.Chunks {
				wantTok[int(c.Sub(rep.Date)/time.Second)] += float64(r.ChunkTokens[i])
			}
			b := int(r.Chunks[0].Sub(rep.Date) / time.Second)
			wantTTFTs[b]++
			wantMax[b] = max(wantMax[b], r.Chunks[0].Sub(r.Received))
		}
		assert.Equal(t, wantDone, ts.Completed, "completed by second")
		assert.Equal(t, make([]int, n), ts.Failed)
		assert.Equal(t, wantTok, ts.OutputTokens, "output tokens by second")
		assert.Equal(t, wantTTFTs, ts.TTFTCount, "first tokens by second")
		assert.Equal(t, wantMax, ts.TTFTMax, "max TTFT by second")
		assert.Equal(t, rep.PeakOutputThroughput, slices.Max(ts.OutputTokens), "the peak is the series' max")
		// 12 dispatched at once, then 4 as each round of the batch ends
		// (every 350 ms): 20 in the first second, 12 in the next two, 4.
		assert.Equal(t, []int{20, 12, 12, 4, 0}, ts.Dispatched, "dispatched by second")

		g, ok := sm.Running()
		require.True(t, ok)
		assert.Equal(t, servermetrics.GaugeStat{Mean: sumRunning / float64(during), Max: 4, N: during}, g, "running")
		w, ok := sm.Waiting()
		require.True(t, ok)
		assert.Equal(t, float64(ts.InFlight[0]-4), w.Max, "waiting peaks at the first second")
		// The result file keeps them, and its reader reads them back.
		var buf bytes.Buffer
		require.NoError(t, servingbench.WriteJSON(&buf, rep, servingbench.JSONOptions{Detailed: true}))
		back, err := servingbench.ReadJSON(&buf)
		require.NoError(t, err)
		require.True(t, back.ServerMetrics.Scraped())
		assert.Equal(t, sm.Counters, back.ServerMetrics.Counters, "counters read back")
		assert.Equal(t, sm.Scrapes, back.ServerMetrics.Scrapes)
		assert.Equal(t, "vLLM", back.ServerMetrics.Server.Server)
		assert.NotContains(t, back.Metadata, "server_metrics")
		bg, ok := back.ServerMetrics.Running()
		require.True(t, ok, "one series: its gauge from the file")
		assert.InDelta(t, g.Mean, bg.Mean, 1e-9)

		kv, ok := sm.KVCacheUsage()
		require.True(t, ok)
		assert.Greater(t, kv.Max, 0.0)
		assert.LessOrEqual(t, kv.Max, 1.0)
	})
}

// TestServerMetricsNotScraped: a server without /metrics is one line,
// not an error, and nothing in the block.
func TestServerMetricsNotScraped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.NewServeMux()
		h.HandleFunc("/metrics", http.NotFound)
		bs := newBubbleHTTPServer(t, h, nil)
		s := &servermetrics.Scraper{URL: bs.URL + "/metrics", Get: func(ctx context.Context) (*http.Response, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, bs.URL+"/metrics", nil)
			return bs.Client.Do(req)
		}}
		w := s.Before(context.Background())
		w.Begin(context.Background(), time.Now())
		time.Sleep(3 * time.Second)
		sum := w.End(context.Background(), time.Now())
		require.False(t, sum.Scraped())
		assert.Equal(t, "server metrics: GET "+bs.URL+"/metrics: 404, not scraped", sum.NotScraped())
		var b strings.Builder
		require.NoError(t, servingbench.WriteText(&b, &servingbench.Report{ServerMetrics: sum}, servingbench.TextOptions{}))
		assert.NotContains(t, b.String(), "Server Metrics")
	})
}
