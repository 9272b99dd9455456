//go:build race

package servingbench_test

// raceEnabled: the race detector slows every goroutine several times, so
// tests that bound timing errors skip under it (.ci/run runs them without).
const raceEnabled = true
