package benchtest_test

import (
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The tests in this file search the known-answer server (known_test.go)
// inside synctest bubbles.

var concurrencySearch = benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency})

// values returns the points' loads on the search's dimension.
func values(r *capacity.SearchResult) []float64 {
	out := make([]float64, len(r.Points))
	for i, p := range r.Points {
		out[i] = p.Value
	}
	return out
}

// TestCapacityConcurrencyKnownAnswer: the concurrency capacity of a server
// with K slots is exactly K, reported as capacity-concurrency with the
// metrics of the run at K. At K or fewer every request finds a slot; at
// K+1 one request always waits for a slot, on average S/K = 100ms, over
// the 50ms limit. Every run draws its prompts with the next seed.
func TestCapacityConcurrencyKnownAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		benchtest.ResetRuns()
		srv := knownServer(t)
		var res *capacity.SearchResult
		r := benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), knownSLA, benchtest.WithServer(srv), concurrencySearch)
		})
		require.Equal(t, 1, r.N, "the benchmark passed")
		require.NotNil(t, res)
		assert.Equal(t, float64(knownK), r.Extra["capacity-concurrency"], "capacity-concurrency")
		assert.Equal(t, float64(knownK), res.Capacity)
		assert.False(t, res.AtLeast)
		assert.Equal(t, capacity.StopResolved, res.Stop)
		assert.Equal(t, []float64{1, 2, 4, 8, 6, 5}, values(res), "doubling 1, 2, 4, 8, then bisecting [4, 8]")
		assert.Equal(t, knownSLA.String(), res.SLA.String(), "an SLA bounding failures is judged as it is")

		// The simulated server's /metrics over the best point's run, of
		// more than a second: its gauges were scraped (vLLM's names).
		want := append([]string{"capacity-concurrency", benchtest.UnitServerKVCachePeak, benchtest.UnitServerRunningPeak, benchtest.UnitServerWaitingPeak}, memUnits...)
		assert.ElementsMatch(t, want, sortedKeys(r.Extra), "units reported")
		assert.Equal(t, 0.0, r.Extra["ns/op"], "ns/op is hidden with 0")
		best := res.Best().Report()
		p99, _ := best.TTFT.Percentile(99)
		assert.Equal(t, float64(p99), r.Extra["ttft-p99-ns"], "the metrics are the best point's")
		assert.LessOrEqual(t, p99, 2*knownD, "p99 TTFT at the capacity")
		assert.Equal(t, best.RequestThroughput, r.Extra["req/s"])
		// K requests every S (and a step: a slot freed at a step boundary
		// is taken at the next).
		assert.InEpsilon(t, float64(knownK)/knownS.Seconds(), best.RequestThroughput, 0.05, "K requests every S at concurrency K")
		assert.Equal(t, 0.0, r.Extra["failed"])
		assert.Equal(t, knownK, best.MaxConcurrency)

		for i, p := range res.Points {
			rep := p.Report()
			assert.Equal(t, strconv.Itoa(i), rep.Metadata["seed"], "seed of run %d: a fresh prompt set per point", i)
			assert.Equal(t, knownScenario().Name, "known")
			assert.Contains(t, rep.Metadata["scenario"], "/concurrency="+strconv.Itoa(p.Load.Concurrency), "the point's scenario")
			assert.Contains(t, rep.Metadata["scenario"], "/rate=inf/", "the scenario's rate is kept")
			assert.Equal(t, servingtest.Version, rep.Metadata["server"])
			assert.Equal(t, 100, rep.Completed, "%v", p.Load)
		}
		assert.Len(t, srv.Truth(), 6*100, "the caller's server keeps every run's records")
	})
}

// TestCapacityNeverPasses: an SLA tighter than the unqueued TTFT (one
// step) fails at the lowest load: the capacity is 0, reported as a
// measurement (the benchmark passes) with no other metric, and the reason
// says by how much.
func TestCapacityNeverPasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := knownServer(t)
		var res *capacity.SearchResult
		r := benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), servingbench.MustParseSLA("ttft.p99<=5ms"), benchtest.WithServer(srv),
				benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Start: 4}))
		})
		require.Equal(t, 1, r.N, "a capacity of 0 is a result, not a failure")
		assert.Equal(t, map[string]float64{"capacity-concurrency": 0, "ns/op": 0}, r.Extra)
		assert.Equal(t, 0.0, res.Capacity)
		assert.Equal(t, capacity.StopMinLoad, res.Stop)
		assert.Equal(t, []float64{4, 2, 1}, values(res), "halving from Start to Min")
		assert.Nil(t, res.Best())
		assert.Equal(t, "ttft.p99<=5ms failed<=0", res.SLA.String(), "failed<=0 added to an SLA that bounds no failures")
		assert.Equal(t, "max-concurrency=1: ttft.p99 = 10ms, want <= 5ms (+100.0%)", res.Reason())
	})
}

// TestCapacityAtLeast: a Max at or below the capacity passes, and the
// capacity is at least Max, in either dimension.
func TestCapacityAtLeast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := knownServer(t)
		var res *capacity.SearchResult
		r := benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), knownSLA, benchtest.WithServer(srv),
				benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Max: 3}))
		})
		require.Equal(t, 1, r.N)
		assert.Equal(t, 3.0, r.Extra["capacity-concurrency"])
		assert.True(t, res.AtLeast, "AtLeast")
		assert.Equal(t, capacity.StopMaxLoad, res.Stop)
		assert.Equal(t, []float64{1, 2, 3}, values(res), "doubling clamped to Max")

		// Poisson arrivals at a tenth of K/S and below: a request almost
		// never finds every slot taken.
		r = benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), knownSLA, benchtest.WithServer(srv),
				benchtest.WithSearch(capacity.SearchConfig{Start: 0.5, Max: 1}))
		})
		require.Equal(t, 1, r.N)
		assert.Equal(t, 1.0, r.Extra["capacity-req/s"])
		assert.NotContains(t, r.Extra, "capacity-concurrency")
		assert.True(t, res.AtLeast)
		assert.Equal(t, []float64{0.5, 1}, values(res))
		for _, p := range res.Points {
			assert.Contains(t, p.Report().Metadata["scenario"], "/rate="+strconv.FormatFloat(p.Value, 'g', -1, 64), "the point's rate")
			assert.InEpsilon(t, p.Value, p.Report().RequestThroughput, 0.3, "throughput at rate %v", p.Value)
		}
	})
}

// TestCapacityFailuresAreData: requests that fail make a point fail, and
// the benchmark goes on. Every 10th request fails with HTTP 500: under
// failed<=0 no load passes; a failure budget of 10 a run accepts them, and
// the capacity is K again.
func TestCapacityFailuresAreData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := knownServer(t, servingtest.Fault{Kind: servingtest.FaultInternal, Every: 10})
		var res *capacity.SearchResult
		r := benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), servingbench.MustParseSLA("ttft.p99<=50ms"), benchtest.WithServer(srv), concurrencySearch)
		})
		require.Equal(t, 1, r.N, "failed requests do not fail the benchmark")
		assert.Equal(t, 0.0, r.Extra["capacity-concurrency"])
		assert.Equal(t, []float64{1}, values(res), "Min is 1 for concurrency")
		assert.Equal(t, "max-concurrency=1: failed = 10, want <= 0 (+10)", res.Reason())

		r = benchmark(t, "1x", func(b *testing.B) {
			res = benchtest.Capacity(b, knownScenario(), servingbench.MustParseSLA("ttft.p99<=50ms"), benchtest.WithServer(srv), concurrencySearch,
				benchtest.WithFailureBudget(10))
		})
		require.Equal(t, 1, r.N)
		assert.Equal(t, "ttft.p99<=50ms failed<=10", res.SLA.String())
		assert.Equal(t, float64(knownK), r.Extra["capacity-concurrency"])
		assert.Equal(t, 10.0, r.Extra["failed"], "the best point's failures")
	})
}

// TestCapacityFails: what is not a measurement fails the benchmark, before
// any request when it can be told before.
func TestCapacityFails(t *testing.T) {
	few := knownScenario()
	few.NumPrompts = 50
	tests := []struct {
		name   string
		sc     scenarios.Scenario
		sla    servingbench.SLA
		opts   []benchtest.Option
		faults []servingtest.Fault
		sent   bool // whether requests were sent first
	}{
		{name: "too few prompts for a p99", sc: few, sla: knownSLA},
		{name: "SLA without limits", sc: knownScenario()},
		{name: "WithSLA", sc: knownScenario(), sla: knownSLA, opts: []benchtest.Option{benchtest.WithSLA(knownSLA, benchtest.SLAReport)}},
		{name: "WithSearch sets Requests", sc: knownScenario(), sla: knownSLA, opts: []benchtest.Option{benchtest.WithSearch(capacity.SearchConfig{Requests: 100})}},
		{name: "Max above the prompts", sc: knownScenario(), sla: knownSLA, opts: []benchtest.Option{
			benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Max: 200}),
		}},
		{name: "bad scenario", sc: scenarios.Scenario{Dataset: scenarios.Random{}}, sla: knownSLA},
		{name: "ramped scenario", sc: scenarios.RampUp(knownScenario(), servingbench.RampLinear, 1, 8), sla: knownSLA},
		{name: "no request ever succeeds", sc: knownScenario(), sla: knownSLA, faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable}}, sent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := knownServer(t, tt.faults...)
				r := benchmark(t, "1x", func(b *testing.B) {
					benchtest.Capacity(b, tt.sc, tt.sla, append([]benchtest.Option{benchtest.WithServer(srv)}, tt.opts...)...)
				})
				assert.Zero(t, r.N, "Capacity did not fail the benchmark")
				assert.Equal(t, tt.sent, len(srv.Truth()) > 0, "requests sent: %d", len(srv.Truth()))
			})
		})
	}
}

// TestRunRefusesWithSearch: WithSearch configures a search, which Run
// does not make.
func TestRunRefusesWithSearch(t *testing.T) {
	res := benchmark(t, "1x", func(b *testing.B) {
		benchtest.Run(b, tiny(), zero, benchtest.WithSearch(capacity.SearchConfig{}))
	})
	assert.Zero(t, res.N)
}
