//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package rxtime

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Supported reports whether this platform reads kernel receive
// timestamps.
const Supported = true

// Conn is a TCP connection whose reads record the kernel's receive time
// of the bytes they return (see the package documentation). Write, Close,
// deadlines and addresses are the wrapped connection's. As with any
// net.Conn, one Read runs at a time; Arrival may be called from any
// goroutine.
type Conn struct {
	net.Conn
	raw    syscall.RawConn
	reason error

	// The recvmsg call's arguments and results, kept here so that a read
	// allocates nothing; used only inside Read.
	msg    syscall.Msghdr
	iov    syscall.Iovec
	oob    [oobWords]uint64 // 8-byte aligned, as cmsghdr needs
	n      int
	errno  syscall.Errno
	readFn func(fd uintptr) bool

	arrival atomic.Int64 // UnixNano of the last read's timestamp, 0 without one
}

// oobWords sizes the control buffer: one cmsghdr (16 bytes) and one
// struct timespec (16 bytes), with room to spare for a message the kernel
// adds that we do not ask for.
const oobWords = 8

// Wrap returns c with kernel receive timestamps turned on when c is a
// *net.TCPConn and the kernel accepts SO_TIMESTAMPNS; otherwise it
// returns a Conn that reads as c does, whose Reason says why.
func Wrap(c net.Conn) *Conn {
	rc := &Conn{Conn: c}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		rc.reason = fmt.Errorf("rxtime: %T is not a TCP connection", c)
		return rc
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		rc.reason = fmt.Errorf("rxtime: %w", err)
		return rc
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		serr = err
	}
	if serr != nil {
		rc.reason = fmt.Errorf("rxtime: setsockopt SO_TIMESTAMPNS: %w", serr)
		return rc
	}
	rc.raw = raw
	rc.msg.Iov = &rc.iov
	rc.msg.Iovlen = 1
	rc.msg.Control = (*byte)(unsafe.Pointer(&rc.oob[0]))
	rc.readFn = rc.recvmsg
	return rc
}

// Arrival returns the kernel's receive time, as Unix nanoseconds of
// CLOCK_REALTIME, of the last segment the last Read returned bytes of; 0
// when that read carried no timestamp (or c has none, see Kernel).
func (c *Conn) Arrival() int64 { return c.arrival.Load() }

// Read reads into p with recvmsg(2) and records the timestamp of the
// bytes read (Arrival). A closed connection, a deadline and a reset give
// the errors a *net.TCPConn gives, wrapped in a *net.OpError.
func (c *Conn) Read(p []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.iov.Base = &p[0]
	c.iov.SetLen(len(p))
	err := c.raw.Read(c.readFn)
	c.iov.Base = nil // keep no reference to p
	if err == nil && c.errno != 0 {
		err = os.NewSyscallError("recvmsg", c.errno)
	}
	if err != nil {
		c.arrival.Store(0)
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if c.n == 0 {
		return 0, io.EOF
	}
	return c.n, nil
}

// recvmsg is the RawConn read function: one recvmsg on the non-blocking
// socket; false (wait for readiness) when there is nothing to read.
func (c *Conn) recvmsg(fd uintptr) bool {
	for {
		c.msg.SetControllen(oobWords * 8)
		n, _, e := syscall.Syscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&c.msg)), 0)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.n, c.errno = int(n), e
		if e == 0 {
			c.arrival.Store(parseTimestamp(c.control()))
		}
		return true
	}
}

// control is the control data the last recvmsg returned.
func (c *Conn) control() []byte {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&c.oob[0])), oobWords*8)
	return b[:min(int(c.msg.Controllen), len(b))]
}

// parseTimestamp returns the SCM_TIMESTAMPNS time in control, as Unix
// nanoseconds, 0 when there is none. control must be 8-byte aligned.
func parseTimestamp(control []byte) int64 {
	const hdr = syscall.SizeofCmsghdr
	for len(control) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&control[0]))
		l := int(h.Len)
		if l < hdr || l > len(control) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l >= hdr+int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&control[hdr]))
			return ts.Nano()
		}
		control = control[min(len(control), align(l)):]
	}
	return 0
}

// align rounds l up to the alignment of control messages (CMSG_ALIGN).
func align(l int) int { return (l + 7) &^ 7 }

// Hold keeps the kernel's receive timestamping on until release is
// called. Linux stamps received packets only while some socket asks for
// timestamps, and it turns stamping on from a deferred work item when the
// first socket asks: segments that come in before then, or after the last
// such socket closed, carry no time (Arrival 0 for their read). A client
// that holds it from before its first connection until its last is closed
// gets a time for every read. Hold opens one UDP socket with
// SO_TIMESTAMPNS set, which sends and receives nothing.
func Hold() (release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("rxtime: socket: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("rxtime: setsockopt SO_TIMESTAMPNS: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { syscall.Close(fd) }) }, nil
}
