package benchtest_test

import (
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
)

// TestMain prints the target's identity as benchfmt configuration before
// the benchmarks run. (The output tests give Main options through the
// environment of their child processes: see mainOptions.)
func TestMain(m *testing.M) { benchtest.Main(m, mainOptions()...) }

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

// BenchmarkSeedBuilds runs the seed scenario against the simulated FP16 and
// W8A8 builds of one model (at SERVINGBENCH_SIM_SPEED, whatever the
// target), one sub-benchmark each, named model=NAME so that one output
// file compares them:
//
//	go test -run '^$' -bench SeedBuilds -benchtime=1x -count=6 ./benchtest > builds.txt
//	benchstat -col /model builds.txt
func BenchmarkSeedBuilds(b *testing.B) {
	speed := benchtest.TargetFromEnv(nil).SimSpeed
	for _, sim := range []string{"fp16", "w8a8"} {
		m, err := benchtest.SimProfile(sim)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("model="+m.Name, func(b *testing.B) {
			benchtest.Run(b, seed(), benchtest.WithTarget(benchtest.Target{Sim: sim, SimSpeed: speed}))
		})
	}
}

// BenchmarkChatRates sweeps the request rate of a chat-like load: one
// sub-benchmark per rate, named rate=R (benchstat -col /rate). The rates
// suit the simulated server's default speed; the Poisson arrivals make
// each run last about NumPrompts/rate seconds.
func BenchmarkChatRates(b *testing.B) {
	sc := scenarios.Chat()
	sc.NumPrompts = 200
	if testing.Short() {
		sc.NumPrompts = 50
	}
	benchtest.Sweep(b, scenarios.RateSweep(sc, 200, 800))
}
