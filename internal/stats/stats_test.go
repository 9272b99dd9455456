package stats

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Expected values are numpy's, computed by hand (and checked with plain
// Python arithmetic) in the comments.
func TestStatistics(t *testing.T) {
	tests := []struct {
		name                      string
		sorted                    []float64
		mean, median, std         float64
		p50, p90, p99, p999, p100 float64
	}{
		{
			name:   "empty",
			sorted: nil,
			// numpy.mean([] or 0) == 0 and so on: every statistic is 0.
		},
		{
			name:   "one",
			sorted: []float64{5},
			mean:   5, median: 5, std: 0,
			p50: 5, p90: 5, p99: 5, p999: 5, p100: 5,
		},
		{
			name:   "odd",
			sorted: []float64{1, 2, 3, 4, 10},
			// mean = 20/5 = 4
			mean: 4,
			// median: middle value (rank 0.5*4 = 2) = 3
			median: 3,
			// deviations -3 -2 -1 0 6, squares 9+4+1+0+36 = 50, 50/5 = 10,
			// sqrt(10) = 3.1622776601683795
			std: 3.1622776601683795,
			p50: 3,
			// rank 0.9*4 = 3.6: 4 + 0.6*(10-4) = 7.6
			p90: 7.6,
			// rank 0.99*4 = 3.96: 4 + 0.96*6 = 9.76
			p99: 9.76,
			// rank 0.999*4 = 3.996: 4 + 0.996*6 = 9.976
			p999: 9.976,
			p100: 10,
		},
		{
			name:   "even",
			sorted: []float64{1, 2, 3, 4},
			// mean = 10/4 = 2.5
			mean: 2.5,
			// median: rank 0.5*3 = 1.5: (2+3)/2 = 2.5
			median: 2.5,
			// deviations -1.5 -0.5 0.5 1.5, squares sum 5, 5/4 = 1.25,
			// sqrt(1.25) = 1.118033988749895
			std: 1.118033988749895,
			p50: 2.5,
			// rank 0.9*3 = 2.7: 3 + 0.7*1 = 3.7
			p90: 3.7,
			// rank 0.99*3 = 2.97: 3.97
			p99: 3.97,
			// rank 0.999*3 = 2.997: 3.997
			p999: 3.997,
			p100: 4,
		},
		{
			name:   "two with negative",
			sorted: []float64{-2, 6},
			// mean 2, median 2, std sqrt((16+16)/2) = 4
			mean: 2, median: 2, std: 4,
			// rank p/100: -2 + 8*p/100
			p50: 2, p90: 5.2, p99: 5.92, p999: 5.992, p100: 6,
		},
	}
	const eps = 1e-12
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tt.sorted
			assert.InDelta(t, tt.mean, Mean(x), eps, "Mean(%v) = %v, want %v", x, Mean(x), tt.mean)
			assert.InDelta(t, tt.median, Median(x), eps, "Median(%v) = %v, want %v", x, Median(x), tt.median)
			assert.InDelta(t, tt.std, Std(x), eps, "Std(%v) = %v, want %v", x, Std(x), tt.std)
			for _, c := range []struct{ p, want float64 }{
				{50, tt.p50}, {90, tt.p90}, {99, tt.p99}, {99.9, tt.p999}, {100, tt.p100},
			} {
				got := Percentile(x, c.p)
				assert.InDelta(t, c.want, got, eps, "Percentile(%v, %v) = %v, want %v", x, c.p, got, c.want)
			}
		})
	}
}

func TestPercentileEdges(t *testing.T) {
	x := []float64{10, 20, 30}
	tests := []struct {
		p, want float64
	}{
		{0, 10},
		{-5, 10},      // clamped
		{150, 30},     // clamped
		{25, 15},      // rank 0.5
		{75, 25},      // rank 1.5
		{100, 30},     // last
		{33.3, 16.66}, // rank 0.666: 10 + 0.666*10
	}
	for _, tt := range tests {
		got := Percentile(x, tt.p)
		assert.InDelta(t, tt.want, got, 1e-9, "Percentile(%v, %v) = %v, want %v", x, tt.p, got, tt.want)
	}
}

func TestLerpStaysInRange(t *testing.T) {
	// numpy's lerp interpolates from the upper end for t >= 0.5, so the
	// result never overshoots b even with large magnitudes.
	a, b := 1e16, 1e16+2
	for _, tt := range []float64{0, 0.25, 0.5, 0.75, 1} {
		got := lerp(a, b, tt)
		assert.True(t, got >= a && got <= b, "lerp(%v, %v, %v) = %v, want within range", a, b, tt, got)
	}
	assert.Equal(t, b, lerp(a, b, 1), "lerp(a, b, 1) = %v, want b", lerp(a, b, 1))
}

func TestDurations(t *testing.T) {
	ms := time.Millisecond
	x := []time.Duration{10 * ms, 20 * ms, 40 * ms}
	// mean = 70/3 ms = 23333333.33 ns; median 20 ms;
	// deviations (ms) -13.33 -3.33 16.67, squares 177.78+11.11+277.78 = 466.67,
	// /3 = 155.56, sqrt = 12.472191 ms
	assert.InDelta(t, 70e6/3, Mean(x), 1e-6, "Mean(%v)", x)
	assert.InDelta(t, 20e6, Median(x), 1e-6, "Median(%v)", x)
	assert.InDelta(t, 12.472191289246471e6, Std(x), 1e-3, "Std(%v)", x)
	// P99: rank 1.98: 40 - 20*0.02 = 39.6 ms
	assert.InDelta(t, 39.6e6, Percentile(x, 99), 1e-3, "Percentile(%v, 99)", x)
}

// TestUint32: the client lags' nanoseconds, math.MaxUint32 included,
// convert to float64 exactly (no wrap-around past 2^31).
func TestUint32(t *testing.T) {
	x := []uint32{1000, 3000, math.MaxUint32}
	// P50 is the middle value; P75: rank 1.5, halfway between 3000 and 4294967295.
	assert.Equal(t, 3000.0, Percentile(x, 50), "Percentile(%v, 50)", x)
	assert.Equal(t, 3000+(math.MaxUint32-3000)/2.0, Percentile(x, 75), "Percentile(%v, 75)", x)
	assert.Equal(t, float64(math.MaxUint32), Percentile(x, 100), "Percentile(%v, 100)", x)
	assert.Equal(t, (4000+float64(math.MaxUint32))/3, Mean(x), "Mean(%v)", x)
}

func BenchmarkPercentile(b *testing.B) {
	x := make([]float64, 100000)
	for i := range x {
		x[i] = float64(i)
	}
	for b.Loop() {
		Percentile(x, 99.9)
	}
}
