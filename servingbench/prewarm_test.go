package servingbench_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// prewarmServer answers Prewarm's GET /v1/models with 404 and completions
// with a two-token stream, and counts both, and the connections accepted.
type prewarmServer struct {
	*httptest.Server
	gets, posts, conns atomic.Int64
	getsBeforePost     atomic.Int64
}

func newPrewarmServer(t *testing.T) *prewarmServer {
	s := &prewarmServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			s.gets.Add(1)
			if s.posts.Load() == 0 {
				s.getsBeforePost.Add(1)
			}
			http.NotFound(w, r)
			return
		}
		s.posts.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, sseStream(2))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestPrewarmFitsTheRun: Run opens as many connections ahead of time as the
// run's first second can use: the requests scheduled in it, at most
// MaxConcurrency, 64 when concurrency is unbounded, never more than 256;
// none with NoPrewarm.
func TestPrewarmFitsTheRun(t *testing.T) {
	ms := func(d ...int) servingbench.Trace {
		tr := make(servingbench.Trace, len(d))
		for i, v := range d {
			tr[i] = time.Duration(v) * time.Millisecond
		}
		return tr
	}
	tests := []struct {
		name           string
		n              int
		arrival        servingbench.Arrival
		maxConcurrency int
		noPrewarm      bool
		want           int
	}{
		{"rate inf, unbounded concurrency", 300, nil, 0, false, 64},
		{"rate inf, max concurrency 8", 300, nil, 8, false, 8},
		{"rate inf, max concurrency 1000", 1000, nil, 1000, false, 256},
		{"fewer requests than the bound", 5, nil, 0, false, 5},
		{"rate-limited: the first second's requests", 6, ms(0, 10, 400, 999, 1000, 1200), 0, false, 4},
		{"NoPrewarm", 300, nil, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newPrewarmServer(t)
			client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
			require.NoError(t, err)
			defer client.Close()
			rep, err := servingbench.Run(context.Background(), servingbench.Config{
				Client: client, Requests: uniqueRequests(tt.n, 2), Arrival: tt.arrival,
				MaxConcurrency: tt.maxConcurrency, NoPrewarm: tt.noPrewarm,
			})
			require.NoError(t, err)
			assert.Equal(t, tt.n, rep.Completed, "Report.Completed")
			assert.Equal(t, int64(tt.want), srv.gets.Load(), "Prewarm's GET requests")
			assert.Equal(t, int64(tt.want), srv.getsBeforePost.Load(), "GET requests before the first completion")
		})
	}
}

// TestRunCancelledDuringPrewarm: a context cancelled while connections are
// being prewarmed is a cancellation: Run returns ErrNotStarted and no
// report, not a prewarm failure, and sends no request.
func TestRunCancelledDuringPrewarm(t *testing.T) {
	defer checkNoLeaks(t)()
	got := make(chan struct{})
	var once sync.Once
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			once.Do(func() { close(got) })
			<-r.Context().Done() // prewarm never completes by itself
			return
		}
		posts.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, sseStream(2))
	}))
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
	require.NoError(t, err)
	defer client.Close()

	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-got
		cancel(errors.New("interrupted"))
	}()
	rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Requests: uniqueRequests(8, 2)})
	require.ErrorIs(t, err, servingbench.ErrNotStarted)
	assert.EqualError(t, err, "servingbench: interrupted before the benchmark started (during the connection prewarm): interrupted")
	assert.Nil(t, rep, "Report of a run that did not start")
	assert.Zero(t, posts.Load(), "completion requests the server received")
}

// TestRunCancelledDuringWarmup: a run cancelled while its warm-up request
// runs returns ErrNotStarted and no report, not a warm-up failure.
func TestRunCancelledDuringWarmup(t *testing.T) {
	defer checkNoLeaks(t)()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	m := servingtest.Model{Name: "sim-slow", DecodeBase: 20 * time.Millisecond}
	// The server calls Match when the warm-up request arrives: cancel then
	// (it would take 200 steps, 4 s).
	m.Faults = []servingtest.Fault{{Kind: servingtest.FaultInternal, Match: func(int, string) bool {
		cancel(errors.New("interrupted"))
		return false
	}}}
	srv := servingtest.NewServer(m)
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: m.Name, IgnoreEOS: true})
	require.NoError(t, err)
	defer client.Close()
	rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Requests: uniqueRequests(10, 200), Warmup: true})
	require.ErrorIs(t, err, servingbench.ErrNotStarted)
	assert.EqualError(t, err, "servingbench: interrupted before the benchmark started (during the warm-up): interrupted")
	assert.Nil(t, rep, "Report of a run that did not start")
	assert.Len(t, srv.Truth(), 1, "requests the server received: the warm-up only")
}
