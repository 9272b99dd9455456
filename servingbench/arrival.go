package servingbench

import "time"

// Arrival is an arrival process: a pure, seeded schedule. Offsets returns
// the dispatch offset of each of n requests from the start of the run,
// non-decreasing.
type Arrival interface {
	Offsets(n int) []time.Duration
	String() string
}
