package scenarios

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDistributionFixedDraws(t *testing.T) {
	// The same seed gives these draws (math/rand/v2's PCG, seed 42,
	// stream 1): a change here changes every seeded synthetic dataset.
	tests := []struct {
		d    Distribution
		want []int
	}{
		{Constant(500), []int{500, 500, 500, 500, 500, 500}},
		{Uniform(120, 160), []int{127, 143, 143, 147, 160, 123}},
		// Scaled so that the batch's mean is the average: 6001/6.
		{LognormalAverage(1000, 0, 5000), []int{460, 667, 954, 281, 1780, 1859}},
		{Lognormal(2.5, 0.5, 0), []int{8, 11, 15, 5, 26, 27}},
		{Zipf(1.5, 100), []int{1, 100, 5, 1, 58, 1}},
		{Poisson(8, 0), []int{10, 8, 12, 6, 6, 11}},
		{Poisson(50, 60), []int{57, 47, 51, 47, 54, 47}},
		{Distribution{}, []int{0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			require.NoError(t, tt.d.Validate())
			assert.Equal(t, tt.want, tt.d.Sample(newRand(42, 1), 6), "%s.Sample(seed 42, 6)", tt.d)
		})
	}
}

// moments returns the mean and population variance of xs.
func moments(xs []int) (mean, variance float64) {
	for _, x := range xs {
		mean += float64(x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, variance / float64(len(xs))
}

// TestDistributionShapes checks, on 200,000 seeded draws (fixed numbers,
// so never flaky), each distribution's defining properties with bounds
// several standard errors wide.
func TestDistributionShapes(t *testing.T) {
	const n = 200_000
	draw := func(d Distribution) []int { return d.Sample(newRand(7, 3), n) }

	u := draw(Uniform(120, 160))
	assert.Equal(t, 120, slices.Min(u))
	assert.Equal(t, 160, slices.Max(u))
	m, v := moments(u)
	assert.InDelta(t, 140, m, 0.1, "uniform mean")
	assert.InDelta(t, (41*41-1)/12.0, v, 1, "uniform variance")

	for _, lam := range []float64{3, 8, 50, 1000} { // both of numpy's algorithms
		p := draw(Poisson(lam, 0))
		m, v := moments(p)
		se := math.Sqrt(lam / n)
		assert.InDelta(t, lam, m, 5*se, "poisson(%v) mean", lam)
		assert.InDelta(t, lam, v, 0.02*lam, "poisson(%v) variance", lam)
		assert.GreaterOrEqual(t, slices.Min(p), 0)
	}
	assert.Equal(t, 60, slices.Max(draw(Poisson(50, 60))), "poisson capped at Max")

	// zipf(2): P(1) = 1/zeta(2) = 6/pi^2, P(2) = P(1)/4.
	z := draw(Zipf(2, 0))
	count := func(xs []int, k int) float64 {
		c := 0
		for _, x := range xs {
			if x == k {
				c++
			}
		}
		return float64(c) / float64(len(xs))
	}
	assert.InDelta(t, 6/(math.Pi*math.Pi), count(z, 1), 0.005, "zipf(2) P(1)")
	assert.InDelta(t, 6/(math.Pi*math.Pi)/4, count(z, 2), 0.004, "zipf(2) P(2)")
	assert.Equal(t, 1, slices.Min(z))
	assert.Equal(t, 10, slices.Max(draw(Zipf(2, 10))), "zipf capped at Max")

	// lognormal(2.5, 0.5): median exp(2.5) = 12.18 (rounded 12), mean
	// exp(2.5 + 0.125) = 13.80.
	l := draw(Lognormal(2.5, 0.5, 0))
	m, _ = moments(l)
	assert.InDelta(t, math.Exp(2.5+0.125), m, 0.05, "lognormal mean")
	sorted := slices.Sorted(slices.Values(l))
	assert.Equal(t, 12, sorted[n/2], "lognormal median")

	// By average: the batch's mean is the average up to the rounding of
	// each draw; the median is about MedianRatio times it.
	a := draw(LognormalAverage(1000, 0, 0))
	m, _ = moments(a)
	assert.InDelta(t, 1000, m, 0.5, "lognormal average")
	sorted = slices.Sorted(slices.Values(a))
	assert.InDelta(t, 850, sorted[n/2], 10, "lognormal-avg median (ratio 0.85)")
	assert.LessOrEqual(t, slices.Max(draw(LognormalAverage(1000, 0.5, 3000))), 3000, "lognormal capped at Max")
}

func TestDistributionValidate(t *testing.T) {
	tests := []struct {
		d    Distribution
		want string
	}{
		{Distribution{Kind: "gauss"}, `unknown distribution "gauss"`},
		{Constant(-1), "constant: Value must be >= 0, got -1"},
		{Uniform(5, 4), "uniform: want 0 <= Min <= Max, got Min 5, Max 4"},
		{Uniform(-1, 4), "uniform: want 0 <= Min <= Max, got Min -1, Max 4"},
		{Lognormal(0, 1, 0), "lognormal: want Mean > 0 and Sigma >= 0 (or Average), got Mean 0, Sigma 1"},
		{Lognormal(1, -1, 0), "lognormal: want Mean > 0 and Sigma >= 0"},
		{LognormalAverage(0, 0.5, 0), "lognormal: want Mean > 0"},
		{LognormalAverage(-3, 0, 0), "lognormal: Average must be >= 1, got -3"},
		{LognormalAverage(100, 1, 0), "lognormal: MedianRatio must be in (0, 1), got 1"},
		{Distribution{Kind: DistLognormal, Average: 100, Mean: 1, Sigma: 1}, "give Average or Mean and Sigma, not both"},
		{Zipf(1, 0), "zipf: Alpha must be > 1, got 1"},
		{Poisson(-2, 0), "poisson: Alpha (the mean) must be in [0, 1e9], got -2"},
		{Poisson(math.NaN(), 0), "poisson: Alpha (the mean) must be in [0, 1e9], got NaN"},
		{Zipf(2, -1), "zipf: Max must be >= 0, got -1"},
	}
	for _, tt := range tests {
		err := tt.d.Validate()
		if assert.Error(t, err, "%#v.Validate()", tt.d) {
			assert.Contains(t, err.Error(), tt.want)
		}
	}
}

func TestDistributionString(t *testing.T) {
	for d, want := range map[Distribution]string{
		{}:                              "none",
		Constant(500):                   "constant-500",
		Uniform(120, 160):               "uniform-120-160",
		LognormalAverage(1000, 0, 5000): "lognormal-avg1000-max5000",
		LognormalAverage(1000, 0.5, 0):  "lognormal-avg1000-ratio0.5",
		Lognormal(2.5, 0.5, 0):          "lognormal-2.5-0.5",
		Zipf(1.5, 100):                  "zipf-1.5-max100",
		Poisson(8, 0):                   "poisson-8",
	} {
		assert.Equal(t, want, d.String())
	}
}
