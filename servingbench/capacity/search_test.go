package capacity_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

var ttftSLA = servingbench.MustParseSLA("ttft.p99<=100ms")

// threshold passes loads up to capacity: TTFT 50ms at or below it, 200ms
// above.
func threshold(capacityValue float64, d capacity.Dimension) func(capacity.Load, int) *servingbench.Report {
	return func(l capacity.Load, _ int) *servingbench.Report {
		if d.Of(l) <= capacityValue {
			return ttftReport(50 * time.Millisecond)
		}
		return ttftReport(200 * time.Millisecond)
	}
}

func TestSearchHalvesWhenStartFails(t *testing.T) {
	f := &fakeRunner{report: threshold(3, capacity.RequestRate)}
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{SLA: ttftSLA, Start: 8, Run: f.run})
	require.NoError(t, err)
	assert.Equal(t, 3.0, res.Capacity)
	// 8, 4 fail; 2 passes; bisect [2, 4] to 5%: 3, 3.5, 3.25, 3.125.
	assert.Equal(t, []float64{8, 4, 2, 3, 3.5, 3.25, 3.125}, values(res))
	assert.Equal(t, capacity.StopResolved, res.Stop)
	assert.Equal(t, 3.125, res.Limiting().Value)
	assert.Equal(t, "request-rate=3.125: ttft.p99 = 200ms, want <= 100ms (+100.0%)", res.Reason())
}

func TestSearchMinFails(t *testing.T) {
	f := &fakeRunner{report: threshold(0.1, capacity.RequestRate)}
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{SLA: ttftSLA, Start: 4, Run: f.run})
	require.NoError(t, err)
	assert.Equal(t, 0.0, res.Capacity)
	assert.Equal(t, []float64{4, 2, 1, 0.5}, values(res), "halving to Min = Start/8")
	assert.Equal(t, capacity.StopMinLoad, res.Stop)
	assert.Equal(t, "request-rate=0.5: ttft.p99 = 200ms, want <= 100ms (+100.0%)", res.Reason())
}

func TestSearchConcurrencyResolution(t *testing.T) {
	f := &fakeRunner{report: threshold(37, capacity.MaxConcurrency)}
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		Dimension: capacity.MaxConcurrency, SLA: ttftSLA, Requests: 200, Run: f.run,
	})
	require.NoError(t, err)
	assert.Equal(t, 37.0, res.Capacity, "exact by default")
	assert.Equal(t, []float64{1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37}, values(res))

	f = &fakeRunner{report: threshold(37, capacity.MaxConcurrency)}
	res, err = capacity.Search(context.Background(), capacity.SearchConfig{
		Dimension: capacity.MaxConcurrency, SLA: ttftSLA, Requests: 200, Resolution: 0.1, Run: f.run,
	})
	require.NoError(t, err)
	// [32, 64] -> 48, 40, 36, 38: [36, 38] is within 10% of 36.
	assert.Equal(t, 36.0, res.Capacity)
	assert.Equal(t, 38.0, res.Limiting().Value)
}

func TestSearchMaxPoints(t *testing.T) {
	f := &fakeRunner{report: threshold(1000, capacity.RequestRate)}
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{SLA: ttftSLA, MaxPoints: 3, Run: f.run})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 4}, values(res))
	assert.Equal(t, 4.0, res.Capacity)
	assert.True(t, res.AtLeast, "no failing load found: at least")
	assert.Equal(t, capacity.StopMaxPoints, res.Stop)
}

// TestSearchBudget: no run starts once the budget is spent; the run in
// progress finishes.
func TestSearchBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{d: 100 * time.Second, report: threshold(1000, capacity.RequestRate)}
		res, err := capacity.Search(t.Context(), capacity.SearchConfig{SLA: ttftSLA, Budget: 250 * time.Second, Run: f.run})
		require.NoError(t, err)
		assert.Equal(t, []float64{1, 2, 4}, values(res), "runs start at 0s, 100s and 200s")
		assert.Equal(t, capacity.StopBudget, res.Stop)
		assert.Equal(t, 300*time.Second, res.Elapsed)
		assert.True(t, res.AtLeast)
	})
}

// TestSearchRepeatsMarginalPoints: the noise rule. A first run within 5%
// of the limit is repeated until two runs agree; the majority judges.
func TestSearchRepeatsMarginalPoints(t *testing.T) {
	// TTFT per load and run: 1 and 2 far below; 4 marginal and flips;
	// 3 marginal, agreeing; 8 and 6 for the search without repeats.
	ttfts := map[float64][]time.Duration{
		1: {50 * time.Millisecond},
		2: {50 * time.Millisecond},
		4: {98 * time.Millisecond, 103 * time.Millisecond, 101 * time.Millisecond},
		8: {104 * time.Millisecond, 102 * time.Millisecond},
		3: {96 * time.Millisecond, 99 * time.Millisecond},
		6: {120 * time.Millisecond},
	}
	f := &fakeRunner{report: func(l capacity.Load, trial int) *servingbench.Report {
		return ttftReport(ttfts[l.Rate][trial])
	}}
	var judged []capacity.Point
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		SLA: ttftSLA, Resolution: 0.5, Run: f.run,
		OnPoint: func(p capacity.Point) { judged = append(judged, p) },
	})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 4, 2 + 1}, values(res), "4 fails after repeats; bisect [2, 4] once")
	require.Len(t, res.Points, 4)
	p4 := res.Points[2]
	assert.True(t, p4.Marginal, "98ms is within 5% of 100ms")
	assert.Len(t, p4.Trials, 3, "98 passes, 103 fails, 101 decides")
	assert.False(t, p4.Pass, "two of three runs failed")
	assert.True(t, p4.Flipped)
	assert.Equal(t, 1, p4.Judged, "the first failing run is the point's")
	assert.Equal(t, 103*time.Millisecond, p4.Report().TTFT.Mean)
	p3 := res.Points[3]
	assert.True(t, p3.Marginal)
	assert.Len(t, p3.Trials, 2, "two passing runs make the majority")
	assert.True(t, p3.Pass)
	assert.False(t, p3.Flipped)
	assert.Equal(t, 3.0, res.Capacity)
	assert.Equal(t, res.Points, judged, "OnPoint saw every judged point")
	for _, p := range res.Points[:2] {
		assert.False(t, p.Marginal)
		assert.Len(t, p.Trials, 1)
	}

	// Repeats 1 turns the rule off.
	f = &fakeRunner{report: func(l capacity.Load, trial int) *servingbench.Report { return ttftReport(ttfts[l.Rate][trial]) }}
	res, err = capacity.Search(context.Background(), capacity.SearchConfig{SLA: ttftSLA, Resolution: 0.5, Repeats: 1, Run: f.run})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 4, 8, 6}, values(res), "98ms at 4 passes on one run")
}

func TestSearchCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		f := &fakeRunner{d: 10 * time.Second, report: threshold(100, capacity.RequestRate)}
		res, err := capacity.Search(ctx, capacity.SearchConfig{
			SLA: ttftSLA, Run: f.run,
			OnPoint: func(p capacity.Point) {
				if p.Value == 4 {
					time.AfterFunc(5*time.Second, cancel)
				}
			},
		})
		require.ErrorIs(t, err, context.Canceled)
		require.NotNil(t, res)
		assert.Equal(t, []float64{1, 2, 4}, values(res), "the point cut short is dropped")
		assert.Equal(t, capacity.StopCancelled, res.Stop)
		assert.Equal(t, 4.0, res.Capacity)
		assert.True(t, res.AtLeast)
	})
}

func TestSearchRunnerError(t *testing.T) {
	boom := errors.New("connection refused")
	calls := 0
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		SLA: ttftSLA,
		Run: func(ctx context.Context, l capacity.Load) (*servingbench.Report, error) {
			if calls++; calls == 2 {
				return nil, boom
			}
			return ttftReport(time.Millisecond), nil
		},
	})
	require.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "capacity: rate=2,requests=100: connection refused")
	assert.Equal(t, capacity.StopError, res.Stop)
	assert.Equal(t, []float64{1}, values(res))

	_, err = capacity.Search(context.Background(), capacity.SearchConfig{
		SLA: ttftSLA,
		Run: func(ctx context.Context, l capacity.Load) (*servingbench.Report, error) { return nil, nil },
	})
	assert.EqualError(t, err, "capacity: rate=1,requests=100: the Runner returned no report and no error")
}

// TestSearchUnknownValueFails: a limit the report cannot measure (no
// successful request) violates, and says why.
func TestSearchUnknownValueFails(t *testing.T) {
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		Dimension: capacity.MaxConcurrency, SLA: ttftSLA,
		Run: func(ctx context.Context, l capacity.Load) (*servingbench.Report, error) {
			return &servingbench.Report{Failed: 3}, nil
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 0.0, res.Capacity)
	assert.Equal(t, "max-concurrency=1: ttft.p99 unknown: no samples", res.Reason())
}

func TestSearchConfigErrors(t *testing.T) {
	run := (&fakeRunner{report: threshold(1, capacity.RequestRate)}).run
	tests := []struct {
		name string
		cfg  capacity.SearchConfig
		want string
	}{
		{"no-runner", capacity.SearchConfig{SLA: ttftSLA}, "capacity: SearchConfig.Run is nil"},
		{"no-limits", capacity.SearchConfig{Run: run}, "capacity: SearchConfig.SLA has no limits: every load would pass"},
		{"bad-limit", capacity.SearchConfig{Run: run, SLA: servingbench.SLA{Limits: []servingbench.Limit{{Metric: "ttft", Stat: "p999x"}}}},
			`capacity: SearchConfig.SLA: servingbench: SLA limit "ttft.p999x<=0s": unknown statistic "p999x"`},
		{"dimension", capacity.SearchConfig{Run: run, SLA: ttftSLA, Dimension: 9}, "capacity: SearchConfig.Dimension must be RequestRate or MaxConcurrency, got Dimension(9)"},
		{"base-rate", capacity.SearchConfig{Run: run, SLA: ttftSLA, Base: capacity.Load{Rate: 3}}, "capacity: SearchConfig.Base.Rate must be 0 in a request-rate search, which sets it, got 3"},
		{"base-concurrency", capacity.SearchConfig{Run: run, SLA: ttftSLA, Dimension: capacity.MaxConcurrency, Base: capacity.Load{Concurrency: 3}},
			"capacity: SearchConfig.Base.Concurrency must be 0 in a max-concurrency search, which sets it, got 3"},
		{"base-requests", capacity.SearchConfig{Run: run, SLA: ttftSLA, Base: capacity.Load{Requests: 3}}, "capacity: SearchConfig.Base.Requests must be 0"},
		{"base-invalid", capacity.SearchConfig{Run: run, SLA: ttftSLA, Base: capacity.Load{Concurrency: -1}}, "capacity: SearchConfig.Base: capacity: Load.Concurrency must be >= 0, got -1"},
		{"requests-below-p99", capacity.SearchConfig{Run: run, SLA: ttftSLA, Requests: 50},
			"capacity: SearchConfig.Requests must be >= 100 for ttft.p99 (1 request(s) expected beyond the percentile, see MinRequests), got 50"},
		{"requests-tail", capacity.SearchConfig{Run: run, SLA: ttftSLA, Requests: 500, TailRequests: 10},
			"capacity: SearchConfig.Requests must be >= 1000 for ttft.p99 (10 request(s)"},
		{"requests-negative", capacity.SearchConfig{Run: run, SLA: ttftSLA, Requests: -1}, "capacity: SearchConfig.Requests must be >= 0, got -1"},
		{"tail-negative", capacity.SearchConfig{Run: run, SLA: ttftSLA, TailRequests: -1}, "capacity: SearchConfig.TailRequests must be >= 0, got -1"},
		{"start-nan", capacity.SearchConfig{Run: run, SLA: ttftSLA, Start: math.NaN()}, "capacity: SearchConfig.Start must be a finite load >= 0 (0: the default), got NaN"},
		{"max-inf", capacity.SearchConfig{Run: run, SLA: ttftSLA, Max: math.Inf(1)}, "capacity: SearchConfig.Max must be a finite load >= 0"},
		{"min-negative", capacity.SearchConfig{Run: run, SLA: ttftSLA, Min: -1}, "capacity: SearchConfig.Min must be a finite load >= 0"},
		{"fractional-concurrency", capacity.SearchConfig{Run: run, SLA: ttftSLA, Dimension: capacity.MaxConcurrency, Start: 1.5},
			"capacity: SearchConfig.Start must be a whole concurrency, got 1.5"},
		{"min-above-start", capacity.SearchConfig{Run: run, SLA: ttftSLA, Start: 2, Min: 3}, "capacity: SearchConfig.Min (3) must be <= SearchConfig.Start (2)"},
		{"max-below-start", capacity.SearchConfig{Run: run, SLA: ttftSLA, Start: 2, Max: 1}, "capacity: SearchConfig.Max (1) must be >= SearchConfig.Start (2)"},
		{"max-above-requests", capacity.SearchConfig{Run: run, SLA: ttftSLA, Dimension: capacity.MaxConcurrency, Max: 200},
			"capacity: SearchConfig.Max (200) must be <= the 100 requests of a point"},
		{"start-above-requests", capacity.SearchConfig{Run: run, SLA: ttftSLA, Dimension: capacity.MaxConcurrency, Start: 128},
			"capacity: SearchConfig.Start (128) must be <= the 100 requests of a point"},
		{"resolution", capacity.SearchConfig{Run: run, SLA: ttftSLA, Resolution: 1}, "capacity: SearchConfig.Resolution must be in [0, 1), got 1"},
		{"max-points", capacity.SearchConfig{Run: run, SLA: ttftSLA, MaxPoints: -2}, "capacity: SearchConfig.MaxPoints must be >= 0, got -2"},
		{"budget", capacity.SearchConfig{Run: run, SLA: ttftSLA, Budget: -time.Second}, "capacity: SearchConfig.Budget must be >= 0, got -1s"},
		{"noise", capacity.SearchConfig{Run: run, SLA: ttftSLA, Noise: -0.1}, "capacity: SearchConfig.Noise must be in [0, 1), got -0.1"},
		{"repeats-even", capacity.SearchConfig{Run: run, SLA: ttftSLA, Repeats: 2}, "capacity: SearchConfig.Repeats must be odd (or 0 for 3), got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := capacity.Search(context.Background(), tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Nil(t, res)
		})
	}
}

func TestSearchDefaults(t *testing.T) {
	f := &fakeRunner{report: threshold(1000, capacity.RequestRate)}
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		SLA: servingbench.MustParseSLA("ttft.p99.9<=100ms tpot.mean<=10ms"), Run: f.run, MaxPoints: 1,
	})
	require.NoError(t, err)
	assert.Equal(t, 1000, res.Requests, "a p99.9 needs 1000 requests")
	assert.Equal(t, 0.05, res.Resolution)
	assert.Equal(t, 0.05, res.Noise)
	assert.Equal(t, 3, res.Repeats)
	assert.Equal(t, []capacity.Load{{Rate: 1, Requests: 1000}}, f.loads)
}

func TestMinRequests(t *testing.T) {
	tests := []struct {
		sla  string
		tail int
		want int
	}{
		{"ttft.p99<=1s", 0, 100},
		{"ttft.p99<=1s", 1, 100},
		{"ttft.p99<=1s", 5, 500},
		{"ttft.p99.9<=1s", 1, 1000},
		{"itl.p99.99<=1s", 1, 10000},
		{"ttft.p90<=1s", 1, 10},
		{"ttft.p95<=1s", 1, 20},
		{"e2el.p50<=1s", 1, 2},
		{"ttft.p100<=1s", 1, 1},
		{"ttft.mean<=1s tpot.median<=1s throughput>=3 failed<=0", 1, 1},
		{"ttft.p90<=1s tpot.p99.9<=1s", 1, 1000},
	}
	for _, tt := range tests {
		got := capacity.MinRequests(servingbench.MustParseSLA(tt.sla), tt.tail)
		assert.Equal(t, tt.want, got, "MinRequests(%q, %d)", tt.sla, tt.tail)
	}
}

func TestMeasurement(t *testing.T) {
	rep := ttftReport(120 * time.Millisecond)
	rep.Failed, rep.Completed = 2, 8
	rep.RequestThroughput = 4.5
	sla := servingbench.MustParseSLA("ttft.p99<=100ms throughput>=5 failed<=0 failed_rate<=10%")
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		SLA: sla, MaxPoints: 1,
		Run: func(context.Context, capacity.Load) (*servingbench.Report, error) { return rep, nil },
	})
	require.NoError(t, err)
	ms := res.Points[0].Measurements()
	require.Len(t, ms, 4)
	want := []string{
		"ttft.p99 = 120ms, want <= 100ms (+20.0%)",
		"throughput = 4.5 req/s, want >= 5 req/s (+10.0%)",
		"failed = 2, want <= 0 (+2)",
		"failed_rate = 0.2, want <= 0.1 (+100.0%)",
	}
	for i, m := range ms {
		assert.Equal(t, want[i], m.String(), "limit %d", i)
		assert.False(t, m.Holds())
	}
	// Each measured value agrees with servingbench's own violation.
	for i, v := range res.Points[0].Violations() {
		assert.Equal(t, v.String(), ms[i].String()[:len(v.String())])
	}
	assert.InDelta(t, 0.2, ms[0].Ratio(), 1e-12)
	assert.Equal(t, float64(20*time.Millisecond), ms[0].Excess())
	assert.True(t, math.IsNaN(ms[2].Ratio()), "a bound of 0 has no ratio")
	assert.False(t, ms[2].Marginal(0.5), "a bound of 0 is exact")
	assert.True(t, ms[0].Marginal(0.2))
	assert.False(t, ms[0].Marginal(0.19))
}

func TestSearchReasonListsEveryViolation(t *testing.T) {
	rep := ttftReport(250 * time.Millisecond)
	rep.Failed = 2
	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		Dimension: capacity.MaxConcurrency, SLA: servingbench.MustParseSLA("ttft.p99<=100ms tpot.mean<=1s failed<=0"),
		Run: func(context.Context, capacity.Load) (*servingbench.Report, error) { return rep, nil },
	})
	require.NoError(t, err)
	assert.Equal(t, "max-concurrency=1: ttft.p99 = 250ms, want <= 100ms (+150.0%); tpot.mean unknown: no samples; failed = 2, want <= 0 (+2)", res.Reason())
}
