package servingbench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClient answers every request after Latency with Tokens token events
// spaced Gap apart, using the (possibly synthetic) clock of the caller.
type fakeClient struct {
	Latency time.Duration
	Gap     time.Duration
	Tokens  int
	Fail    func(i int) error

	mu       sync.Mutex
	inFlight int
	peak     int
	calls    atomic.Int64
}

func (c *fakeClient) Send(ctx context.Context, req *Request, res *Result) {
	n := c.calls.Add(1)
	c.mu.Lock()
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	res.Sent = time.Now()
	defer func() { res.Done = time.Now() }()
	if c.Fail != nil {
		if err := c.Fail(int(n)); err != nil {
			res.Err = err
			return
		}
	}
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			res.Err = ctx.Err()
			return false
		}
	}
	if !wait(c.Latency) {
		return
	}
	for i := range c.Tokens {
		if i > 0 && !wait(c.Gap) {
			return
		}
		res.Events = append(res.Events, time.Since(res.Sent))
	}
	res.OutputTokens, res.OutputSource = c.Tokens, SourceUsage
}

func requests(n, promptTokens, maxTokens int) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{Prompt: "p", PromptTokens: promptTokens, MaxTokens: maxTokens}
	}
	return reqs
}

func TestRunValidatesConfig(t *testing.T) {
	client := &fakeClient{Tokens: 1}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client", Config{Requests: requests(1, 1, 1)}, "Config.Client"},
		{"no requests", Config{Client: client}, "Config.Requests"},
		{"negative concurrency", Config{Client: client, Requests: requests(1, 1, 1), MaxConcurrency: -3}, "MaxConcurrency must be >= 0, got -3"},
		{"bad rate", Config{Client: client, Requests: requests(1, 1, 1), Arrival: Gamma{Rate: -1}}, "Gamma.Rate"},
		{"bad max tokens", Config{Client: client, Requests: []Request{{Prompt: "x", MaxTokens: -2}}}, "Requests[0].MaxTokens"},
		{"bad slo", Config{Client: client, Requests: requests(1, 1, 1), Goodput: SLO{TTFT: -1}}, "Goodput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(t.Context(), tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Zero(t, client.calls.Load(), "Run sent a request despite a bad config")
		})
	}
}

func TestRunFollowsScheduleExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrival := Gamma{Rate: 20, Burstiness: 0.5, Seed: 7}
		client := &fakeClient{Latency: 30 * time.Millisecond, Gap: 10 * time.Millisecond, Tokens: 4}
		rep, err := Run(t.Context(), Config{Client: client, Requests: requests(50, 10, 4), Arrival: arrival})
		require.NoError(t, err)
		require.Len(t, rep.Results, 50)
		offsets := arrival.Offsets(50)
		start := rep.Date
		for i, r := range rep.Results {
			assert.Equal(t, offsets[i], r.Scheduled.Sub(start), "request %d scheduled", i)
			assert.Equal(t, r.Scheduled, r.SlotAcquired, "request %d waited without a concurrency limit", i)
		}
		assert.Equal(t, 50, rep.Completed)
		assert.Equal(t, 20.0, rep.RequestRate)
		assert.Equal(t, 0.5, rep.Burstiness)
		// Duration: first dispatch to the end of the last request.
		assert.Equal(t, offsets[49]+60*time.Millisecond, rep.Duration)
		assert.Equal(t, 30*time.Millisecond, rep.TTFT.Mean)
	})
}

func TestRunMaxConcurrencyQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := &fakeClient{Latency: time.Second, Tokens: 1}
		rep, err := Run(t.Context(), Config{Client: client, Requests: requests(6, 10, 1), MaxConcurrency: 2})
		require.NoError(t, err)
		assert.Equal(t, 2, client.peak)
		var delays []time.Duration
		for _, r := range rep.Results {
			delays = append(delays, r.QueueDelay())
			assert.Equal(t, time.Second, r.TTFT(), "TTFT excludes the wait for a slot")
		}
		assert.ElementsMatch(t, []time.Duration{0, 0, time.Second, time.Second, 2 * time.Second, 2 * time.Second}, delays)
		assert.Equal(t, 3*time.Second, rep.Duration)
		assert.Equal(t, 2, rep.MaxConcurrency)
	})
}

func TestRunCancelKeepsMeasuredRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		client := &fakeClient{Latency: 100 * time.Millisecond, Tokens: 1}
		var done atomic.Int64
		cfg := Config{
			Client: client, Requests: requests(10, 5, 1), Arrival: Gamma{Rate: 10, Burstiness: 1e9},
			OnResult: func(r *Result) {
				if done.Add(1) == 3 {
					cancel()
				}
			},
		}
		rep, err := Run(ctx, cfg)
		require.NoError(t, err)
		assert.True(t, rep.Partial)
		assert.Equal(t, 3, rep.Completed, "requests finished before the cancel are kept")
		assert.Less(t, len(rep.Results), 10, "dispatch stopped")
		assert.Equal(t, len(rep.Results), rep.Completed+rep.Failed)
		assert.NotEmpty(t, rep.Warnings)
	})
}

func TestRunWarmup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := &fakeClient{Tokens: 2, Gap: time.Millisecond}
		rep, err := Run(t.Context(), Config{Client: client, Requests: requests(3, 1, 2), Warmup: true})
		require.NoError(t, err)
		assert.EqualValues(t, 4, client.calls.Load(), "one warm-up and three measured requests")
		assert.Equal(t, 3, rep.Completed)

		failing := &fakeClient{Tokens: 1, Fail: func(int) error { return errors.New("boom") }}
		_, err = Run(t.Context(), Config{Client: failing, Requests: requests(3, 1, 1), Warmup: true})
		require.ErrorContains(t, err, "warm-up request failed: boom")
	})
}

func TestGammaOffsets(t *testing.T) {
	g := Gamma{Rate: 100, Burstiness: 1, Seed: 1}
	a, b := g.Offsets(20000), g.Offsets(20000)
	require.Equal(t, a, b, "same seed, same schedule")
	assert.NotEqual(t, a, Gamma{Rate: 100, Burstiness: 1, Seed: 2}.Offsets(20000))
	assert.Zero(t, a[0])
	for i := 1; i < len(a); i++ {
		require.GreaterOrEqual(t, a[i], a[i-1])
	}
	// Mean gap 1/rate within 3%: 20,000 exponential gaps have a relative
	// standard error of 0.7%.
	mean := a[len(a)-1].Seconds() / float64(len(a)-1)
	assert.InDelta(t, 0.01, mean, 0.0003)
	assert.Equal(t, make([]time.Duration, 3), Gamma{}.Offsets(3), "zero rate is inf")
	assert.Equal(t, "rate=inf", Gamma{}.String())
	assert.Equal(t, "rate=8,burstiness=1", Poisson(8, 0).String())
}

type wordTokenizer struct{}

func (wordTokenizer) Encode(s string) []int {
	var ids []int
	in := false
	for _, c := range s {
		if c == ' ' {
			in = false
		} else if !in {
			in = true
			ids = append(ids, len(ids))
		}
	}
	return ids
}
func (wordTokenizer) Decode(ids []int) string { return "" }
func (wordTokenizer) VocabSize() int          { return 1 }
