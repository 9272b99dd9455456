package benchtest_test

import (
	"testing"
	"time"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The known-answer server, for tests that run benchmarks against it
// inside synctest bubbles, through WithServer and an in-memory listener:
// server and client read the bubble's fake clock, so every search is
// exact on any machine, however loaded, and takes no real time.
//
// The server has K running sequences and steps of D; a request of O output
// tokens takes S = O*D (servingtest.FixedService), so the server carries K
// concurrent requests, or K/S requests per second.
const (
	knownK = 4
	knownD = 10 * time.Millisecond
	knownO = 40
	knownS = knownO * knownD // 400ms: 10 req/s with 4 slots
)

// knownSLA lies between the unqueued TTFT (D, at most 2D when the engine
// is busy) and the wait for a slot (S/K = 100ms on average at K+1).
var knownSLA = servingbench.MustParseSLA("ttft.p99<=50ms failed<=0")

// knownServer starts the known-answer server, with faults, on an
// in-memory listener; call it inside a synctest bubble.
func knownServer(t *testing.T, faults ...servingtest.Fault) *servingtest.Server {
	t.Helper()
	m := servingtest.FixedService(knownK, knownD)
	m.Faults = faults
	srv := servingtest.NewUnstartedServer(m)
	srv.Listener = servingtest.NewListener()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// knownScenario is 100 prompts (the fewest a p99 is judged on) of O
// output tokens, all sent at once.
func knownScenario() scenarios.Scenario {
	return scenarios.Scenario{Name: "known", Dataset: scenarios.Random{InputLen: 4, OutputLen: knownO}, NumPrompts: 100, IgnoreEOS: true}
}
