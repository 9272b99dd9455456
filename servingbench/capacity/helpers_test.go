package capacity_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The known-answer server: K running sequences, steps of D, requests of
// O output tokens, so a service time S = O*D and a capacity of K
// concurrent requests or K/S requests per second (servingtest.FixedService).
const (
	knownK = 4
	knownD = 10 * time.Millisecond
	knownO = 40
	knownS = knownO * knownD // 400ms: 10 req/s with 4 slots
)

// knownSLA lies between the unqueued TTFT (D, at most 2D when the engine
// is busy) and the wait for a slot (S/K = 100ms on average at K+1).
var knownSLA = servingbench.MustParseSLA("ttft.p99<=50ms failed<=0")

// newKnownServer starts the known-answer server on an in-memory listener;
// call it inside a synctest bubble.
func newKnownServer(t *testing.T) *servingtest.Server {
	t.Helper()
	srv := servingtest.NewUnstartedServer(servingtest.FixedService(knownK, knownD))
	srv.Listener = servingtest.NewListener()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// knownConfig is a run configuration of n requests against srv; the
// client is closed when the test ends.
func knownConfig(t *testing.T, srv *servingtest.Server, n int) servingbench.Config {
	t.Helper()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{
		BaseURL: srv.URL, Model: srv.Model().Name, HTTPClient: srv.Client(), IgnoreEOS: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: "a b c d", MaxTokens: knownO}
	}
	return servingbench.Config{Client: client, Requests: reqs, NoPrewarm: true}
}

// evenly spaces requests 1/rate apart from t=0; 0 or +Inf sends them all
// at once.
func evenly(rate float64) servingbench.Arrival {
	if rate == 0 || rate > 1e12 {
		return nil
	}
	gap := time.Duration(float64(time.Second) / rate)
	return evenlyArrival{gap}
}

type evenlyArrival struct{ gap time.Duration }

func (e evenlyArrival) Offsets(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * e.gap
	}
	return out
}

func (e evenlyArrival) String() string { return "evenly(" + e.gap.String() + ")" }

// fakeRunner returns a report per load from a function of the load and the
// call's number at that load, after sleeping d (fake time in a bubble).
type fakeRunner struct {
	d      time.Duration
	report func(l capacity.Load, trial int) *servingbench.Report

	mu    sync.Mutex
	calls map[capacity.Load]int
	loads []capacity.Load
}

func (f *fakeRunner) run(ctx context.Context, l capacity.Load) (*servingbench.Report, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[capacity.Load]int{}
	}
	n := f.calls[l]
	f.calls[l]++
	f.loads = append(f.loads, l)
	f.mu.Unlock()
	if f.d > 0 {
		select {
		case <-time.After(f.d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.report(l, n), nil
}

// ttftReport is a report of one successful request whose TTFT is d.
func ttftReport(d time.Duration) *servingbench.Report {
	return &servingbench.Report{
		Completed: 1, Duration: time.Second, RequestThroughput: 1,
		TTFT: servingbench.Summary{Count: 1, Mean: d, Median: d, Samples: []time.Duration{d}},
	}
}

// values returns the points' loads on the search's dimension.
func values(r *capacity.SearchResult) []float64 {
	out := make([]float64, len(r.Points))
	for i, p := range r.Points {
		out[i] = p.Value
	}
	return out
}

// verdicts returns the points' verdicts.
func verdicts(r *capacity.SearchResult) []bool {
	out := make([]bool, len(r.Points))
	for i, p := range r.Points {
		out[i] = p.Pass
	}
	return out
}
