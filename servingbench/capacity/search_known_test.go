package capacity_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// The tests in this file search the known-answer server (helpers_test.go)
// inside synctest bubbles: server and client read the bubble's fake clock,
// so every run is exact on any machine, however loaded.

// TestSearchConcurrencyKnownAnswer: the concurrency capacity of a server
// with K slots is exactly K. At K or fewer every request finds a slot
// (TTFT at most 2D = 20ms); at K+1 one request always waits for a slot, on
// average S/K = 100ms, over the 50ms limit.
func TestSearchConcurrencyKnownAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		var runs []capacity.Load
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			Dimension: capacity.MaxConcurrency,
			SLA:       knownSLA,
			Run:       capacity.ConfigRunner(knownConfig(t, srv, 100), evenly),
			OnRun:     func(l capacity.Load, trial int) { runs = append(runs, l) },
		})
		require.NoError(t, err)
		assert.Equal(t, float64(knownK), res.Capacity, "capacity")
		assert.False(t, res.AtLeast, "AtLeast")
		assert.Equal(t, capacity.StopResolved, res.Stop)
		// Doubling 1, 2, 4, 8, then bisecting [4, 8]: 6, 5.
		assert.Equal(t, []float64{1, 2, 4, 8, 6, 5}, values(res))
		assert.Equal(t, []bool{true, true, true, false, false, false}, verdicts(res))
		assert.Len(t, runs, 6, "no point was near enough the limit to be repeated")
		assert.Equal(t, 100, res.Requests, "a p99 is judged on 100 requests")
		for _, p := range res.Points {
			assert.Equal(t, 100, p.Load.Requests, "%v", p.Load)
			assert.Equal(t, 100, p.Report().Completed, "%v: errors %v", p.Load, p.Report().Errors)
			assert.True(t, p.Load.RateIsInf(), "%v", p.Load)
		}
		best := res.Best()
		require.NotNil(t, best)
		assert.Equal(t, knownK, best.Load.Concurrency)
		ttft, _ := best.Report().TTFT.Percentile(99)
		assert.LessOrEqual(t, ttft, 2*knownD, "p99 TTFT at the capacity")
		lim := res.Limiting()
		require.NotNil(t, lim)
		assert.Equal(t, knownK+1, lim.Load.Concurrency)
		ttft, _ = lim.Report().TTFT.Percentile(99)
		assert.Greater(t, ttft, knownS/knownK, "p99 TTFT one slot short")
		assert.Contains(t, res.Reason(), "max-concurrency=5: ttft.p99 = ")
	})
}

// TestSearchRateKnownAnswer: with evenly spaced arrivals, a server of K
// slots and service time S carries K/S requests per second (10 here).
// Below it no request waits for a slot; above it the queue grows with
// every request, so the p99 TTFT of 100 requests passes the limit within
// a few percent of K/S; the bisection stops within 5%.
func TestSearchRateKnownAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			SLA: knownSLA,
			Run: capacity.ConfigRunner(knownConfig(t, srv, 100), evenly),
		})
		require.NoError(t, err)
		want := float64(knownK) / knownS.Seconds()
		assert.InEpsilon(t, want, res.Capacity, 0.10, "rate capacity %v, want %v within 10%%", res.Capacity, want)
		assert.False(t, res.AtLeast)
		assert.Equal(t, capacity.StopResolved, res.Stop)
		lim := res.Limiting()
		require.NotNil(t, lim)
		assert.LessOrEqual(t, lim.Value-res.Capacity, 0.05*res.Capacity, "bracket [%v, %v] within 5%%", res.Capacity, lim.Value)
		assert.Equal(t, []float64{1, 2, 4, 8, 16}, values(res)[:5], "doubling from 1 req/s")
		for _, p := range res.Points {
			assert.Equal(t, p.Value <= want, p.Pass, "rate %v: verdict", p.Value)
		}
	})
}

// TestSearchNeverPasses: an SLA tighter than the unqueued TTFT fails at
// the lowest load, so the capacity is 0 and the reason says by how much.
// At concurrency 1 the engine is idle when each request arrives, so its
// TTFT is exactly one step.
func TestSearchNeverPasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			Dimension: capacity.MaxConcurrency,
			SLA:       servingbench.MustParseSLA("ttft.p99<=5ms"),
			Start:     4,
			Run:       capacity.ConfigRunner(knownConfig(t, srv, 100), evenly),
		})
		require.NoError(t, err)
		assert.Equal(t, 0.0, res.Capacity)
		assert.False(t, res.AtLeast)
		assert.Equal(t, capacity.StopMinLoad, res.Stop)
		assert.Equal(t, []float64{4, 2, 1}, values(res), "halving from Start to Min")
		assert.Nil(t, res.Best())
		assert.Equal(t, "max-concurrency=1: ttft.p99 = 10ms, want <= 5ms (+100.0%)", res.Reason())
	})
}

// TestSearchPassesAtMax: a Max at or below the capacity passes, and the
// capacity is reported as at least Max.
func TestSearchPassesAtMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		cfg := knownConfig(t, srv, 100)
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			Dimension: capacity.MaxConcurrency, SLA: knownSLA, Max: 3,
			Run: capacity.ConfigRunner(cfg, evenly),
		})
		require.NoError(t, err)
		assert.Equal(t, 3.0, res.Capacity)
		assert.True(t, res.AtLeast, "AtLeast")
		assert.Equal(t, capacity.StopMaxLoad, res.Stop)
		assert.Equal(t, []float64{1, 2, 3}, values(res), "doubling clamped to Max")
		assert.Equal(t, "", res.Reason(), "no point failed")

		rate, err := capacity.Search(t.Context(), capacity.SearchConfig{
			SLA: knownSLA, Start: 2, Max: 6, Run: capacity.ConfigRunner(cfg, evenly),
		})
		require.NoError(t, err)
		assert.Equal(t, 6.0, rate.Capacity)
		assert.True(t, rate.AtLeast)
		assert.Equal(t, []float64{2, 4, 6}, values(rate))
	})
}

// TestSearchRunsOnFakeTime: the search takes the simulated time its runs
// take, and Elapsed measures it on the same clock.
func TestSearchRunsOnFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		begin := time.Now()
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{
			Dimension: capacity.MaxConcurrency, SLA: knownSLA, Max: 1,
			Run: capacity.ConfigRunner(knownConfig(t, srv, 100), evenly),
		})
		require.NoError(t, err)
		// 100 requests one at a time, each exactly S.
		assert.Equal(t, 100*knownS, time.Since(begin))
		assert.Equal(t, 100*knownS, res.Elapsed)
		assert.Equal(t, 100*knownS, res.Points[0].Report().Duration)
	})
}
