//go:build race

package llamacpp_test

// raceEnabled: TestConformance skips under the race detector, which slows
// the client whose timing it checks; .ci/run runs it without.
const raceEnabled = true
