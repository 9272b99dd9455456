package servingtest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// The server's own log: what its net/http server writes (accept errors,
// handler panics). By default accept errors are counted (AcceptErrors) and
// not printed, since a benchmark at a high concurrency can produce them by
// the hundred, and everything else goes to standard error as
// httptest.Server's does; SetErrorLog routes all of it elsewhere.

// SetErrorLog sends every line of the server's log to w from now on; nil
// discards them. Accept errors are counted either way. Safe for concurrent
// use, at any time.
func (s *Server) SetErrorLog(w io.Writer) {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.routed, s.log.w = true, w
}

// AcceptErrors returns the number of times accepting a connection failed
// since NewServer (net/http retries after a pause, so the connection waits
// rather than fails). Against a server in the same process they mean the
// process ran out of file descriptors (EMFILE): a limit of the client
// machine, not a failure of the simulated server.
func (s *Server) AcceptErrors() int { return int(s.ln.errs.Load()) }

// serverLog is the writer behind the http.Server's ErrorLog; log.Logger
// writes one line a call.
type serverLog struct {
	mu     sync.Mutex
	routed bool      // SetErrorLog was called
	w      io.Writer // SetErrorLog's writer; nil discards
}

var acceptErrorLine = []byte("http: Accept error")

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.routed && l.w != nil:
		return l.w.Write(p)
	case l.routed, bytes.Contains(p, acceptErrorLine):
		return len(p), nil
	}
	return os.Stderr.Write(p)
}

// countingListener counts the errors of Accept until the listener is
// closed.
type countingListener struct {
	net.Listener
	errs atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		l.errs.Add(1)
	}
	return c, err
}
