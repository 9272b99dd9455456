package gate

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
	for _, u := range []string{LatencyUnit("ttft", "p99"), "ns/op", UnitRequestThroughput, UnitGoodput, UnitFailed, UnitSLAViolations} {
		_, tidy := benchunit.Tidy(1, u)
		assert.Equal(t, UnitBetter(u), UnitBetter(tidy), "UnitBetter(%q) != UnitBetter(%q)", tidy, u)
		assert.NotEqual(t, BetterUnknown, UnitBetter(u), "UnitBetter(%q)", u)
	}
}

func TestLatencyUnit(t *testing.T) {
	assert.Equal(t, "ttft-p99-ns", LatencyUnit("ttft", "p99"))
	assert.Equal(t, "e2el-p99.9-ns", LatencyUnit("e2el", "p99.9"))
}
