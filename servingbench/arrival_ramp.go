package servingbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// RampStrategy says how a Ramp's rate rises from its Start to its End.
type RampStrategy uint8

const (
	// RampLinear raises the rate linearly: A + (B-A)p.
	RampLinear RampStrategy = iota
	// RampExponential raises it geometrically: A (B/A)^p.
	RampExponential
)

// String returns vLLM's name of the strategy: "linear" or "exponential".
func (s RampStrategy) String() string {
	switch s {
	case RampLinear:
		return "linear"
	case RampExponential:
		return "exponential"
	}
	return fmt.Sprintf("RampStrategy(%d)", uint8(s))
}

// ParseRampStrategy parses vLLM's --ramp-up-strategy values, "linear" and
// "exponential".
func ParseRampStrategy(s string) (RampStrategy, error) {
	switch s {
	case "linear":
		return RampLinear, nil
	case "exponential":
		return RampExponential, nil
	}
	return 0, fmt.Errorf("servingbench: unknown ramp-up strategy %q, want linear or exponential", s)
}

// Ramp is vLLM bench serve's ramp-up arrival process (--ramp-up-strategy,
// --ramp-up-start-rps, --ramp-up-end-rps; vLLM PR #19423): the request
// rate rises from Start to End over the run, request by request.
//
// The schedule is vLLM's get_request and _get_current_request_rate
// (vllm/benchmarks/serve.py), exactly:
//
//   - request i of n has progress p = i/(n-1), and p = 0 when n = 1
//     (vLLM divides by max(n-1, 1));
//   - its rate is r_i = Start + (End-Start)p (RampLinear) or
//     Start (End/Start)^p (RampExponential);
//   - the gap before request i, g_i, is drawn from
//     Gamma(shape=Burstiness, scale=1/(r_i Burstiness)), mean 1/r_i, at
//     request i's own rate; with Burstiness +Inf it is exactly 1/r_i (vLLM's
//     burstiness inf);
//   - request i is scheduled at g_0 + ... + g_i: the first request, too,
//     waits its gap (vLLM precomputes the delays and sleeps before each
//     request, the first included). Unlike a constant-rate run, vLLM does
//     not rescale a ramp's offsets to a total duration.
//
// Start must be > 0 and End >= Start: vLLM rejects an end below the start
// and an exponential ramp from 0, and a linear ramp from 0 fails its
// assertion that every request's rate is positive (request 0 has rate 0).
// vLLM takes whole requests per second; Start and End may be fractional
// here. The run's --request-rate stays inf.
//
// The draws come from Seed (not numpy's generator: the same Seed gives the
// same schedule here, not vLLM's). A zero Burstiness means 1 (Poisson
// gaps). The zero Ramp is not valid (Start 0).
type Ramp struct {
	Strategy   RampStrategy
	Start, End float64 // requests per second
	Burstiness float64
	Seed       uint64
}

var _ Arrival = Ramp{}

// maxRampRate bounds a Ramp's rates, so that their whole parts (and the
// rps_change_events, one per whole rate) stay countable.
const maxRampRate = 1e9

// Validate reports a bad field.
func (r Ramp) Validate() error {
	switch {
	case r.Strategy > RampExponential:
		return fmt.Errorf("servingbench: Ramp.Strategy must be RampLinear or RampExponential, got %v", r.Strategy)
	case math.IsNaN(r.Start) || math.IsInf(r.Start, 0) || r.Start <= 0:
		return fmt.Errorf("servingbench: Ramp.Start must be a finite rate > 0, got %v "+
			"(vLLM rejects an exponential ramp from 0, and a linear one fails its per-request rate check)", r.Start)
	case math.IsNaN(r.End) || r.End < r.Start || r.End > maxRampRate:
		return fmt.Errorf("servingbench: Ramp.End must be a rate >= Ramp.Start (%v) and <= %g, got %v", r.Start, float64(maxRampRate), r.End)
	case math.IsNaN(r.Burstiness) || r.Burstiness < 0:
		return fmt.Errorf("servingbench: Ramp.Burstiness must be > 0 or +Inf, got %v", r.Burstiness)
	}
	return nil
}

func (r Ramp) shape() float64 {
	if r.Burstiness == 0 {
		return 1
	}
	return r.Burstiness
}

// RateAt returns the rate, in requests per second, of request i of n.
func (r Ramp) RateAt(i, n int) float64 {
	p := float64(i) / float64(max(n-1, 1))
	if r.Strategy == RampExponential {
		return r.Start * math.Pow(r.End/r.Start, p)
	}
	return r.Start + (r.End-r.Start)*p
}

// Offsets returns the scheduled offsets of n requests, as the Ramp's
// documentation says. An invalid Ramp (see Validate) returns n zero
// offsets; Run validates its Arrival first.
func (r Ramp) Offsets(n int) []time.Duration {
	out := make([]time.Duration, n)
	if r.Validate() != nil {
		return out
	}
	rng := rand.New(rand.NewPCG(r.Seed, 0x7a3b))
	k := r.shape()
	t := 0.0
	for i := range out {
		rate := r.RateAt(i, n)
		if math.IsInf(k, 1) {
			t += 1 / rate
		} else {
			t += gammaSample(rng, k) / (rate * k)
		}
		out[i] = time.Duration(t * float64(time.Second))
	}
	return out
}

// String describes the ramp: "ramp-linear(1->8 rps, burstiness 1, seed 3)".
func (r Ramp) String() string {
	return "ramp-" + r.Strategy.String() + "(" + formatRate(r.Start) + "->" + formatRate(r.End) +
		" rps, burstiness " + formatRate(r.shape()) + ", seed " + strconv.FormatUint(r.Seed, 10) + ")"
}

func formatRate(v float64) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// RPSChange is one entry of vLLM's rps_change_events: the whole number of
// requests per second the ramp reached, and when.
type RPSChange struct {
	RPS int
	// Offset is the scheduled time of the change from the start of the run.
	Offset time.Duration
}

// RPSChanges returns the rps_change_events vLLM records for a run of n
// requests on this ramp, computed from the schedule (Offsets(n)). vLLM
// (vllm/benchmarks/serve.py, benchmark) appends {"rps": int(Start),
// "timestamp"} when the run starts, then, as it dispatches each request
// whose rate's integer part int(r_i) exceeds the last recorded one, one
// event for every whole rate passed, last+1 through int(r_i), all stamped
// with that request's dispatch time. So the first change has Offset 0,
// and each later one the scheduled offset of the request that reached it.
//
// vLLM's timestamp is datetime.now().isoformat() (local time,
// Go layout "2006-01-02T15:04:05.000000", the fraction left out when it
// is zero); the run's start plus Offset is the
// same instant on our schedule, since Run sleeps to absolute offsets. An
// invalid Ramp or n <= 0 gives no events.
func (r Ramp) RPSChanges(n int) []RPSChange {
	if r.Validate() != nil || n <= 0 {
		return nil
	}
	offsets := r.Offsets(n)
	last := int(r.Start)
	events := []RPSChange{{RPS: last}}
	for i := range n {
		cur := int(r.RateAt(i, n))
		for v := last + 1; v <= cur; v++ {
			events = append(events, RPSChange{RPS: v, Offset: offsets[i]})
		}
		last = max(last, cur)
	}
	return events
}
