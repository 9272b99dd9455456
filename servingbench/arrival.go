package servingbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Arrival is an arrival process: a pure, seeded schedule. Offsets returns
// the dispatch offset of each of n requests from the start of the run,
// non-decreasing. Run sleeps to these absolute offsets, so the schedule does
// not drift.
type Arrival interface {
	Offsets(n int) []time.Duration
	String() string
}

// Gamma is a renewal process whose inter-arrival gaps follow
// Gamma(shape=Burstiness, scale=1/(Rate*Burstiness)): mean gap 1/Rate.
// Burstiness 1 is a Poisson process; below 1 is burstier, above 1 more
// regular. A zero Burstiness means 1. A Rate of 0 or +Inf dispatches every
// request at t=0 (vLLM's "inf"). The same Seed gives the same schedule.
type Gamma struct {
	Rate       float64 // requests per second
	Burstiness float64
	Seed       uint64
}

var _ Arrival = Gamma{}

// Poisson returns the Poisson process of the given rate (Gamma with
// Burstiness 1).
func Poisson(rate float64, seed uint64) Gamma { return Gamma{Rate: rate, Burstiness: 1, Seed: seed} }

// Validate reports a bad field.
func (g Gamma) Validate() error {
	if math.IsNaN(g.Rate) || g.Rate < 0 {
		return fmt.Errorf("servingbench: Gamma.Rate must be >= 0 or +Inf, got %v", g.Rate)
	}
	if math.IsNaN(g.Burstiness) || math.IsInf(g.Burstiness, 0) || g.Burstiness < 0 {
		return fmt.Errorf("servingbench: Gamma.Burstiness must be > 0, got %v", g.Burstiness)
	}
	return nil
}

func (g Gamma) shape() float64 {
	if g.Burstiness == 0 {
		return 1
	}
	return g.Burstiness
}

// Offsets returns n cumulative offsets; the first request is at t=0, as in
// vLLM (its first request is sent before the first sleep).
func (g Gamma) Offsets(n int) []time.Duration {
	out := make([]time.Duration, n)
	if g.Rate == 0 || math.IsInf(g.Rate, 1) {
		return out
	}
	rng := rand.New(rand.NewPCG(g.Seed, 0x5e7))
	k := g.shape()
	scale := 1 / (g.Rate * k)
	t := 0.0
	for i := 1; i < n; i++ {
		t += gammaSample(rng, k) * scale
		out[i] = time.Duration(t * float64(time.Second))
	}
	return out
}

func (g Gamma) String() string {
	if g.Rate == 0 || math.IsInf(g.Rate, 1) {
		return "rate=inf"
	}
	return "rate=" + strconv.FormatFloat(g.Rate, 'g', -1, 64) +
		",burstiness=" + strconv.FormatFloat(g.shape(), 'g', -1, 64)
}

// gammaSample draws from Gamma(k, 1) with Marsaglia and Tsang's method.
func gammaSample(rng *rand.Rand, k float64) float64 {
	if k < 1 {
		// Boost: Gamma(k) = Gamma(k+1) * U^(1/k).
		return gammaSample(rng, k+1) * math.Pow(rng.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Trace replays recorded arrival offsets (for example BurstGPT's
// timestamps). Requests beyond the trace's end arrive at its last offset.
type Trace []time.Duration

var _ Arrival = Trace(nil)

// Offsets returns the first n offsets of the trace.
func (t Trace) Offsets(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		switch {
		case i < len(t):
			out[i] = t[i]
		case len(t) > 0:
			out[i] = t[len(t)-1]
		}
	}
	return out
}

func (t Trace) String() string { return fmt.Sprintf("trace(%d)", len(t)) }
