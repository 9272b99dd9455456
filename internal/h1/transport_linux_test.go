//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/servingbench/servingbench/internal/chunked"
)

// recorder is a Handler that keeps what it was handed, and acts as told
// after a number of body bytes.
type recorder struct {
	resp     *http.Response
	body     []byte
	reads    int
	arrivals []int64
	after    int    // act once the body holds this many bytes (0: never)
	act      Action // what to do then
	onBody   func() // called with each read's bytes, when set
}

func (r *recorder) Header(resp *http.Response) Action {
	r.resp = resp
	return Continue
}

func (r *recorder) Body(p []byte, read time.Time, arrival int64) Action {
	r.body = append(r.body, p...)
	r.reads++
	r.arrivals = append(r.arrivals, arrival)
	if r.onBody != nil {
		r.onBody()
	}
	if r.after > 0 && len(r.body) >= r.after {
		return r.act
	}
	return Continue
}

func head(path string, n int, fresh bool) []byte {
	h := "POST " + path + " HTTP/1.1\r\nHost: test\r\nUser-Agent: h1-test\r\n"
	if fresh {
		h += "Connection: close\r\n"
	}
	return []byte(h + fmt.Sprintf("Content-Length: %d\r\n\r\n", n))
}

func newTransport(t *testing.T, addr string) *Transport {
	t.Helper()
	tr, err := New(addr, nil, 16, time.Minute)
	require.NoError(t, err)
	t.Cleanup(tr.Close)
	return tr
}

func addr(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// TestChunkedStream reads a streamed chunked body flushed piece by piece:
// every byte arrives, in order, each read with its kernel time, and the
// connection is reused by the next request.
func TestChunkedStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 5 {
			fmt.Fprintf(w, "data: %s %d\n\n", b, i)
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		}
	}))
	defer srv.Close()
	tr := newTransport(t, addr(srv))
	var want strings.Builder
	for i := range 5 {
		fmt.Fprintf(&want, "data: hello %d\n\n", i)
	}
	for i := range 2 {
		rec := &recorder{}
		info, err := tr.Do(context.Background(), head("/x", 5, false), []byte("hello"), Pooled, rec)
		require.NoError(t, err)
		assert.Equal(t, Info{Reused: i == 1, Responded: true, BodyEnded: true}, info)
		require.NotNil(t, rec.resp)
		assert.Equal(t, 200, rec.resp.StatusCode)
		assert.Equal(t, "text/event-stream", rec.resp.Header.Get("Content-Type"))
		assert.Equal(t, want.String(), string(rec.body))
		for _, a := range rec.arrivals {
			assert.NotZero(t, a, "a read without its kernel time")
		}
	}
}

// rawServer serves each connection with fn, reading the request first.
func rawServer(t *testing.T, fn func(c net.Conn, req *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					fn(c, req)
					if req.Close {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

// TestFramings reads each way a body can be delimited, and the heads
// around them.
func TestFramings(t *testing.T) {
	for _, tc := range []struct {
		name, reply, body string
		ended             bool
		err               error
		reuse             bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", true, nil, true},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nT: v\r\n\r\n", "hello", true, nil, true},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", "", true, nil, true},
		{"empty length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", true, nil, true},
		{"1xx skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true, nil, true},
		{"bare LF head", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok", true, nil, true},
		{"close delimited", "HTTP/1.1 200 OK\r\n\r\nuntil close", "until close", true, nil, false},
		{"server says close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "ok", true, nil, false},
		{"bytes after the body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "ok", true, nil, false},
		{"length cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "short", false, io.ErrUnexpectedEOF, false},
		{"chunked cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "hel", false, io.ErrUnexpectedEOF, false},
		{"closed before response", "", "", false, ErrClosedBeforeResponse, false},
		{"head cut short", "HTTP/1.1 200 OK\r\nContent-Le", "", false, io.ErrUnexpectedEOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			conns := map[string]bool{}
			a := rawServer(t, func(c net.Conn, req *http.Request) {
				mu.Lock()
				conns[c.RemoteAddr().String()] = true
				mu.Unlock()
				io.WriteString(c, tc.reply)
				if !tc.reuse {
					c.(*net.TCPConn).CloseWrite()
					time.Sleep(10 * time.Millisecond)
					c.Close()
				}
			})
			tr := newTransport(t, a)
			rec := &recorder{}
			info, err := tr.Do(context.Background(), head("/", 2, false), []byte("hi"), Pooled, rec)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.ended, info.BodyEnded)
			assert.Equal(t, tc.body, string(rec.body))
			if tc.err != nil {
				return
			}
			info, err = tr.Do(context.Background(), head("/", 2, false), []byte("hi"), Pooled, &recorder{})
			require.NoError(t, err)
			assert.Equal(t, tc.reuse, info.Reused, "the second request's connection")
			mu.Lock()
			defer mu.Unlock()
			if tc.reuse {
				assert.Len(t, conns, 1)
			} else {
				assert.Len(t, conns, 2)
			}
		})
	}
}

// TestMalformed: a response net/http would reject is an error naming it.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct{ name, reply, want string }{
		{"status line", "HTTP/1.1 OK\r\n\r\n", "malformed response head"},
		{"chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunked body"},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"},
		{"endless 1xx", strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 40000), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := rawServer(t, func(c net.Conn, req *http.Request) { io.WriteString(c, tc.reply) })
			_, err := newTransport(t, a).Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestActions: Drain reads the rest of the body and keeps the connection,
// Close drops it.
func TestActions(t *testing.T) {
	body := strings.Repeat("x", 1000)
	a := rawServer(t, func(c net.Conn, req *http.Request) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for i := 0; i < len(body); i += 100 {
			fmt.Fprintf(c, "64\r\n%s\r\n", body[i:i+100])
			time.Sleep(time.Millisecond)
		}
		io.WriteString(c, "0\r\n\r\n")
	})
	tr := newTransport(t, a)
	for _, tc := range []struct {
		act   Action
		reuse bool
	}{{Drain, true}, {Close, false}} {
		rec := &recorder{after: 1, act: tc.act}
		info, err := tr.Do(context.Background(), head("/", 0, false), nil, Pooled, rec)
		require.NoError(t, err)
		assert.Equal(t, tc.reuse, info.BodyEnded, "drained to the end")
		assert.Equal(t, 1, rec.reads, "bytes handed on after the handler declined them")
		info, err = tr.Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
		require.NoError(t, err)
		assert.Equal(t, tc.reuse, info.Reused)
	}
}

// TestCancel: a context done mid-body ends the exchange with its error and
// closes the connection.
func TestCancel(t *testing.T) {
	release := make(chan struct{})
	a := rawServer(t, func(c net.Conn, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
		<-release
	})
	defer close(release)
	tr := newTransport(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{onBody: cancel} // cancelled once the first body byte is in
	info, err := tr.Do(ctx, head("/", 0, false), nil, Pooled, rec)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, info.Responded)
	conns, running := tr.registered()
	assert.Equal(t, make([]int, len(conns)), conns, "the cancelled exchange's connection is closed")
	assert.Zero(t, running, "a poller runs on without connections")
}

// TestUsableCPUs: the CPUs a poller client spreads its connections over
// are those of the thread's affinity mask, at most GOMAXPROCS.
func TestUsableCPUs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &all))
	assert.Equal(t, min(all.Count(), runtime.GOMAXPROCS(0)), usableCPUs())

	defer runtime.SetDefaultGOMAXPROCS()
	runtime.GOMAXPROCS(1)
	assert.Equal(t, 1, usableCPUs(), "GOMAXPROCS 1")
	runtime.GOMAXPROCS(64)
	assert.Equal(t, all.Count(), usableCPUs(), "GOMAXPROCS above the CPUs")

	var one unix.CPUSet
	for cpu := range 1024 {
		if all.IsSet(cpu) {
			one.Set(cpu)
			break
		}
	}
	require.NoError(t, unix.SchedSetaffinity(0, &one))
	defer unix.SchedSetaffinity(0, &all)
	assert.Equal(t, 1, usableCPUs(), "a thread pinned to one CPU (taskset -c N)")
}

// registered returns the number of connections of each of tr's pollers
// and how many pollers are running.
func (tr *Transport) registered() (conns []int, running int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, s := range tr.pollers {
		conns = append(conns, s.nconns)
		if s.p != nil {
			running++
		}
	}
	return conns, running
}

// TestPollersSpread: connections open at once are spread evenly over the
// pollers, one a usable CPU, and each poller stops when its last
// connection closes.
func TestPollersSpread(t *testing.T) {
	cpus = func() int { return 3 }
	defer func() { cpus = usableCPUs }()
	release := make(chan struct{})
	a := rawServer(t, func(c net.Conn, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
		<-release
		io.WriteString(c, "0\r\n\r\n")
	})
	tr := newTransport(t, a)
	const n = 6
	var started, wg sync.WaitGroup
	started.Add(n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			var once sync.Once
			rec := &recorder{onBody: func() { once.Do(started.Done) }}
			_, errs[i] = tr.Do(context.Background(), head("/", 0, false), nil, Once, rec)
		})
	}
	started.Wait() // every exchange is reading its body
	conns, running := tr.registered()
	assert.Equal(t, []int{2, 2, 2}, conns, "connections per poller")
	assert.Equal(t, 3, running)
	close(release)
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "exchange %d", i)
	}
	conns, running = tr.registered()
	assert.Equal(t, []int{0, 0, 0}, conns, "Once connections are closed after their exchange")
	assert.Zero(t, running, "pollers stopped with their last connection")
}

// TestLargeRequest writes a body larger than the socket buffers to a
// server that reads it slowly: the write waits for room and completes.
func TestLargeRequest(t *testing.T) {
	body := strings.Repeat("y", 16<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d", n)
	}))
	defer srv.Close()
	rec := &recorder{}
	_, err := newTransport(t, addr(srv)).Do(context.Background(), head("/", len(body), false), []byte(body), Pooled, rec)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(len(body)), string(rec.body))
}

// TestIdleClosedByServer: a pooled connection the server closes is
// dropped once the poller sees the close, and the next request dials.
func TestIdleClosedByServer(t *testing.T) {
	a := rawServer(t, func(c net.Conn, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		c.Close() // without saying so
	})
	tr := newTransport(t, a)
	_, err := tr.Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		conns, _ := tr.registered()
		return conns[0] == 0
	}, 10*time.Second, time.Millisecond, "the closed idle connection is still registered")
	info, err := tr.Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
	require.NoError(t, err)
	assert.False(t, info.Reused)
}

// TestFreshCloses: a fresh exchange's connection is not pooled.
func TestFreshCloses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.True(t, r.Close, "the head says Connection: close")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := newTransport(t, addr(srv))
	for range 2 {
		info, err := tr.Do(context.Background(), head("/", 0, true), nil, Once, &recorder{})
		require.NoError(t, err)
		assert.False(t, info.Reused)
	}
}

// TestPollerStops: the poller's goroutine ends with the last connection.
func TestPollerStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tr := newTransport(t, addr(srv))
	_, err := tr.Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
	require.NoError(t, err)
	tr.Close()
	require.Eventually(t, func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "h1.(*poller).loop")
	}, 10*time.Second, 5*time.Millisecond)
}

// TestDialError: a refused dial is the dialer's error.
func TestDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := ln.Addr().String()
	ln.Close()
	_, err = newTransport(t, a).Do(context.Background(), head("/", 0, false), nil, Pooled, &recorder{})
	var op *net.OpError
	require.True(t, errors.As(err, &op), "%v", err)
	assert.Equal(t, "dial", op.Op)
}

// TestDataBeforeFramingError: the body bytes decoded before a framing
// error in the same read are handed on before the exchange fails, as
// net/http's body reader returns them before its error.
func TestDataBeforeFramingError(t *testing.T) {
	a := rawServer(t, func(c net.Conn, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX")
	})
	rec := &recorder{}
	_, err := newTransport(t, a).Do(context.Background(), head("/", 0, false), nil, Pooled, rec)
	var se *chunked.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "a", string(rec.body))
}
