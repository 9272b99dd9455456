package stats

import "math"

// Number is an element type the statistics accept: float64 or any integer
// type such as time.Duration (uint32 for the client lags, which are
// nanoseconds saturated at math.MaxUint32).
type Number interface {
	~int | ~int32 | ~int64 | ~uint32 | ~float64
}

// Mean returns the arithmetic mean of x, or 0 when x is empty.
func Mean[E Number](x []E) float64 {
	if len(x) == 0 {
		return 0
	}
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	return sum / float64(len(x))
}

// Median returns the median of sorted (ascending), or 0 when it is empty.
// For an even count it is the mean of the two middle values.
func Median[E Number](sorted []E) float64 {
	return Percentile(sorted, 50)
}

// Std returns the population standard deviation (ddof 0) of x, or 0 when x
// is empty. It uses two passes, like numpy: the mean first, then the mean
// squared deviation.
func Std[E Number](x []E) float64 {
	if len(x) == 0 {
		return 0
	}
	m := Mean(x)
	var ss float64
	for _, v := range x {
		d := float64(v) - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(x)))
}

// Percentile returns the p-th percentile (p in [0,100]) of sorted
// (ascending) with numpy's default linear method, or 0 when sorted is
// empty. p below 0 or above 100 is clamped.
func Percentile[E Number](sorted []E, p float64) float64 {
	return PercentileAt(len(sorted), p, func(i int) float64 { return float64(sorted[i]) })
}

// PercentileAt is Percentile over n values that are not held in a sorted
// slice: at(i) returns the i-th smallest (0-based). It calls at at most
// twice, for two neighbouring ranks.
func PercentileAt(n int, p float64, at func(i int) float64) float64 {
	if n == 0 {
		return 0
	}
	if n == 1 || p <= 0 || math.IsNaN(p) {
		return at(0)
	}
	if p >= 100 {
		return at(n - 1)
	}
	rank := float64(n-1) * (p / 100)
	lo := math.Floor(rank)
	i := int(lo)
	if i >= n-1 {
		return at(n - 1)
	}
	return lerp(at(i), at(i+1), rank-lo)
}

// lerp interpolates like numpy's _lerp: from a below t = 0.5 and from b at
// or above it, which keeps the result within [a, b] and exact at t = 1.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}
