//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/servingbench/servingbench/internal/chunked"
	"github.com/servingbench/servingbench/internal/rxtime"
)

// Supported reports whether this platform has the poller client.
const Supported = true

// Limits of a response.
const (
	// maxHeadBytes bounds a response's heads, its 1xx ones included
	// (net/http's default MaxResponseHeaderBytes is 10 MB; streaming
	// servers send well under a kilobyte).
	maxHeadBytes = 1 << 20
	// maxDrain bounds what is read of a body only to reuse its
	// connection, as net/http's own drain before reuse does.
	maxDrain = 64 << 10
	// drainGrace bounds the wait for the end of a body the handler
	// declined.
	drainGrace = time.Second
	// writePoll is how often a write that waits for room in the socket's
	// buffer looks at its context.
	writePoll = 50 // ms
)

// Errors of an exchange.
var (
	errClosedWhileWriting = errors.New("h1: connection closed while the request was being written")
)

// Transport sends requests to one address over keep-alive connections
// read by a poller goroutine (see the package documentation). It is safe
// for concurrent use.
type Transport struct {
	addr        string
	dialer      *net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu      sync.Mutex
	idle    []*conn
	pollers []pollerSlot // see register
}

// pollerSlot is one of a Transport's pollers, started by the first
// connection registered with it and stopped when the last one leaves.
type pollerSlot struct {
	p      *poller
	nconns int
}

// New returns a Transport for addr ("host:port") that dials with d, keeps
// at most maxIdle idle connections and does not reuse one idle for longer
// than idleTimeout.
func New(addr string, d *net.Dialer, maxIdle int, idleTimeout time.Duration) (*Transport, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("h1: address %q: %w", addr, err)
	}
	if d == nil {
		d = &net.Dialer{}
	}
	return &Transport{addr: addr, dialer: d, maxIdle: max(1, maxIdle), idleTimeout: idleTimeout}, nil
}

// Close closes the idle connections. The Transport stays usable.
func (t *Transport) Close() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// Do sends the request head and body (head is the request line and
// header fields with the blank line that ends them) and reads the
// response into h until the body ends or h declines the rest, or until
// ctx is done, on a connection as mode says. The error is
// nil when the response was read as far as h wanted; otherwise it is the
// dial's, the write's, the read's (io.ErrUnexpectedEOF for a body cut
// short, ErrClosedBeforeResponse), a malformed response's, or ctx's.
func (t *Transport) Do(ctx context.Context, head, body []byte, mode Mode, h Handler) (Info, error) {
	ex := &exchange{h: h, keep: mode != Once, done: make(chan struct{}, 1)}
	var c *conn
	reused := false
	for {
		var err error
		c, reused, err = t.conn(ctx, mode != Pooled)
		if err != nil {
			return Info{}, err
		}
		if c.attach(ex) {
			break
		}
		// The server closed it between the pool and here: the request
		// did not go out; take another.
	}
	werr := c.write(ctx, head, body)
	if werr != nil {
		c.abort(ex, werr)
	}
	select {
	case <-ex.done:
	case <-ctx.Done():
		c.abort(ex, ctx.Err())
		<-ex.done
	}
	return Info{Reused: reused, Responded: ex.responded, BodyEnded: ex.ended}, ex.err
}

// conn returns a pooled connection, or a new one (fresh, or none pooled).
func (t *Transport) conn(ctx context.Context, fresh bool) (*conn, bool, error) {
	for !fresh {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if c.closed.Load() {
			continue
		}
		if t.idleTimeout > 0 && time.Since(c.idleSince) > t.idleTimeout {
			c.close()
			continue
		}
		return c, true, nil
	}
	c, err := t.dial(ctx)
	return c, false, err
}

// dial opens a connection and moves its descriptor from the runtime's
// poller to ours: the socket is duplicated and the net.Conn closed, which
// takes it out of the runtime's epoll set, so that its arrivals wake only
// our poller.
func (t *Transport) dial(ctx context.Context) (*conn, error) {
	nc, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	raddr := nc.RemoteAddr()
	opErr := func(call string, err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: os.NewSyscallError(call, err)}
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("h1: dialer returned a %T, not a TCP connection", nc)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("h1: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		derr = err
	}
	nc.Close()
	if derr != nil {
		return nil, opErr("fcntl", derr)
	}
	// Without a timestamp the reads report 0 and the caller falls back
	// to read times.
	rxtime.Enable(fd)
	c := &conn{t: t, fd: fd, raddr: raddr}
	if err := t.register(c); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

// register adds c to the poller with the fewest connections among as
// many as there are CPUs the client can run on (cpus), so that the
// reads and handlers of many connections are spread over those CPUs, as
// net/http's goroutines are, where one goroutine would leave all but one
// idle; a client confined to one CPU keeps one poller, whose wake-ups
// take every connection ready by then.
func (t *Transport) register(c *conn) error {
	n := cpus()
	t.mu.Lock()
	for len(t.pollers) < n {
		t.pollers = append(t.pollers, pollerSlot{})
	}
	i := 0
	for j := range n {
		if t.pollers[j].nconns < t.pollers[i].nconns {
			i = j
		}
	}
	slot := &t.pollers[i]
	if slot.p == nil {
		p, err := newPoller()
		if err != nil {
			t.mu.Unlock()
			return err
		}
		slot.p = p
	}
	slot.nconns++
	c.p = slot.p
	t.mu.Unlock()
	if err := c.p.add(c); err != nil {
		t.unregistered(c.p)
		return err
	}
	return nil
}

// cpus is usableCPUs; tests replace it.
var cpus = usableCPUs

// usableCPUs is the number of CPUs the calling thread may run on (its
// affinity mask, which taskset and cgroup cpusets narrow), at most
// GOMAXPROCS, and at least 1.
func usableCPUs() int {
	n := runtime.GOMAXPROCS(0)
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		n = min(n, set.Count())
	}
	return max(1, n)
}

// unregistered counts a connection of p out; the last one stops p.
func (t *Transport) unregistered(p *poller) {
	t.mu.Lock()
	var stop *poller
	for i := range t.pollers {
		if slot := &t.pollers[i]; slot.p == p {
			slot.nconns--
			if slot.nconns == 0 {
				stop, slot.p = p, nil
			}
			break
		}
	}
	t.mu.Unlock()
	if stop != nil {
		stop.stop()
	}
}

// putIdle pools c, or reports false when the pool is full.
func (t *Transport) putIdle(c *conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle) >= t.maxIdle {
		return false
	}
	t.idle = append(t.idle, c)
	return true
}

// States of an exchange.
const (
	stateHead  = iota // reading the response head
	stateBody         // reading the body for the handler
	stateDrain        // reading the body the handler declined
)

// exchange is one request and its response on a connection.
type exchange struct {
	h       Handler
	state   int
	framing int
	remain  int64 // of a Content-Length body
	skipped int   // bytes of the 1xx heads skipped, counted in maxHeadBytes
	drained int
	keep    bool // the connection may be reused after the body
	// Set before done is signalled, read after.
	responded bool
	ended     bool
	err       error
	finished  bool
	timer     *time.Timer // the drain's
	done      chan struct{}
}

// conn is one connection; mu serializes the poller's reads with the
// request's goroutine (attach, abort, the end of a write).
type conn struct {
	t     *Transport
	p     *poller
	fd    int
	raddr net.Addr

	closed    atomic.Bool
	idleSince time.Time // set before it is pooled

	mu              sync.Mutex
	ex              *exchange
	writing         bool
	closeAfterWrite bool
	head            []byte
	dec             chunked.Decoder
}

// attach makes ex c's exchange, and reports false if c was closed.
func (c *conn) attach(ex *exchange) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.ex = ex
	c.head = c.head[:0]
	c.dec.Reset()
	c.writing = true
	return true
}

// write sends head and body, waiting for room in the socket's buffer as
// needed, and ends the write (see attach): a close that came meanwhile
// happens now.
func (c *conn) write(ctx context.Context, head, body []byte) (err error) {
	defer func() {
		c.mu.Lock()
		c.writing = false
		if c.closeAfterWrite {
			unix.Close(c.fd)
		}
		c.mu.Unlock()
	}()
	bufs := [2][]byte{head, body}
	for len(bufs[0])+len(bufs[1]) > 0 {
		if c.closed.Load() {
			return errClosedWhileWriting
		}
		n, err := sendmsg(c.fd, &bufs)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := c.waitWritable(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return &net.OpError{Op: "write", Net: "tcp", Addr: c.raddr, Err: os.NewSyscallError("sendmsg", err)}
		}
		for i := range bufs {
			k := min(n, len(bufs[i]))
			bufs[i], n = bufs[i][k:], n-k
		}
	}
	return nil
}

// sendmsg writes bufs to the socket fd without blocking, as a raw system
// call (see poller.wait for why).
func sendmsg(fd int, bufs *[2][]byte) (int, error) {
	var iov [2]unix.Iovec
	var msg unix.Msghdr
	k := 0
	for _, b := range bufs {
		if len(b) > 0 {
			iov[k].Base = &b[0]
			iov[k].SetLen(len(b))
			k++
		}
	}
	msg.Iov = &iov[0]
	msg.SetIovlen(k)
	n, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// waitWritable waits until c's socket can take more bytes, or ctx is done
// or c closed.
func (c *conn) waitWritable(ctx context.Context) error {
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.closed.Load() {
			return errClosedWhileWriting
		}
		n, err := unix.Poll(fds, writePoll)
		if err != nil && err != unix.EINTR {
			return &net.OpError{Op: "write", Net: "tcp", Addr: c.raddr, Err: os.NewSyscallError("poll", err)}
		}
		if n > 0 {
			return nil
		}
	}
}

// abort ends ex with err and closes c, unless ex already ended.
func (c *conn) abort(ex *exchange, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ex != ex || ex.finished {
		return
	}
	c.closeLocked()
	c.finishLocked(err)
}

// close closes an idle c.
func (c *conn) close() {
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

// closeLocked takes c out of the poller and closes its descriptor, or
// leaves that to the write under way.
func (c *conn) closeLocked() {
	if c.closed.Swap(true) {
		return
	}
	c.p.remove(c)
	if c.writing {
		c.closeAfterWrite = true
	} else {
		unix.Close(c.fd)
	}
	c.t.unregistered(c.p)
}

// finishLocked ends c's exchange with err; a connection kept open is
// pooled first, so that the request's next one finds it.
func (c *conn) finishLocked(err error) {
	ex := c.ex
	c.ex = nil
	ex.finished = true
	ex.err = err
	if ex.timer != nil {
		ex.timer.Stop()
	}
	if !c.closed.Load() {
		c.idleSince = time.Now()
		if !ex.keep || !c.t.putIdle(c) {
			c.closeLocked()
		}
	}
	ex.done <- struct{}{}
}

// ready reads c, on the poller goroutine, after an edge-triggered
// readiness with events (see poller): until a read returns fewer bytes
// than the buffer holds, the socket then being empty, or, when the peer
// closed or the socket failed (EPOLLRDHUP, EPOLLHUP, EPOLLERR), whose
// readiness is not reported again, until the read that says so.
func (c *conn) ready(p *poller, events uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	closing := events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
	for !c.closed.Load() {
		n, arrival, errno := p.rcv.Recv(c.fd, p.buf)
		if errno == unix.EAGAIN {
			return
		}
		read := time.Now()
		ex := c.ex
		switch {
		case ex == nil: // idle: the server closed it, or sent what was not asked for
			c.closeLocked()
			return
		case errno != 0:
			c.closeLocked()
			c.finishLocked(&net.OpError{Op: "read", Net: "tcp", Addr: c.raddr, Err: os.NewSyscallError("recvmsg", errno)})
			return
		case n == 0:
			c.eofLocked(ex)
			return
		}
		ex.responded = true
		c.feedLocked(ex, p.buf[:n], read, arrival)
		if n < len(p.buf) && !closing {
			return
		}
	}
}

// eofLocked ends ex at the close of the connection.
func (c *conn) eofLocked(ex *exchange) {
	c.closeLocked()
	switch {
	case ex.state == stateHead && !ex.responded:
		c.finishLocked(ErrClosedBeforeResponse)
	case ex.state == stateHead:
		c.finishLocked(fmt.Errorf("h1: connection closed in the response head: %w", io.ErrUnexpectedEOF))
	case ex.framing == framingClose:
		ex.ended = true
		c.finishLocked(nil)
	case ex.state == stateDrain:
		c.finishLocked(nil) // the handler had what it wanted
	default:
		c.finishLocked(io.ErrUnexpectedEOF)
	}
}

// feedLocked takes in the bytes of one read.
func (c *conn) feedLocked(ex *exchange, p []byte, read time.Time, arrival int64) {
	if ex.state == stateHead {
		c.head = append(c.head, p...)
		for ex.state == stateHead {
			resp, used, err := parseHead(c.head)
			switch {
			case err == errShortHead:
				if ex.skipped+len(c.head) > maxHeadBytes {
					c.closeLocked()
					c.finishLocked(fmt.Errorf("h1: response head longer than %d bytes", maxHeadBytes))
				}
				return
			case err != nil:
				c.closeLocked()
				c.finishLocked(err)
				return
			case resp.StatusCode == 101:
				c.closeLocked()
				c.finishLocked(errors.New("h1: unexpected 101 Switching Protocols"))
				return
			case resp.StatusCode < 200:
				// Skipped, as net/http skips them, within the limit it
				// puts on all the heads of a response.
				ex.skipped += used
				c.head = c.head[:copy(c.head, c.head[used:])]
				continue
			}
			ex.state = stateBody
			ex.framing, ex.remain = framing(resp)
			if resp.Close {
				ex.keep = false
			}
			if ex.framing == framingClose {
				ex.keep = false
			}
			if !c.actLocked(ex, ex.h.Header(resp)) {
				return
			}
			p = c.head[used:]
		}
	}
	if c.ex != ex {
		return
	}
	if ex.framing == framingNone {
		c.endLocked(ex, len(p) > 0)
		return
	}
	// The data decoded before a framing error is handed on first, as
	// net/http's body reader returns it before the error.
	data, rest, ended, err := c.decode(ex, p)
	if len(data) > 0 {
		switch ex.state {
		case stateBody:
			if !c.actLocked(ex, ex.h.Body(data, read, arrival)) {
				return
			}
		case stateDrain:
			ex.drained += len(data)
			if ex.drained > maxDrain {
				c.closeLocked()
				c.finishLocked(nil)
				return
			}
		}
	}
	switch {
	case err != nil:
		c.closeLocked()
		c.finishLocked(err)
		return
	case ended:
		c.endLocked(ex, len(rest) > 0)
		return
	}
	if ex.state == stateDrain && ex.timer == nil {
		ex.timer = time.AfterFunc(drainGrace, func() { c.abort(ex, nil) })
	}
}

// actLocked does what the handler asked for the rest of the body: Drain
// stops handing it on (the rest is drained, within maxDrain and
// drainGrace), Close ends the exchange. It reports whether the exchange
// goes on.
func (c *conn) actLocked(ex *exchange, a Action) bool {
	switch a {
	case Drain:
		ex.state = stateDrain
	case Close:
		c.closeLocked()
		c.finishLocked(nil)
		return false
	}
	return true
}

// endLocked ends ex at the end of its body; bytes after it (extra) close
// the connection, since nothing was asked for them.
func (c *conn) endLocked(ex *exchange, extra bool) {
	ex.ended = true
	if extra {
		c.closeLocked()
	}
	c.finishLocked(nil)
}

// decode takes the body's bytes out of p, in place: data is the body's,
// rest what follows the body's end (ended).
func (c *conn) decode(ex *exchange, p []byte) (data, rest []byte, ended bool, err error) {
	switch ex.framing {
	case framingChunked:
		nd, ns, err := c.dec.Decode(p, p)
		if err != nil {
			return p[:nd], nil, false, fmt.Errorf("h1: chunked body: %w", err)
		}
		return p[:nd], p[ns:], c.dec.Done(), nil
	case framingLength:
		k := int(min(ex.remain, int64(len(p))))
		ex.remain -= int64(k)
		return p[:k], p[k:], ex.remain == 0, nil
	}
	return p, nil, false, nil // framingClose
}
