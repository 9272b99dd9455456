package servingbench_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

var rampInf = math.Inf(1)

func TestRampRateAt(t *testing.T) {
	lin := servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 8}
	for i := range 8 {
		assert.Equal(t, float64(i+1), lin.RateAt(i, 8), "linear RateAt(%d, 8)", i)
	}
	exp := servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 8}
	for i, want := range []float64{1, 2, 4, 8} {
		assert.InDelta(t, want, exp.RateAt(i, 4), 1e-12, "exponential RateAt(%d, 4)", i)
	}
	// vLLM divides by max(n-1, 1): a single request runs at the start rate.
	assert.Equal(t, 1.0, lin.RateAt(0, 1), "RateAt(0, 1)")
	assert.Equal(t, 1.0, exp.RateAt(0, 1), "RateAt(0, 1)")
}

// TestRampOffsetsConstantGaps: with Burstiness +Inf each gap is exactly
// 1/rate at its own request's rate, the first request's gap included.
func TestRampOffsetsConstantGaps(t *testing.T) {
	r := servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 4, Burstiness: rampInf}
	// Rates 1, 1.5, 2, 2.5, 3, 3.5, 4 req/s.
	want := []time.Duration{}
	acc := 0.0
	for _, rate := range []float64{1, 1.5, 2, 2.5, 3, 3.5, 4} {
		acc += 1 / rate
		want = append(want, time.Duration(acc*float64(time.Second)))
	}
	assert.Equal(t, want, r.Offsets(7))
	assert.Equal(t, time.Second, r.Offsets(7)[0], "the first request waits its own gap, as in vLLM")
	assert.Equal(t, []time.Duration{time.Second}, r.Offsets(1), "Offsets(1)")
	assert.Empty(t, r.Offsets(0), "Offsets(0)")
}

// harmonicRate is the rate a segment of requests with these rates
// achieves when each one's gap is 1/rate: count over the sum of the gaps.
func harmonicRate(rates []float64) float64 {
	sum := 0.0
	for _, r := range rates {
		sum += 1 / r
	}
	return float64(len(rates)) / sum
}

// TestRampAchievedRatePerSegment checks the schedule segment by segment:
// the rate achieved by the requests of a segment (their count over the
// time from the previous request to the last one) is the segment's
// harmonic mean rate under the strategy: exactly (to the nanosecond
// truncation) with constant gaps, and within 5% with Poisson gaps over
// 10,000 requests a segment (a 5-sigma band; the seed is fixed, so the
// check is deterministic).
func TestRampAchievedRatePerSegment(t *testing.T) {
	tests := []struct {
		name       string
		ramp       servingbench.Ramp
		n, segment int
		tol        float64
	}{
		{"linear/constant-gaps", servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 8, Burstiness: rampInf}, 1000, 100, 1e-6},
		{"exponential/constant-gaps", servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 2, End: 64, Burstiness: rampInf}, 1000, 100, 1e-6},
		{"linear/poisson", servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 10, End: 100, Seed: 3}, 40000, 10000, 0.05},
		{"exponential/gamma-0.5", servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 10, End: 1000, Burstiness: 0.5, Seed: 9}, 40000, 10000, 0.08},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off := tt.ramp.Offsets(tt.n)
			require.Len(t, off, tt.n)
			for a := 0; a < tt.n; a += tt.segment {
				b := a + tt.segment
				rates := make([]float64, 0, tt.segment)
				for i := a; i < b; i++ {
					rates = append(rates, tt.ramp.RateAt(i, tt.n))
				}
				var from time.Duration
				if a > 0 {
					from = off[a-1]
				}
				achieved := float64(tt.segment) / (off[b-1] - from).Seconds()
				want := harmonicRate(rates)
				assert.InEpsilon(t, want, achieved, tt.tol, "requests [%d,%d): achieved %.4f req/s, want %.4f", a, b, achieved, want)
				if tt.tol < 1e-3 {
					assert.True(t, achieved >= rates[0]*(1-1e-9) && achieved <= rates[len(rates)-1]*(1+1e-9),
						"requests [%d,%d): %.4f req/s outside the segment's rates [%.4f, %.4f]", a, b, achieved, rates[0], rates[len(rates)-1])
				}
			}
			for i := 1; i < tt.n; i++ {
				require.GreaterOrEqual(t, off[i], off[i-1], "offsets decrease at %d", i)
			}
		})
	}
}

func TestRampSeeded(t *testing.T) {
	r := servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 50, Seed: 7}
	assert.Equal(t, r.Offsets(500), r.Offsets(500), "same seed, same schedule")
	other := r
	other.Seed = 8
	assert.NotEqual(t, r.Offsets(500), other.Offsets(500), "another seed, another schedule")
}

func TestRampValidate(t *testing.T) {
	tests := []struct {
		ramp servingbench.Ramp
		want string // "" for valid
	}{
		{servingbench.Ramp{Start: 1, End: 8}, ""},
		{servingbench.Ramp{Start: 2, End: 2, Burstiness: rampInf}, ""},
		{servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 0.5, End: 3}, ""},
		{servingbench.Ramp{}, "Ramp.Start must be a finite rate > 0, got 0"},
		{servingbench.Ramp{Strategy: servingbench.RampExponential, End: 8}, "Ramp.Start must be a finite rate > 0, got 0"},
		{servingbench.Ramp{Start: -1, End: 8}, "Ramp.Start must be a finite rate > 0, got -1"},
		{servingbench.Ramp{Start: math.NaN(), End: 8}, "Ramp.Start"},
		{servingbench.Ramp{Start: 8, End: 1}, "Ramp.End must be a rate >= Ramp.Start (8) and <= 1e+09, got 1"},
		{servingbench.Ramp{Start: 1, End: rampInf}, "Ramp.End"},
		{servingbench.Ramp{Start: 1, End: 8, Burstiness: -1}, "Ramp.Burstiness must be > 0 or +Inf, got -1"},
		{servingbench.Ramp{Strategy: 7, Start: 1, End: 8}, "Ramp.Strategy must be RampLinear or RampExponential, got RampStrategy(7)"},
	}
	for _, tt := range tests {
		err := tt.ramp.Validate()
		if tt.want == "" {
			assert.NoError(t, err, "%+v.Validate()", tt.ramp)
			continue
		}
		if assert.Error(t, err, "%+v.Validate()", tt.ramp) {
			assert.Contains(t, err.Error(), tt.want, "%+v.Validate()", tt.ramp)
		}
		assert.Empty(t, tt.ramp.RPSChanges(10), "an invalid ramp has no rps changes")
	}
}

func TestRampString(t *testing.T) {
	assert.Equal(t, "ramp-linear(1->8 rps, burstiness 1, seed 3)",
		servingbench.Ramp{Start: 1, End: 8, Seed: 3}.String())
	assert.Equal(t, "ramp-exponential(0.5->64 rps, burstiness inf, seed 0)",
		servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 0.5, End: 64, Burstiness: rampInf}.String())
}

func TestParseRampStrategy(t *testing.T) {
	for _, s := range []servingbench.RampStrategy{servingbench.RampLinear, servingbench.RampExponential} {
		got, err := servingbench.ParseRampStrategy(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	_, err := servingbench.ParseRampStrategy("step")
	assert.EqualError(t, err, `servingbench: unknown ramp-up strategy "step", want linear or exponential`)
}

// TestRampRPSChanges: vLLM's rps_change_events, an event per whole rate
// reached, stamped with the scheduled time of the request that reached it.
func TestRampRPSChanges(t *testing.T) {
	type ev = servingbench.RPSChange
	lin := servingbench.Ramp{Start: 1, End: 4, Burstiness: rampInf}
	off := lin.Offsets(7) // rates 1, 1.5, 2, 2.5, 3, 3.5, 4
	assert.Equal(t, []ev{{1, 0}, {2, off[2]}, {3, off[4]}, {4, off[6]}}, lin.RPSChanges(7))

	// A jump of several whole rates at once: one event each, same time.
	jump := servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 8, Burstiness: rampInf}
	off = jump.Offsets(2)
	assert.Equal(t, []ev{{1, 0}, {2, off[1]}, {3, off[1]}, {4, off[1]}, {5, off[1]}, {6, off[1]}, {7, off[1]}, {8, off[1]}},
		jump.RPSChanges(2))

	// A fractional start records its whole part first, as int() does.
	frac := servingbench.Ramp{Start: 1.5, End: 3, Burstiness: rampInf}
	off = frac.Offsets(3) // rates 1.5, 2.25, 3
	assert.Equal(t, []ev{{1, 0}, {2, off[1]}, {3, off[2]}}, frac.RPSChanges(3))

	// A flat ramp records only its start.
	assert.Equal(t, []ev{{5, 0}}, servingbench.Ramp{Start: 5, End: 5}.RPSChanges(100))
	assert.Nil(t, lin.RPSChanges(0))
}

// TestRunRamp: Run dispatches a ramp at its offsets and validates it first.
func TestRunRamp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.ZeroCost())
		client, err := servingbench.NewCompletions(bubbleConfig(srv))
		require.NoError(t, err)
		defer client.Close()
		reqs := make([]servingbench.Request, 20)
		for i := range reqs {
			reqs[i] = servingbench.Request{Prompt: "a b c", MaxTokens: 2}
		}
		ramp := servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 2, End: 40, Seed: 5}
		rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs, Arrival: ramp})
		require.NoError(t, err)
		require.Equal(t, 20, rep.Completed, "errors: %v", rep.Errors)
		offsets := ramp.Offsets(20)
		for _, r := range rep.Results {
			assert.Equal(t, offsets[r.Index], r.Scheduled.Sub(rep.Date), "request %d scheduled", r.Index)
		}
		assert.True(t, math.IsInf(rep.RequestRate, 1), "a ramp's configured request rate is inf, as vLLM's --request-rate stays")

		_, err = servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs, Arrival: servingbench.Ramp{End: 8}})
		assert.ErrorContains(t, err, "servingbench: Config.Arrival: servingbench: Ramp.Start must be a finite rate > 0, got 0")
	})
}
