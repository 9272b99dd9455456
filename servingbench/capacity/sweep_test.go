package capacity_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

func concurrencies(cs ...int) []capacity.Load {
	out := make([]capacity.Load, len(cs))
	for i, c := range cs {
		out[i] = capacity.Load{Concurrency: c, Requests: 40}
	}
	return out
}

func TestSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		var started, finished []int
		res, err := capacity.Sweep(t.Context(), concurrencies(1, 4, 8), capacity.ConfigRunner(knownConfig(t, srv, 40), evenly), capacity.SweepOptions{
			OnStart: func(i int, l capacity.Load) { started = append(started, i) },
			OnPoint: func(i int, p capacity.SweepPoint) { finished = append(finished, i) },
		})
		require.NoError(t, err)
		assert.Equal(t, []int{0, 1, 2}, started)
		assert.Equal(t, []int{0, 1, 2}, finished)
		require.Len(t, res.Points, 3)
		assert.Nil(t, res.Interrupted)
		// One request at a time, each takes exactly S; beyond one, the
		// throughput grows up to the K slots, then stays at K/S.
		assert.Equal(t, 40*knownS, res.Points[0].Report.Duration)
		for i, want := range []float64{1 / knownS.Seconds(), knownK / knownS.Seconds(), knownK / knownS.Seconds()} {
			p := res.Points[i]
			assert.Equal(t, 40, p.Report.Completed, "%v", p.Load)
			assert.InEpsilon(t, want, p.Report.RequestThroughput, 0.1, "%v: req/s", p.Load)
			assert.Equal(t, p.Report.Duration, p.Elapsed, "%v: elapsed, no warm-up", p.Load)
		}
	})
}

// TestSweepCancelKeepsFinishedPoints: a sweep cancelled in the middle of
// its third point returns the two finished points with ctx.Err(), and the
// third's partial report as Interrupted.
func TestSweepCancelKeepsFinishedPoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		ctx, cancel := context.WithCancel(t.Context())
		cfg := knownConfig(t, srv, 40)
		var results atomic.Int64
		cfg.OnResult = func(*servingbench.Result) {
			if results.Add(1) == 40+40+5 { // the fifth request of the third point
				cancel()
			}
		}
		res, err := capacity.Sweep(ctx, concurrencies(2, 4, 1, 8), capacity.ConfigRunner(cfg, evenly), capacity.SweepOptions{})
		require.ErrorIs(t, err, context.Canceled)
		require.NotNil(t, res)
		require.Len(t, res.Points, 2, "the points finished before the cancel are kept")
		assert.Equal(t, 2, res.Points[0].Load.Concurrency)
		assert.Equal(t, 4, res.Points[1].Load.Concurrency)
		for _, p := range res.Points {
			assert.Equal(t, 40, p.Report.Completed)
			assert.False(t, p.Report.Partial)
		}
		require.NotNil(t, res.Interrupted)
		assert.Equal(t, 1, res.Interrupted.Load.Concurrency)
		require.NotNil(t, res.Interrupted.Report)
		assert.True(t, res.Interrupted.Report.Partial)
		assert.Equal(t, 5, res.Interrupted.Report.Completed)

		// Cancelled between points: no interrupted point.
		ctx, cancel = context.WithCancel(t.Context())
		res, err = capacity.Sweep(ctx, concurrencies(4, 4, 4), capacity.ConfigRunner(knownConfig(t, srv, 40), evenly), capacity.SweepOptions{
			OnPoint: func(i int, p capacity.SweepPoint) { cancel() },
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.Len(t, res.Points, 1)
		assert.Nil(t, res.Interrupted)
	})
}

func TestSweepErrors(t *testing.T) {
	ok := func(context.Context, capacity.Load) (*servingbench.Report, error) {
		return ttftReport(time.Millisecond), nil
	}
	_, err := capacity.Sweep(context.Background(), nil, ok, capacity.SweepOptions{})
	assert.EqualError(t, err, "capacity: Sweep: no loads")
	_, err = capacity.Sweep(context.Background(), concurrencies(1), nil, capacity.SweepOptions{})
	assert.EqualError(t, err, "capacity: Sweep: the Runner is nil")
	_, err = capacity.Sweep(context.Background(), []capacity.Load{{Rate: 1}, {Rate: math.NaN()}}, ok, capacity.SweepOptions{})
	assert.EqualError(t, err, "capacity: Sweep: loads[1]: capacity: Load.Rate must be >= 0 or +Inf, got NaN")

	boom := errors.New("boom")
	calls := 0
	res, err := capacity.Sweep(context.Background(), concurrencies(1, 2, 3), func(ctx context.Context, l capacity.Load) (*servingbench.Report, error) {
		if calls++; calls == 2 {
			return nil, boom
		}
		return ttftReport(time.Millisecond), nil
	}, capacity.SweepOptions{})
	require.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "capacity: rate=inf,concurrency=2,requests=40: boom")
	assert.Len(t, res.Points, 1)
}

func TestConfigRunner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		run := capacity.ConfigRunner(knownConfig(t, srv, 10), nil)
		rep, err := run(t.Context(), capacity.Load{Rate: 5, Concurrency: 2, Requests: 6})
		require.NoError(t, err)
		assert.Equal(t, 6, rep.Completed)
		assert.Equal(t, 5.0, rep.RequestRate, "Poisson at the load's rate by default")
		assert.Equal(t, 2, rep.MaxConcurrency)

		rep, err = run(t.Context(), capacity.Load{})
		require.NoError(t, err)
		assert.Equal(t, 10, rep.Completed, "Requests 0: all of the Config's")
		assert.True(t, math.IsInf(rep.RequestRate, 1))

		_, err = run(t.Context(), capacity.Load{Requests: 11})
		assert.EqualError(t, err, "capacity: load rate=inf,requests=11 needs 11 requests, the Config has 10")
		_, err = run(t.Context(), capacity.Load{Concurrency: -1})
		assert.EqualError(t, err, "capacity: Load.Concurrency must be >= 0, got -1")
	})
}

func TestLoadAndDimension(t *testing.T) {
	assert.Equal(t, "rate=inf", capacity.Load{}.String())
	assert.Equal(t, "rate=2.5,concurrency=16,requests=100", capacity.Load{Rate: 2.5, Concurrency: 16, Requests: 100}.String())
	assert.Equal(t, "rate=inf,concurrency=3", capacity.Load{Rate: math.Inf(1), Concurrency: 3}.String())
	for _, d := range []capacity.Dimension{capacity.RequestRate, capacity.MaxConcurrency} {
		got, err := capacity.ParseDimension(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
	d, err := capacity.ParseDimension("max_concurrency")
	require.NoError(t, err)
	assert.Equal(t, capacity.MaxConcurrency, d, "vLLM's spelling")
	_, err = capacity.ParseDimension("qps")
	assert.EqualError(t, err, `capacity: unknown search dimension "qps", want request-rate or max-concurrency`)
	assert.Equal(t, "req/s", capacity.RequestRate.Unit())
	assert.Equal(t, "concurrency", capacity.MaxConcurrency.Unit())
	assert.True(t, math.IsInf(capacity.RequestRate.Of(capacity.Load{}), 1))
	assert.Equal(t, capacity.Load{Concurrency: 3, Rate: 2}, capacity.MaxConcurrency.With(capacity.Load{Rate: 2}, 2.6))
}

// TestIntermediateLoads: vLLM's serve_workload arithmetic, ceil of the
// serial estimate, floor of the batch one, linspace, round half to even.
func TestIntermediateLoads(t *testing.T) {
	rep := func(throughput float64, e2el time.Duration) *servingbench.Report {
		return &servingbench.Report{RequestThroughput: throughput, E2EL: servingbench.Summary{Count: 1, Mean: e2el}}
	}
	base := capacity.Load{Concurrency: 7, Requests: 100}
	// Rates: ceil(1.2) = 2, floor(9.7) = 9; linspace(2, 9, 5) = 2, 3.75,
	// 5.5, 7.25, 9; inner values round to 4, 6 (5.5 to even), 7.
	got := capacity.IntermediateLoads(capacity.RequestRate, base, rep(1.2, 0), rep(9.7, 0), 5)
	assert.Equal(t, []capacity.Load{{Rate: 4, Concurrency: 7, Requests: 100}, {Rate: 6, Concurrency: 7, Requests: 100}, {Rate: 7, Concurrency: 7, Requests: 100}}, got)
	// Halves round to even: linspace(1, 4, 3) = 1, 2.5, 4 -> 2.
	got = capacity.IntermediateLoads(capacity.RequestRate, base, rep(1, 0), rep(4, 0), 3)
	assert.Equal(t, []float64{2}, rates(got))
	// Duplicates go: linspace(1, 2, 6) -> 1.2, 1.4, 1.6, 1.8 -> 1, 1, 2, 2.
	got = capacity.IntermediateLoads(capacity.RequestRate, base, rep(1, 0), rep(2, 0), 6)
	assert.Equal(t, []float64{1, 2}, rates(got))
	// Concurrency: throughput x mean E2EL (Little's law): 2 x 0.5s = 1;
	// 40 x 2.5s = 100; linspace(1, 100, 4) = 1, 34, 67, 100.
	base = capacity.Load{Requests: 100}
	got = capacity.IntermediateLoads(capacity.MaxConcurrency, base, rep(2, 500*time.Millisecond), rep(40, 2500*time.Millisecond), 4)
	assert.Equal(t, []capacity.Load{{Concurrency: 34, Requests: 100}, {Concurrency: 67, Requests: 100}}, got)
	assert.Empty(t, capacity.IntermediateLoads(capacity.MaxConcurrency, base, rep(2, time.Second), rep(9, time.Second), 2), "two points: serial and batch only")

	assert.Equal(t, capacity.Load{Rate: 1, Concurrency: 1, Requests: 100}, capacity.SerialLoad(capacity.RequestRate, base))
	assert.Equal(t, capacity.Load{Rate: 100, Concurrency: 100, Requests: 100}, capacity.BatchLoad(capacity.RequestRate, base))
	assert.Equal(t, capacity.Load{Concurrency: 1, Requests: 100}, capacity.SerialLoad(capacity.MaxConcurrency, base))
	assert.Equal(t, capacity.Load{Concurrency: 100, Requests: 100}, capacity.BatchLoad(capacity.MaxConcurrency, base))
}

func rates(ls []capacity.Load) []float64 {
	out := make([]float64, len(ls))
	for i, l := range ls {
		out[i] = l.Rate
	}
	return out
}

func TestSweepWorkload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newKnownServer(t)
		base := capacity.Load{Requests: 40}
		var order []capacity.Load
		res, err := capacity.SweepWorkload(t.Context(), capacity.MaxConcurrency, base, 5,
			capacity.ConfigRunner(knownConfig(t, srv, 40), evenly),
			capacity.SweepOptions{OnStart: func(i int, l capacity.Load) { order = append(order, l) }})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(res.Points), 2)
		serial, batch := res.Points[0], res.Points[len(res.Points)-1]
		assert.Equal(t, capacity.Load{Concurrency: 1, Requests: 40}, serial.Load)
		assert.Equal(t, capacity.Load{Concurrency: 40, Requests: 40}, batch.Load)
		inter := capacity.IntermediateLoads(capacity.MaxConcurrency, base, serial.Report, batch.Report, 5)
		var mid []capacity.Load
		for _, p := range res.Points[1 : len(res.Points)-1] {
			mid = append(mid, p.Load)
		}
		assert.Equal(t, inter, mid, "the points between, in load order")
		assert.Equal(t, append([]capacity.Load{serial.Load, batch.Load}, inter...), order, "serial and batch run first")
		// Little's law: the serial point has one request in flight; the
		// batch point starts with all 40 in flight, K served at a time, so
		// (40+36+...+4)/10 = 22 on average.
		assert.InDelta(t, 1, capacity.WorkloadValue(capacity.MaxConcurrency, serial.Report), 1e-9)
		assert.InDelta(t, 22, capacity.WorkloadValue(capacity.MaxConcurrency, batch.Report), 1)

		_, err = capacity.SweepWorkload(t.Context(), capacity.MaxConcurrency, base, 1, capacity.ConfigRunner(knownConfig(t, srv, 40), evenly), capacity.SweepOptions{})
		assert.EqualError(t, err, "capacity: SweepWorkload: points must be >= 2 (the serial and the batch point), got 1")
		_, err = capacity.SweepWorkload(t.Context(), capacity.RequestRate, capacity.Load{}, 3, capacity.ConfigRunner(knownConfig(t, srv, 40), evenly), capacity.SweepOptions{})
		assert.EqualError(t, err, "capacity: SweepWorkload: base.Requests (the dataset size) must be >= 1, got 0")
	})
}
