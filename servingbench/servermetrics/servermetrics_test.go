package servermetrics_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench/servermetrics"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// pagesServer serves pages in turn on GET /metrics, one a request (the
// last again once they run out; "500" answers 500), on an in-memory
// listener: call it inside a synctest bubble.
func pagesServer(t *testing.T, pages ...string) *servermetrics.Scraper {
	t.Helper()
	var n atomic.Int32
	ln := servingtest.NewListener()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(pages)-1)
		if pages[i] == "500" {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(pages[i]))
	})}
	go srv.Serve(ln)
	client := &http.Client{Transport: &http.Transport{DialContext: ln.DialContext}}
	t.Cleanup(func() { srv.Close(); client.CloseIdleConnections() })
	url := "http://" + ln.Addr().String() + "/metrics"
	return &servermetrics.Scraper{URL: url, Get: func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}}
}

// watch runs a "run" of d on the bubble's clock between Before and End.
func watch(t *testing.T, s *servermetrics.Scraper, d time.Duration) *servermetrics.Summary {
	t.Helper()
	ctx := context.Background()
	w := s.Before(ctx)
	start := time.Now()
	w.Begin(ctx, start)
	time.Sleep(d)
	return w.End(ctx, time.Now())
}

func page(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

// TestKnownPages: each server's page (testdata, see its README for the
// sources) after an empty one, over a 1.5 s run scraped at 1 s: every
// counter's delta is its value (it appeared during the run), every gauge
// the one scrape's value, and the figures of the server's known names.
func TestKnownPages(t *testing.T) {
	for _, tc := range []struct {
		file, server                string
		prompt, generation, hitRate float64
		running, waiting, kv        float64
		hasKV, hasPreempt, hasSpec  bool
		preemptions                 float64
		specRate, specLen           float64
		perPos                      []float64
	}{
		{file: "vllm.txt", server: "vLLM", prompt: 2048, generation: 256, hitRate: 0.25, running: 3, waiting: 1, kv: 0.25, hasKV: true,
			hasPreempt: true, preemptions: 2, hasSpec: true, specRate: 50, specLen: 2.5, perPos: []float64{0.8, 0.5, 0.2}},
		{file: "llamacpp.txt", server: "llama.cpp", prompt: 66 + 122, generation: 6986, hitRate: 122.0 / 188, running: 0, waiting: 0},
		{file: "sglang.txt", server: "SGLang", prompt: 1000, generation: 400, hitRate: 0.25, running: 5, waiting: 2, kv: 0.4, hasKV: true, hasPreempt: true, preemptions: 1},
		{file: "tgi.txt", server: "TGI", prompt: 1600, generation: 640, running: 8, waiting: 4},
	} {
		t.Run(tc.server, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := watch(t, pagesServer(t, "", page(t, tc.file)), 1500*time.Millisecond)
				require.True(t, s.Scraped(), "%v", s.Err)
				assert.Equal(t, tc.server, s.Server.Server)
				assert.Equal(t, 3, s.Scrapes)
				assert.Empty(t, s.Warnings)
				v, _, ok := s.PromptTokens()
				assert.True(t, ok)
				assert.Equal(t, tc.prompt, v, "prompt tokens")
				v, _, ok = s.GenerationTokens()
				assert.True(t, ok)
				assert.Equal(t, tc.generation, v, "generation tokens")
				rate, ok := s.PrefixCacheHitRate()
				assert.Equal(t, tc.hitRate != 0, ok)
				assert.InDelta(t, tc.hitRate, rate, 1e-12, "prefix cache hit rate")
				g, ok := s.Running()
				assert.True(t, ok)
				assert.Equal(t, servermetrics.GaugeStat{Mean: tc.running, Max: tc.running, N: 1}, g, "running")
				g, ok = s.Waiting()
				assert.True(t, ok)
				assert.Equal(t, tc.waiting, g.Max, "waiting")
				g, ok = s.KVCacheUsage()
				assert.Equal(t, tc.hasKV, ok)
				assert.Equal(t, tc.kv, g.Max, "KV cache")
				p, ok := s.Preemptions()
				assert.Equal(t, tc.hasPreempt, ok)
				assert.Equal(t, tc.preemptions, p)
				sd, ok := s.SpecDecode()
				assert.Equal(t, tc.hasSpec, ok, "spec decode (llama.cpp's counters are 0: no drafts, nothing reported, as vLLM's benchmark does)")
				assert.Equal(t, tc.specRate, sd.AcceptanceRate)
				assert.Equal(t, tc.specLen, sd.AcceptanceLength)
				assert.Equal(t, tc.perPos, sd.PerPosition)
			})
		})
	}
}

// TestKinds: a series is a counter or a gauge by its # TYPE line, an
// untyped one by its name; a histogram's buckets are counters (in
// Counters) but not in the samples.
func TestKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := watch(t, pagesServer(t, "", page(t, "vllm.txt")+"untyped_total 7\nuntyped_level 3\n"), 1500*time.Millisecond)
		require.True(t, s.Scraped())
		assert.Equal(t, 7.0, s.Counters["untyped_total"])
		assert.Equal(t, servermetrics.GaugeStat{Mean: 3, Max: 3, N: 1}, s.Gauges["untyped_level"])
		assert.Equal(t, 6.0, s.Counters[`vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="qwen"}`])
		assert.Equal(t, 0.9, s.Counters[`vllm:time_to_first_token_seconds_sum{engine="0",model_name="qwen"}`])
		assert.Contains(t, s.Gauges, `vllm:prompt_tokens_created{engine="0",model_name="qwen"}`, "prometheus_client's _created is typed gauge")
		for _, sm := range s.Samples {
			for k := range sm.Values {
				assert.NotContains(t, k, "_bucket{")
			}
		}
	})
}

// TestResetAndFailures: a counter that goes down mid-run (a restart)
// counts from 0 after it and is said; a scrape answered 500 is counted
// and said; the run is not failed.
func TestResetAndFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := func(v string) string { return "# TYPE reqs_total counter\nreqs_total " + v + "\n" }
		sc := pagesServer(t, c("10"), c("20"), c("5"), "500", c("8"))
		s := watch(t, sc, 3500*time.Millisecond) // before, 1 s, 2 s, 3 s (500), after
		require.True(t, s.Scraped())
		assert.Equal(t, 4, s.Scrapes)
		assert.Equal(t, 1, s.FailedScrapes)
		assert.Equal(t, 10.0+5+3, s.Counters["reqs_total"], "10 to 20, reset to 5, 5 to 8")
		require.Len(t, s.Resets, 1)
		assert.Equal(t, servermetrics.Reset{Series: "reqs_total", From: 20, To: 5, At: s.Start.Add(2 * time.Second)}, s.Resets[0])
		var warns []string
		for _, w := range s.Warnings {
			warns = append(warns, w.Error())
		}
		assert.Equal(t, []string{
			"server metrics: 1 of 5 scrapes of " + sc.URL + " failed (the first: GET " + sc.URL + ": 500); the run went on",
			"server metrics: counter reqs_total went down from 20 to 5 at 2.0 s into the run (the server restarted?): its delta counts from 0 after the reset",
		}, warns)
	})
}

// TestCheckTokens: more than 1% apart is a warning naming both numbers
// and the usual causes; within 1% is none.
func TestCheckTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := watch(t, pagesServer(t, "", page(t, "vllm.txt")), 1500*time.Millisecond)
		assert.Empty(t, s.CheckTokens(2048, 256, 0))
		assert.Empty(t, s.CheckTokens(2028, 254, 0), "within 1%")
		warns := s.CheckTokens(2000, 256, 2)
		require.Len(t, warns, 1)
		assert.Equal(t, "server metrics: the server counted 2048 prompt tokens (the delta of vllm:prompt_tokens_total), the client 2000 input tokens: more than 1% apart; "+
			"usually a tokenizer mismatch (pass --tokenizer with the served model's), usage not reported (counts from the tokenizer or from token events), "+
			"or another client's traffic on the server during the run, or the 2 failed requests, which the server may have counted", warns[0].Error())
	})
}

// TestScrapeErrors: a page that does not parse is an error naming the
// URL and the parser's line; a status other than 200 a *StatusError.
func TestScrapeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := pagesServer(t, "# TYPE x counter\nx{a=\"1\" 3\n", "500")
		_, _, err := sc.Scrape(context.Background())
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "GET "+sc.URL+": promtext: "), err.Error())
		assert.Contains(t, err.Error(), "line 2")
		_, _, err = sc.Scrape(context.Background())
		var se *servermetrics.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 500, se.StatusCode)
	})
}
