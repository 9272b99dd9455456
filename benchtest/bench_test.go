package benchtest_test

import (
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
)

// TestMain prints the target's identity as benchfmt configuration before
// the benchmarks run.
func TestMain(m *testing.M) { benchtest.Main(m) }

// seed is the seed document's scenario (640 random prompts of 256 tokens,
// 128 output tokens, all at once), scaled down to 64 prompts under -short.
func seed() scenarios.Scenario {
	sc := scenarios.SeedRandom256()
	if testing.Short() {
		sc.NumPrompts = 64
	}
	return sc
}

// BenchmarkSeed runs the seed scenario against the environment's target
// (the simulated FP16 profile unless SERVINGBENCH_BASE_URL or
// SERVINGBENCH_SIM say otherwise):
//
//	go test -run '^$' -bench Seed -benchtime=1x -count=6 -timeout 0 ./benchtest
func BenchmarkSeed(b *testing.B) {
	benchtest.Run(b, seed())
}
