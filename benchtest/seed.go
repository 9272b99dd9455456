package benchtest

import (
	"sync"

	"github.com/servingbench/servingbench/scenarios"
)

// runCounts counts, per benchmark name (b.Name()), the runs of Run in
// this process: every b.Loop iteration of every call, so that across
// -count repetitions and b.Loop iterations the k-th run of a benchmark
// (k from 0) always draws with the scenario's Seed + k.
var runCounts struct {
	mu sync.Mutex
	m  map[string]uint64
}

// peekRun returns the number of runs of benchmark name so far: the k of
// its next run.
func peekRun(name string) uint64 {
	runCounts.mu.Lock()
	defer runCounts.mu.Unlock()
	return runCounts.m[name]
}

// nextRun returns the k of benchmark name's next run and counts it.
func nextRun(name string) uint64 {
	runCounts.mu.Lock()
	defer runCounts.mu.Unlock()
	if runCounts.m == nil {
		runCounts.m = make(map[string]uint64)
	}
	k := runCounts.m[name]
	runCounts.m[name] = k + 1
	return k
}

// runSeed is the seed of the k-th run of sc: sc.Seed + k (wrapping past
// the largest uint64), or sc.Seed when pinned.
func runSeed(sc scenarios.Scenario, k uint64, pinned bool) uint64 {
	if pinned {
		return sc.Seed
	}
	return sc.Seed + k
}
