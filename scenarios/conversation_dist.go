package scenarios

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// DistKind names a Distribution: one of the five of vLLM's multi-turn
// benchmark (benchmarks/multi_turn/bench_dataset.py).
type DistKind string

// The distributions of vLLM's generate_multi_turn.json "distribution" field.
const (
	DistConstant  DistKind = "constant"
	DistUniform   DistKind = "uniform"
	DistLognormal DistKind = "lognormal"
	DistZipf      DistKind = "zipf"
	DistPoisson   DistKind = "poisson"
)

// Distribution draws non-negative integers (token counts, turn counts,
// milliseconds) as vLLM's multi-turn benchmark draws them, with its
// parameters. The zero value (Kind "") is unset: where a field of a
// dataset is optional, unset means 0 (or, where said, another field).
//
//   - constant: always Value.
//   - uniform: an integer in [Min, Max], each equally likely (numpy's
//     randint(Min, Max+1)).
//   - lognormal: round(exp(N(Mean, Sigma))) (numpy's lognormal, rounded
//     half to even as np.round), capped at Max when Max > 0. With Average
//     set instead of Mean and Sigma (vLLM's "average"), Mean = ln(Average *
//     MedianRatio) and Sigma = sqrt(2 ln(1/MedianRatio)) (MedianRatio 0
//     means vLLM's 0.85), and each batch of draws is scaled so that its
//     mean is Average before the cap and the rounding, as vLLM scales each
//     sample() call's array: the draws of one conversation's turns are one
//     batch.
//   - zipf: numpy's zipf(Alpha), the integer k >= 1 with probability
//     proportional to k^-Alpha (Alpha > 1), capped at Max when Max > 0.
//   - poisson: numpy's poisson(Alpha), Alpha the mean, capped at Max when
//     Max > 0.
//
// Draws use math/rand/v2 streams, not numpy's generator: the same seed
// gives the same numbers here, not vLLM's numbers for that seed.
type Distribution struct {
	Kind DistKind
	// Value is constant's value.
	Value int
	// Min and Max bound uniform; Max (when > 0) caps lognormal, zipf and
	// poisson (vLLM's "max").
	Min, Max int
	// Mean and Sigma are lognormal's, of the underlying normal.
	Mean, Sigma float64
	// Average and MedianRatio give lognormal by its mean (vLLM's
	// "average" and "median_ratio").
	Average     int
	MedianRatio float64
	// Alpha is zipf's exponent or poisson's mean.
	Alpha float64
}

// Constant returns the distribution that is always v.
func Constant(v int) Distribution { return Distribution{Kind: DistConstant, Value: v} }

// Uniform returns the uniform distribution over the integers of [lo, hi].
func Uniform(lo, hi int) Distribution { return Distribution{Kind: DistUniform, Min: lo, Max: hi} }

// Lognormal returns exp(N(mean, sigma)) rounded, capped at max when > 0.
func Lognormal(mean, sigma float64, max int) Distribution {
	return Distribution{Kind: DistLognormal, Mean: mean, Sigma: sigma, Max: max}
}

// LognormalAverage returns vLLM's lognormal given by its average and the
// ratio of median to mean (0 means 0.85), capped at max when > 0.
func LognormalAverage(average int, medianRatio float64, max int) Distribution {
	return Distribution{Kind: DistLognormal, Average: average, MedianRatio: medianRatio, Max: max}
}

// Zipf returns numpy's zipf(alpha), capped at max when > 0.
func Zipf(alpha float64, max int) Distribution {
	return Distribution{Kind: DistZipf, Alpha: alpha, Max: max}
}

// Poisson returns numpy's poisson(mean), capped at max when > 0.
func Poisson(mean float64, max int) Distribution {
	return Distribution{Kind: DistPoisson, Alpha: mean, Max: max}
}

// IsZero reports whether d is unset.
func (d Distribution) IsZero() bool { return d.Kind == "" }

// vLLM's default median_ratio for a lognormal given by its average.
const defaultMedianRatio = 0.85

// Validate reports a bad parameter, with vLLM's rules.
func (d Distribution) Validate() error {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	if d.Max < 0 {
		return fmt.Errorf("%s: Max must be >= 0, got %d", d.Kind, d.Max)
	}
	switch d.Kind {
	case "":
		return nil
	case DistConstant:
		if d.Value < 0 {
			return fmt.Errorf("constant: Value must be >= 0, got %d", d.Value)
		}
	case DistUniform:
		if d.Min < 0 || d.Min > d.Max {
			return fmt.Errorf("uniform: want 0 <= Min <= Max, got Min %d, Max %d", d.Min, d.Max)
		}
	case DistLognormal:
		if d.Average != 0 {
			if d.Average < 1 {
				return fmt.Errorf("lognormal: Average must be >= 1, got %d", d.Average)
			}
			if d.Mean != 0 || d.Sigma != 0 {
				return errors.New("lognormal: give Average or Mean and Sigma, not both")
			}
			if r := d.MedianRatio; r != 0 && !(r > 0 && r < 1) {
				return fmt.Errorf("lognormal: MedianRatio must be in (0, 1), got %v", r)
			}
			return nil
		}
		if !finite(d.Mean) || !finite(d.Sigma) || d.Mean <= 0 || d.Sigma < 0 {
			return fmt.Errorf("lognormal: want Mean > 0 and Sigma >= 0 (or Average), got Mean %v, Sigma %v", d.Mean, d.Sigma)
		}
		if d.MedianRatio != 0 {
			return errors.New("lognormal: MedianRatio needs Average")
		}
	case DistZipf:
		if !finite(d.Alpha) || d.Alpha <= 1 {
			return fmt.Errorf("zipf: Alpha must be > 1, got %v", d.Alpha)
		}
	case DistPoisson:
		if !finite(d.Alpha) || d.Alpha < 0 || d.Alpha > 1e9 {
			return fmt.Errorf("poisson: Alpha (the mean) must be in [0, 1e9], got %v", d.Alpha)
		}
	default:
		return fmt.Errorf("unknown distribution %q (want constant, uniform, lognormal, zipf or poisson)", d.Kind)
	}
	return nil
}

// String names d for a benchmark name: "constant-500", "uniform-120-160",
// "lognormal-avg1000", "lognormal-2.5-0.5", "zipf-1.5", "poisson-8", with
// "-maxN" when Max caps it; "none" when unset.
func (d Distribution) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var s string
	switch d.Kind {
	case "":
		return "none"
	case DistConstant:
		return fmt.Sprintf("constant-%d", d.Value)
	case DistUniform:
		return fmt.Sprintf("uniform-%d-%d", d.Min, d.Max)
	case DistLognormal:
		if d.Average != 0 {
			s = fmt.Sprintf("lognormal-avg%d", d.Average)
			if d.MedianRatio != 0 {
				s += "-ratio" + f(d.MedianRatio)
			}
		} else {
			s = "lognormal-" + f(d.Mean) + "-" + f(d.Sigma)
		}
	default:
		s = string(d.Kind) + "-" + f(d.Alpha)
	}
	if d.Max > 0 {
		s += fmt.Sprintf("-max%d", d.Max)
	}
	return s
}

// Sample returns n draws from rng (one batch, see lognormal's Average).
// An unset d gives zeros. d must be valid.
func (d Distribution) Sample(rng *rand.Rand, n int) []int {
	out := make([]int, n)
	capped := func(v int) int {
		if d.Max > 0 && v > d.Max {
			return d.Max
		}
		return v
	}
	switch d.Kind {
	case DistConstant:
		for i := range out {
			out[i] = d.Value
		}
	case DistUniform:
		for i := range out {
			out[i] = d.Min + rng.IntN(d.Max-d.Min+1)
		}
	case DistLognormal:
		mu, sigma := d.Mean, d.Sigma
		if d.Average != 0 {
			r := d.MedianRatio
			if r == 0 {
				r = defaultMedianRatio
			}
			mu, sigma = math.Log(float64(d.Average)*r), math.Sqrt(2*math.Log(1/r))
		}
		xs := make([]float64, n)
		sum := 0.0
		for i := range xs {
			xs[i] = math.Exp(mu + sigma*rng.NormFloat64())
			sum += xs[i]
		}
		for i, x := range xs {
			if d.Average != 0 {
				x *= float64(d.Average) / (sum / float64(n))
			}
			if d.Max > 0 {
				x = math.Min(x, float64(d.Max))
			}
			out[i] = int(math.RoundToEven(x))
		}
	case DistZipf:
		z := rand.NewZipf(rng, d.Alpha, 1, 1<<53)
		for i := range out {
			out[i] = capped(int(z.Uint64()) + 1)
		}
	case DistPoisson:
		for i := range out {
			out[i] = capped(poisson(rng, d.Alpha))
		}
	}
	return out
}

// poisson draws from Poisson(lam) as numpy's legacy generator does:
// multiplying uniforms for lam < 10, Hörmann's transformed rejection
// (PTRS, 1993) above.
func poisson(rng *rand.Rand, lam float64) int {
	if lam == 0 {
		return 0
	}
	if lam < 10 {
		limit, prod := math.Exp(-lam), 1.0
		for k := 0; ; k++ {
			prod *= rng.Float64()
			if prod <= limit {
				return k
			}
		}
	}
	slam, loglam := math.Sqrt(lam), math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -lam+k*loglam-lg {
			return int(k)
		}
	}
}
