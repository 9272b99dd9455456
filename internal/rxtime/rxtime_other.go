//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le))

package rxtime

import (
	"net"
	"runtime"
)

// Supported reports whether this platform reads kernel receive
// timestamps.
const Supported = false

// Conn is a connection whose reads would record the kernel's receive
// times; on this platform they do not (see Reason), and it reads as the
// connection it wraps.
type Conn struct {
	net.Conn
	reason error
}

// errUnsupported is the Reason on platforms without the recvmsg path.
var errUnsupported = &unsupportedError{runtime.GOOS + "/" + runtime.GOARCH}

type unsupportedError struct{ platform string }

func (e *unsupportedError) Error() string {
	return "rxtime: kernel receive timestamps are read on 64-bit Linux only, not on " + e.platform
}

// Wrap returns c as a Conn without kernel timestamps.
func Wrap(c net.Conn) *Conn { return &Conn{Conn: c, reason: errUnsupported} }

// Arrival is always 0 on this platform.
func (c *Conn) Arrival() int64 { return 0 }

// Hold does nothing on this platform.
func Hold() (release func(), err error) { return func() {}, nil }
