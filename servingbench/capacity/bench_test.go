package capacity_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// BenchmarkSearch measures how long a capacity search takes against the
// simulated server over loopback, in real time: the known-answer model
// with 4 slots and 20 steps of 5ms a request (S = 100ms, so 4 concurrent
// requests or 40 req/s), an SLA of ttft.p99<=20ms (an unqueued request
// waits at most 2 steps, a fifth concurrent one 25ms on average), 100
// requests a point.
// An iteration is one whole search; sec/op is its duration, and it
// reports the capacity found and the points it tried. Run it with
//
//	go test -run '^$' -bench BenchmarkSearch -benchtime 1x -count 3 ./servingbench/capacity
//
// The capacity found on a busy machine may fall short of the known one
// (timer and scheduling delays add to the TTFT): it is a measurement, not
// a check.
func BenchmarkSearch(b *testing.B) {
	const k, step, tokens = 4, 5 * time.Millisecond, 20
	sla := servingbench.MustParseSLA("ttft.p99<=20ms failed<=0")
	for _, bc := range []struct {
		name string
		cfg  capacity.SearchConfig
		want float64
	}{
		{"search=max-concurrency", capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Start: 2}, k},
		{"search=request-rate", capacity.SearchConfig{Start: 20}, k / (tokens * step).Seconds()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := servingtest.NewServer(servingtest.FixedService(k, step))
			defer srv.Close()
			client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{
				BaseURL: srv.URL, Model: srv.Model().Name, IgnoreEOS: true,
			})
			require.NoError(b, err)
			defer client.Close()
			reqs := make([]servingbench.Request, 100)
			for i := range reqs {
				reqs[i] = servingbench.Request{Prompt: "a b c d", MaxTokens: tokens}
			}
			cfg := bc.cfg
			cfg.SLA = sla
			cfg.Run = capacity.ConfigRunner(servingbench.Config{Client: client, Requests: reqs}, evenly)
			var res *capacity.SearchResult
			for b.Loop() {
				res, err = capacity.Search(b.Context(), cfg)
				require.NoError(b, err)
			}
			b.ReportMetric(res.Capacity, "capacity-"+res.Dimension.Unit())
			b.ReportMetric(float64(len(res.Points)), "points")
			b.Logf("capacity %v (known %v), %d points, stopped: %s", res.Capacity, bc.want, len(res.Points), res.Stop)
		})
	}
}
