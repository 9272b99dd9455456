package benchtest

// ResetRuns forgets the runs counted so far (see Run's seed rule), so that
// a test's next run of a benchmark is its run 0, as in a new process.
func ResetRuns() {
	runCounts.mu.Lock()
	defer runCounts.mu.Unlock()
	runCounts.m = nil
}
