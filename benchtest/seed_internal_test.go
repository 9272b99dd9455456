package benchtest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/servingbench/servingbench/scenarios"
)

// TestRunCountsPerBenchmark: each benchmark name counts its own runs, and
// peekRun tells the next one without counting it.
func TestRunCountsPerBenchmark(t *testing.T) {
	ResetRuns()
	defer ResetRuns()
	var got []uint64
	for _, name := range []string{"BenchmarkA", "BenchmarkB", "BenchmarkA", "BenchmarkA/rate=1", "BenchmarkA"} {
		got = append(got, nextRun(name))
	}
	assert.Equal(t, []uint64{0, 0, 1, 0, 2}, got, "nextRun of A, B, A, A/rate=1, A")
	assert.Equal(t, uint64(3), peekRun("BenchmarkA"), "peekRun(A) after three runs")
	assert.Equal(t, uint64(3), peekRun("BenchmarkA"), "peekRun counts nothing")
	assert.Zero(t, peekRun("BenchmarkC"))
}

func TestRunSeed(t *testing.T) {
	sc := scenarios.Scenario{Seed: 7}
	tests := []struct {
		sc     scenarios.Scenario
		k      uint64
		pinned bool
		want   uint64
	}{
		{sc, 0, false, 7},
		{sc, 5, false, 12},
		{sc, 5, true, 7},
		{scenarios.Scenario{}, 3, false, 3},
		{scenarios.Scenario{Seed: math.MaxUint64}, 1, false, 0},
	}
	for _, tt := range tests {
		got := runSeed(tt.sc, tt.k, tt.pinned)
		assert.Equal(t, tt.want, got, "runSeed(Seed %d, k %d, pinned %v) = %d, want %d", tt.sc.Seed, tt.k, tt.pinned, got, tt.want)
	}
}
