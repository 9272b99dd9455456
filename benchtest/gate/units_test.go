package gate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchunit"
)

func TestUnitBetter(t *testing.T) {
	tests := []struct {
		unit string
		want Better
	}{
		{"ttft-p99-ns", LowerIsBetter},
		{"ttft-p99-sec", LowerIsBetter},
		{"ttft-p99.9-ns", LowerIsBetter},
		{"e2el-mean-ns", LowerIsBetter},
		{"itl-median-ns", LowerIsBetter},
		{"ns/op", LowerIsBetter},
		{"sec/op", LowerIsBetter},
		{"B/op", LowerIsBetter},
		{"allocs/op", LowerIsBetter},
		{"sla-violations", LowerIsBetter},
		{"failed", LowerIsBetter},
		{"failed-req", LowerIsBetter},
		{"failed/op", LowerIsBetter},
		{"req/s", HigherIsBetter},
		{"out-tok/s", HigherIsBetter},
		{"tok/s", HigherIsBetter},
		{"goodput-req/s", HigherIsBetter},
		{"MB/s", HigherIsBetter},
		{"capacity-req/s", HigherIsBetter},
		{"capacity-concurrency", HigherIsBetter},
		{"capacity-points", BetterUnknown},
		{"concurrency", BetterUnknown},
		{"B/s", HigherIsBetter},
		{"", BetterUnknown},
		{"prompts", BetterUnknown},
		{"B", BetterUnknown},
		{"peak-concurrency", BetterUnknown},
		{"tokens/op", BetterUnknown},
	}
	for _, tt := range tests {
		got := UnitBetter(tt.unit)
		assert.Equal(t, tt.want, got, "UnitBetter(%q) = %v, want %v", tt.unit, got, tt.want)
	}
}

// TestUnitBetterTidied checks that every unit keeps its direction after
// benchfmt tidies it (ns -> sec).
func TestUnitBetterTidied(t *testing.T) {
	for _, u := range []string{LatencyUnit("ttft", "p99"), "ns/op", UnitRequestThroughput, UnitGoodput, UnitFailed, UnitSLAViolations,
		UnitCapacityRate, UnitCapacityConcurrency} {
		_, tidy := benchunit.Tidy(1, u)
		assert.Equal(t, UnitBetter(u), UnitBetter(tidy), "UnitBetter(%q) != UnitBetter(%q)", tidy, u)
		assert.NotEqual(t, BetterUnknown, UnitBetter(u), "UnitBetter(%q)", u)
	}
}

func TestLatencyUnit(t *testing.T) {
	assert.Equal(t, "ttft-p99-ns", LatencyUnit("ttft", "p99"))
	assert.Equal(t, "e2el-p99.9-ns", LatencyUnit("e2el", "p99.9"))
}

// TestCapacityRegression: a build that loses capacity is a regression,
// one that gains it an improvement, in either unit benchtest.Capacity
// reports; a concurrency capacity is a whole number, the same in every
// run of a steady server.
func TestCapacityRegression(t *testing.T) {
	const name = "Capacity-2"
	tests := []struct {
		name     string
		old, new metric
		want     Verdict
	}{
		{"concurrency lost", metric{UnitCapacityConcurrency, 64, 0}, metric{UnitCapacityConcurrency, 48, 0}, Regression},
		{"concurrency gained", metric{UnitCapacityConcurrency, 48, 0}, metric{UnitCapacityConcurrency, 64, 0}, Improvement},
		{"rate lost", metric{UnitCapacityRate, 12.5, 0.02}, metric{UnitCapacityRate, 10, 0.02}, Regression},
		{"rate gained", metric{UnitCapacityRate, 10, 0.02}, metric{UnitCapacityRate, 12.5, 0.02}, Improvement},
		{"rate within noise", metric{UnitCapacityRate, 10, 0.03}, metric{UnitCapacityRate, 10.2, 0.03}, Same},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compareText(t, benchText(1, header, name, 6, tt.old), benchText(2, header, name, 6, tt.new), CompareOptions{})
			require.NoError(t, err)
			r := findRow(t, c, tt.old.unit)
			assert.Equal(t, HigherIsBetter, r.Better, "%s: direction", tt.old.unit)
			assert.Equal(t, tt.want, r.Verdict, "%s %v -> %v: verdict", tt.old.unit, tt.old.center, tt.new.center)
			if tt.want == Regression {
				assert.Error(t, c.Err(), "Comparison.Err of a capacity loss")
			} else {
				assert.NoError(t, c.Err())
			}
		})
	}
}
