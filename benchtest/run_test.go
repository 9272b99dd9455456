package benchtest_test

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// tiny is a scenario of a few milliseconds on the zero-cost server.
func tiny() scenarios.Scenario {
	return scenarios.Scenario{Name: "tiny", Dataset: scenarios.Random{InputLen: 16, OutputLen: 8}, NumPrompts: 8, IgnoreEOS: true}
}

var zero = benchtest.WithTarget(benchtest.Target{Sim: "zero"})

// benchmark runs f with testing.Benchmark under -test.benchtime=benchtime.
func benchmark(t *testing.T, benchtime string, f func(b *testing.B)) testing.BenchmarkResult {
	t.Helper()
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	require.NoError(t, bt.Value.Set(benchtime))
	defer bt.Value.Set(old)
	return testing.Benchmark(f)
}

// memUnits are the metrics Run reports without goodput SLOs or an SLA for
// a run with read times only (a simulated server listening in memory);
// units those of a run over loopback TCP, with the client lag's when its
// connections have kernel receive timestamps (withClientLag).
var (
	memUnits = []string{
		"e2el-mean-ns", "e2el-median-ns", "e2el-p99-ns", "failed",
		"itl-mean-ns", "itl-median-ns", "itl-p99-ns", "ns/op",
		"out-tok/s", "req/s", "tok/s",
		"tpot-mean-ns", "tpot-median-ns", "tpot-p99-ns",
		"ttft-mean-ns", "ttft-median-ns", "ttft-p99-ns",
	}
	units = withClientLag(memUnits)
)

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestRunReportsLastRun runs under -benchtime=3x, where b.Loop repeats the
// scenario three times whatever the machine's speed: the metrics are those
// of the returned report, the last run's.
func TestRunReportsLastRun(t *testing.T) {
	benchtest.ResetRuns()
	var rep *servingbench.Report
	runs := 0
	res := benchmark(t, "3x", func(b *testing.B) {
		rep = benchtest.Run(b, tiny(), zero, benchtest.WithClientConfig(func(c *servingbench.OpenAIConfig) {
			c.Endpoint = "/v1/completions"
		}), benchtest.WithClientConfig(func(*servingbench.OpenAIConfig) { runs++ }))
	})
	require.NotNil(t, rep, "Run returned no report")
	require.Equal(t, 3, res.N, "b.Loop iterations under -benchtime=3x")
	assert.Equal(t, 1, runs, "client configurations built, want one for all iterations")
	assert.Equal(t, units, sortedKeys(res.Extra), "units reported")
	assert.Equal(t, 8, rep.Completed)
	assert.Equal(t, 0.0, res.Extra["ns/op"], "ns/op is hidden with 0")
	assert.Equal(t, float64(rep.TTFT.Mean), res.Extra["ttft-mean-ns"])
	assert.Equal(t, float64(rep.TPOT.Median), res.Extra["tpot-median-ns"])
	p99, _ := rep.E2EL.Percentile(99)
	assert.Equal(t, float64(p99), res.Extra["e2el-p99-ns"])
	p99, _ = rep.ITL.Percentile(99)
	assert.Equal(t, float64(p99), res.Extra["itl-p99-ns"])
	assert.Equal(t, rep.RequestThroughput, res.Extra["req/s"])
	assert.Equal(t, rep.OutputThroughput, res.Extra["out-tok/s"])
	assert.Equal(t, rep.TotalTokenThroughput, res.Extra["tok/s"])
	assert.Equal(t, 0.0, res.Extra["failed"])
	assert.Equal(t, "sim-zero-cost", rep.Model)
	assert.Equal(t, "openai", rep.Backend, "benchtest.DefaultBackend")
	assert.Equal(t, "builtin:qwen3", rep.TokenizerID)
	assert.Equal(t, tiny().String(), rep.Metadata["scenario"])
	assert.Equal(t, servingtest.Version, rep.Metadata["server"], "the server's identity")
	assert.Regexp(t, `^[0-9a-f]{12}$`, rep.Metadata["server_id"], "the server's fingerprint")
	assert.Equal(t, "2", rep.Metadata["seed"], "seed of the third run")
	assert.NotContains(t, rep.Metadata, "server_version", "server_version is now server")
	assert.NotContains(t, rep.Metadata, "label", "no label set")
	assert.Equal(t, 8*8, rep.TotalOutputTokens, "ignore_eos passed on: every request generates max_tokens")
}

func TestRunOnceUnderFixedCount(t *testing.T) {
	var calls atomic.Int64
	res := benchmark(t, "1x", func(b *testing.B) {
		benchtest.Run(b, tiny(), zero, benchtest.WithClientConfig(func(c *servingbench.OpenAIConfig) {
			c.HTTPClient = &http.Client{Transport: countingTransport{&calls}}
		}))
	})
	assert.Equal(t, 1, res.N)
	assert.Equal(t, int64(8), calls.Load(), "completion requests sent under -benchtime=1x")
}

type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestRunGoodputAndSLAReport(t *testing.T) {
	var rep *servingbench.Report
	sla := servingbench.MustParseSLA("failed<=0 throughput>=1e12 ttft.p99<=1h")
	res := benchmark(t, "1x", func(b *testing.B) {
		rep = benchtest.Run(b, tiny(), zero,
			benchtest.WithGoodput(servingbench.SLO{TTFT: time.Hour}),
			benchtest.WithSLA(sla, benchtest.SLAReport))
	})
	require.Equal(t, 1, res.N, "a benchmark in report mode passes")
	want := append(slices.Clone(units), "goodput-req/s", "sla-violations")
	slices.Sort(want)
	assert.Equal(t, want, sortedKeys(res.Extra))
	assert.Equal(t, 1.0, res.Extra["sla-violations"], "throughput>=1e12 is the one violated limit")
	assert.Equal(t, rep.Goodput, res.Extra["goodput-req/s"])
	assert.Equal(t, rep.RequestThroughput, rep.Goodput, "every request meets a TTFT objective of an hour")
}

func TestRunSLAEnforceFails(t *testing.T) {
	sla := servingbench.MustParseSLA("throughput>=1e12")
	res := benchmark(t, "1x", func(b *testing.B) {
		benchtest.Run(b, tiny(), zero, benchtest.WithSLA(sla, benchtest.SLAEnforce))
	})
	assert.Zero(t, res.N, "a benchmark violating an enforced SLA fails (no result)")
	res = benchmark(t, "1x", func(b *testing.B) {
		benchtest.Run(b, tiny(), zero, benchtest.WithSLA(servingbench.MustParseSLA("failed<=0"), benchtest.SLAEnforce))
	})
	assert.Equal(t, 1, res.N, "a benchmark meeting its enforced SLA passes")
}

func TestRunChatBackend(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "chat-model"})
	defer srv.Close()
	var rep *servingbench.Report
	res := benchmark(t, "1x", func(b *testing.B) {
		rep = benchtest.Run(b, tiny(), benchtest.WithTarget(benchtest.Target{
			BaseURL: srv.URL + "/", Backend: "openai-chat", Model: "chat-model",
		}), benchtest.WithTokenizer(servingtest.WordTokenizer{}, "words"))
	})
	require.Equal(t, 1, res.N)
	assert.Equal(t, "openai-chat", rep.Backend)
	assert.Equal(t, "words", rep.TokenizerID)
	truth := srv.Truth()
	require.Len(t, truth, 8)
	for _, r := range truth {
		assert.Equal(t, "/v1/chat/completions", r.Endpoint, "endpoint of request %d", r.Index)
		assert.True(t, r.IgnoreEOS, "ignore_eos of request %d", r.Index)
	}
}

func TestRunFails(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "served"})
	defer srv.Close()
	words := benchtest.WithTokenizer(servingtest.WordTokenizer{}, "words")
	tests := []struct {
		name string
		sc   scenarios.Scenario
		opts []benchtest.Option
	}{
		{"all requests fail", tiny(), []benchtest.Option{words, benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "other"})}},
		{"bad target", tiny(), []benchtest.Option{benchtest.WithTarget(benchtest.Target{Backend: "deepspeed-mii"})}},
		{"bad scenario", scenarios.Scenario{Dataset: scenarios.Random{}}, []benchtest.Option{zero}},
		{"bad client configuration", tiny(), []benchtest.Option{zero, benchtest.WithClientConfig(func(c *servingbench.OpenAIConfig) { c.Endpoint = "v1" })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := benchmark(t, "1x", func(b *testing.B) { benchtest.Run(b, tt.sc, tt.opts...) })
			assert.Zero(t, res.N, "Run did not fail the benchmark")
		})
	}
}

func TestSweepNames(t *testing.T) {
	chat := scenarios.Chat()
	seed := scenarios.SeedRandom256()
	tests := []struct {
		name string
		scs  []scenarios.Scenario
		want []string
	}{
		{"rates", scenarios.RateSweep(chat, 1, 4, 16.5), []string{"rate=1", "rate=4", "rate=16.5"}},
		{"concurrency with no limit", scenarios.ConcurrencySweep(seed, 0, 64), []string{"concurrency=none", "concurrency=64"}},
		{"two keys", []scenarios.Scenario{chat, seed}, []string{
			"scenario=chat/out=256/range=0.5/n=1000/rate=8/warmup=none",
			"scenario=seed-random256/out=128/range=none/n=640/rate=inf/warmup=true",
		}},
		{"one scenario", []scenarios.Scenario{seed}, []string{"scenario=seed-random256"}},
		{"one unnamed scenario", []scenarios.Scenario{tiny()}, nil},
		{"none", nil, []string{}},
	}
	tests[4].scs[0].Name = ""
	tests[4].want = []string{tests[4].scs[0].String()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := benchtest.SweepNames(tt.scs)
			assert.Equal(t, tt.want, got, "SweepNames(%v) = %q, want %q", tt.scs, got, tt.want)
		})
	}
}

func TestSweep(t *testing.T) {
	var reps []*servingbench.Report
	benchmark(t, "1x", func(b *testing.B) {
		reps = benchtest.Sweep(b, scenarios.ConcurrencySweep(tiny(), 1, 4), zero)
	})
	require.Len(t, reps, 2)
	for i, c := range []int{1, 4} {
		require.NotNil(t, reps[i], "report of concurrency=%d", c)
		assert.Equal(t, c, reps[i].MaxConcurrency)
		assert.LessOrEqual(t, maxInFlight(reps[i].Results), c, "requests in flight at once with concurrency=%d", c)
	}
}

// TestRunUnderHTTPTest shows that a Target can be any OpenAI-compatible
// server, here one that refuses every request: the benchmark fails.
func TestRunUnderHTTPTest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	res := benchmark(t, "1x", func(b *testing.B) {
		benchtest.Run(b, tiny(), benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"}),
			benchtest.WithTokenizer(servingtest.WordTokenizer{}, "words"))
	})
	assert.Zero(t, res.N)
}

// maxInFlight is the largest number of results in flight (from Sent to
// Done) at once.
func maxInFlight(rs []*servingbench.Result) int {
	type event struct {
		at    time.Time
		delta int
	}
	var evs []event
	for _, r := range rs {
		evs = append(evs, event{r.Sent, 1}, event{r.Done, -1})
	}
	slices.SortFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // ends before starts at the same time
	})
	n, most := 0, 0
	for _, e := range evs {
		n += e.delta
		most = max(most, n)
	}
	return most
}
