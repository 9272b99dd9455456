package servingbench_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// leakSettle bounds the wait for goroutines to end: a closed connection's
// read loop ends when the kernel reports the close, which on a loaded
// machine can take a while.
const leakSettle = 5 * time.Second

// goroutines returns the stacks of all goroutines but the caller's, keyed
// by goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller
		}
		head, _, _ := bytes.Cut(g, []byte(" ["))
		out[string(head)] = string(g)
	}
	return out
}

// checkNoLeaks snapshots the goroutines and returns a function that fails
// the test if goroutines started since remain, after retries for up to
// leakSettle. Call it as defer checkNoLeaks(t)(), before the servers and
// clients are created, so that their Close runs first.
func checkNoLeaks(t *testing.T) func() {
	t.Helper()
	before := goroutines()
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(leakSettle)
		for {
			leaked = leaked[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !ignoredGoroutine(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines left behind:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

// checkNoClientGoroutines fails the test if a goroutine of the client side
// remains: the runner, the streaming clients and the HTTP transport's
// connection loops. Call it after Run returned and the client's idle
// connections were closed, while the server may still run.
func checkNoClientGoroutines(t *testing.T) {
	t.Helper()
	var leaked []string
	deadline := time.Now().Add(leakSettle)
	for {
		leaked = leaked[:0]
		for _, stack := range goroutines() {
			if clientGoroutine(stack) {
				leaked = append(leaked, stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(leaked) > 0 {
		t.Errorf("%d client goroutines left after Run returned and the client closed:\n\n%s",
			len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// clientGoroutine reports whether a stack belongs to the client side.
func clientGoroutine(stack string) bool {
	return strings.Contains(stack, "net/http.(*persistConn)") ||
		strings.Contains(stack, "net/http.(*Transport)") ||
		strings.Contains(stack, "/servingbench/servingbench.") ||
		strings.Contains(stack, "/internal/sse.") ||
		strings.Contains(stack, "/internal/h1.")
}

// ignoredGoroutine reports goroutines that belong to the test framework or
// the runtime, not to the code under test.
func ignoredGoroutine(stack string) bool {
	return strings.Contains(stack, "testing.(*T).Run") ||
		strings.Contains(stack, "testing.tRunner") && strings.Contains(stack, "_test.Test") ||
		strings.Contains(stack, "runtime.goexit") && strings.Contains(stack, "created by runtime.gc")
}

// connCounter counts a test server's connections by state.
type connCounter struct {
	mu     sync.Mutex
	opened int
	state  map[net.Conn]http.ConnState
}

func (c *connCounter) hook(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = map[net.Conn]http.ConnState{}
	}
	if s == http.StateNew {
		c.opened++
	}
	if s == http.StateClosed || s == http.StateHijacked {
		delete(c.state, conn)
		return
	}
	c.state[conn] = s
}

// counts returns the connections opened so far and those active now.
func (c *connCounter) counts() (opened, active int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.state {
		if s == http.StateActive {
			active++
		}
	}
	return c.opened, active
}

// sseStream is a valid completions stream of n tokens with usage.
func sseStream(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(`data: {"choices":[{"index":0,"text":" w","finish_reason":null}]}` + "\n\n")
	}
	fmt.Fprintf(&b, `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":%d}}`+"\n\n", n)
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}

// TestBodiesDrainedAndClosed: after an HTTP error, a wrong content type or
// a complete stream the client reads the rest of the body (up to a bound)
// and closes it, so that one keep-alive connection serves every request;
// after a broken stream it drops the connection. No connection is left
// active once Run returns.
func TestBodiesDrainedAndClosed(t *testing.T) {
	bigBody := `{"error":{"message":"` + strings.Repeat("x", 16<<10) + `"}}`
	responses := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { // a success
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, sseStream(3))
		},
		func(w http.ResponseWriter) { // an error body longer than the excerpt kept
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, bigBody)
		},
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"message":"slow down"}}`)
		},
		func(w http.ResponseWriter) { // HTTP 200, JSON instead of a stream
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, bigBody)
		},
		func(w http.ResponseWriter) { // a stream with no tokens
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: [DONE]\n\n")
		},
	}
	var conns connCounter
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		responses[int(n.Add(1)-1)%len(responses)](w)
	}))
	srv.Config.ConnState = conns.hook
	srv.Start()
	defer srv.Close()

	for _, ck := range clientKinds {
		t.Run(ck.name, func(t *testing.T) {
			client, err := ck.new(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
			require.NoError(t, err)
			defer client.Close()
			before, _ := conns.counts()
			rep, err := servingbench.Run(context.Background(), servingbench.Config{
				Client: client, Requests: uniqueRequests(4*len(responses), 3), MaxConcurrency: 1})
			require.NoError(t, err)
			assert.Equal(t, 4, rep.Completed, "Report.Completed")
			assert.Equal(t, 4*(len(responses)-1), rep.Failed, "Report.Failed")
			opened, _ := conns.counts()
			assert.Equal(t, 1, opened-before, "connections opened for %d sequential requests, want 1 reused", len(rep.Results))
			// The server marks a connection idle after its handler returned,
			// which may be after the client read the end of the response.
			assert.Eventually(t, func() bool {
				_, active := conns.counts()
				return active == 0
			}, leakSettle, 5*time.Millisecond, "connections still active after Run returned")
		})
	}
}

// TestBrokenStreamsReleaseConnections: a stream the client gives up on
// (malformed JSON, an idle timeout, a body over the line limit) is not
// drained; its connection is closed, and none is left active. It runs in
// a synctest bubble over an in-memory listener, so the idle timeout ends
// the stalled streams only, never a slow-to-start malformed or long one.
func TestBrokenStreamsReleaseConnections(t *testing.T) {
	defer checkNoLeaks(t)()
	synctest.Test(t, func(t *testing.T) {
		var conns connCounter
		var n atomic.Int64
		srv := newBubbleHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet { // Prewarm
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			switch n.Add(1) % 3 {
			case 0:
				fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" w\"}]}\n\ndata: {\"choices\n\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done() // the client must hang up, not wait for the end
			case 1:
				fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\" w\"}]}\n\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			case 2:
				fmt.Fprint(w, "data: "+strings.Repeat("x", 128<<10))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		}), conns.hook)

		client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m",
			StreamIdleTimeout: 200 * time.Millisecond, MaxLineBytes: 64 << 10, HTTPClient: srv.Client})
		require.NoError(t, err)
		defer client.Close()
		rep, err := servingbench.Run(context.Background(), servingbench.Config{
			Client: client, Requests: uniqueRequests(9, 3), MaxConcurrency: 3})
		require.NoError(t, err)
		assert.Equal(t, 9, rep.Failed, "Report.Failed")
		reasons := map[string]int{}
		for _, e := range rep.Errors {
			reasons[e.Reason] = e.Count
		}
		assert.Equal(t, map[string]int{"malformed JSON": 3, "stream idle timeout": 3, "line too long": 3}, reasons, "Report.Errors")
		synctest.Wait() // the server has seen every close
		_, active := conns.counts()
		assert.Zero(t, active, "connections still active after Run returned")
		client.Close()
		synctest.Wait()
		checkNoClientGoroutines(t)
	})
}
