//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package rxtime

import (
	"syscall"
	"unsafe"
)

// Enable turns on SO_TIMESTAMPNS on the socket fd, for reads with a
// Receiver.
func Enable(fd int) error {
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		return &syscallError{"setsockopt SO_TIMESTAMPNS", err}
	}
	return nil
}

// Receiver reads a non-blocking socket's bytes with their kernel receive
// time (see Enable), for a caller that owns the socket's descriptor and
// polls it itself. Its recvmsg arguments live in it, so that a read
// allocates nothing; one Recv runs at a time.
type Receiver struct {
	msg syscall.Msghdr
	iov syscall.Iovec
	oob [oobWords]uint64
}

// Recv reads once from fd into p (len(p) > 0) with recvmsg(2), without
// blocking: n is the count (0 at the end of the stream), arrival the
// kernel's CLOCK_REALTIME stamp, as Unix nanoseconds, of the last segment
// read (0 when the bytes carry none), and errno the call's error
// (syscall.EAGAIN when there is nothing to read yet).
func (r *Receiver) Recv(fd int, p []byte) (n int, arrival int64, errno syscall.Errno) {
	r.iov.Base = &p[0]
	r.iov.SetLen(len(p))
	r.msg.Iov = &r.iov
	r.msg.Iovlen = 1
	r.msg.Control = (*byte)(unsafe.Pointer(&r.oob[0]))
	for {
		r.msg.SetControllen(oobWords * 8)
		m, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.msg)), syscall.MSG_DONTWAIT)
		if e == syscall.EINTR {
			continue
		}
		r.iov.Base = nil // keep no reference to p
		if e != 0 {
			return 0, 0, e
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&r.oob[0])), oobWords*8)
		return int(m), parseTimestamp(b[:min(int(r.msg.Controllen), len(b))]), 0
	}
}

// syscallError is a failed system call, as os.SyscallError words it.
type syscallError struct {
	call string
	err  error
}

func (e *syscallError) Error() string { return e.call + ": " + e.err.Error() }
func (e *syscallError) Unwrap() error { return e.err }
