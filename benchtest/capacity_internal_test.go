package benchtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// TestJudgedSLA: a search's points are judged on failures too: failed<=0
// is added to an SLA that bounds none, failed<=n for a failure budget.
func TestJudgedSLA(t *testing.T) {
	tests := []struct {
		sla  string
		opts []Option
		want string
	}{
		{"ttft.p99<=500ms", nil, "ttft.p99<=500ms failed<=0"},
		{"ttft.p99<=500ms failed<=3", nil, "ttft.p99<=500ms failed<=3"},
		{"ttft.p99<=500ms failed_rate<=0.01", nil, "ttft.p99<=500ms failed_rate<=0.01"},
		{"ttft.p99<=500ms", []Option{WithFailureBudget(5)}, "ttft.p99<=500ms failed<=5"},
		{"ttft.p99<=500ms failed<=0", []Option{WithFailureBudget(5)}, "ttft.p99<=500ms failed<=0 failed<=5"},
	}
	for _, tt := range tests {
		sla := servingbench.MustParseSLA(tt.sla)
		got := judgedSLA(sla, newSettings(tt.opts)).String()
		assert.Equal(t, tt.want, got, "judgedSLA(%q) = %q, want %q", tt.sla, got, tt.want)
		assert.Equal(t, tt.sla, sla.String(), "judgedSLA changed its argument")
	}
}

func TestCheckSearch(t *testing.T) {
	require.NoError(t, checkSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Start: 4, Max: 64, MaxPoints: 8}))
	err := checkSearch(capacity.SearchConfig{
		SLA:      servingbench.MustParseSLA("failed<=0"),
		Base:     capacity.Load{Concurrency: 8},
		Requests: 100,
	})
	require.Error(t, err)
	assert.Equal(t, "benchtest: WithSearch: Capacity sets SearchConfig.SLA (Capacity's sla argument), "+
		"SearchConfig.Base (set the scenario's MaxConcurrency for a request-rate search, its RequestRate for a max-concurrency search), "+
		"SearchConfig.Requests (the scenario's NumPrompts are the requests of every point); leave it zero", err.Error())
}

func TestCapacityUnit(t *testing.T) {
	assert.Equal(t, "capacity-req/s", CapacityUnit(capacity.RequestRate))
	assert.Equal(t, "capacity-concurrency", CapacityUnit(capacity.MaxConcurrency))
	for _, d := range []capacity.Dimension{capacity.RequestRate, capacity.MaxConcurrency} {
		assert.Equal(t, "capacity-"+d.Unit(), CapacityUnit(d), "the unit capacity.Dimension.Unit names")
	}
}

// TestCapacityLog: the search in four lines, the reason and the flipped
// point included.
func TestCapacityLog(t *testing.T) {
	sla := servingbench.MustParseSLA("ttft.p99<=100ms failed<=0")
	trial := func(pass bool, ttft time.Duration) capacity.Trial {
		return capacity.Trial{Pass: pass, Measurements: []capacity.Measurement{
			{Limit: sla.Limits[0], Value: float64(ttft)}, {Limit: sla.Limits[1]},
		}}
	}
	point := func(v float64, trials ...capacity.Trial) capacity.Point {
		p := capacity.Point{Load: capacity.Load{Rate: v}, Value: v, Trials: trials, Marginal: len(trials) > 1}
		passes := 0
		for _, t := range trials {
			if t.Pass {
				passes++
			}
		}
		p.Pass = 2*passes > len(trials)
		p.Flipped = passes > 0 && passes < len(trials)
		for i, t := range trials {
			if t.Pass == p.Pass {
				p.Judged = i
				break
			}
		}
		return p
	}
	res := &capacity.SearchResult{
		SLA: sla, Capacity: 150, Stop: capacity.StopResolved, Requests: 400, Noise: 0.05, Elapsed: 31234 * time.Millisecond,
		Points: []capacity.Point{
			point(100, trial(true, 40*time.Millisecond)),
			point(200, trial(false, 480*time.Millisecond)),
			point(150, trial(true, 98*time.Millisecond), trial(false, 103*time.Millisecond), trial(true, 97*time.Millisecond)),
			point(175, trial(false, 112400*time.Microsecond)),
		},
	}
	assert.Equal(t, []string{
		"capacity (request-rate): 150 req/s; SLA ttft.p99<=100ms failed<=0",
		"first failing point: request-rate=175: ttft.p99 = 112.4ms, want <= 100ms (+12.4%)",
		"points (400 requests each): 100 pass, 200 fail, 150 pass (3 runs), 175 fail; stopped: resolved after 31.2s",
		"flipped: request-rate=150 passed 2 of 3 runs (a value within 5% of a limit), judged pass",
	}, capacityLog(res))

	res = &capacity.SearchResult{Dimension: capacity.MaxConcurrency, SLA: sla, Capacity: 64, AtLeast: true, Stop: capacity.StopMaxLoad,
		Requests: 64, Points: []capacity.Point{point(32, trial(true, time.Millisecond)), point(64, trial(true, time.Millisecond))}}
	assert.Equal(t, []string{
		"capacity (max-concurrency): at least 64: no load above it failed; SLA ttft.p99<=100ms failed<=0",
		"points (64 requests each): 32 pass, 64 pass; stopped: max-load after 0s",
	}, capacityLog(res))
}
