//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package rxtime

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReceiver reads a raw non-blocking descriptor with Recv: EAGAIN
// while nothing came, then the bytes written with a kernel time between
// the write and the read, then 0 at the peer's close.
func TestReceiver(t *testing.T) {
	c, srv := loopback(t)
	var fd int
	require.NoError(t, c.raw.Control(func(s uintptr) {
		var err error
		fd, err = syscall.Dup(int(s))
		require.NoError(t, err)
	}))
	defer syscall.Close(fd)
	require.NoError(t, Enable(fd))
	require.NoError(t, syscall.SetNonblock(fd, true))
	var r Receiver
	buf := make([]byte, 64)
	_, _, errno := r.Recv(fd, buf)
	assert.Equal(t, syscall.EAGAIN, errno)

	before := time.Now().UnixNano()
	_, err := srv.Write([]byte("hello"))
	require.NoError(t, err)
	waitReadable(t, c, 5)
	n, arrival, errno := r.Recv(fd, buf)
	after := time.Now().UnixNano()
	require.Zero(t, errno)
	assert.Equal(t, "hello", string(buf[:n]))
	assert.GreaterOrEqual(t, arrival, before, "stamped before the write")
	assert.LessOrEqual(t, arrival, after, "stamped after the read")

	srv.Close()
	for {
		n, _, errno = r.Recv(fd, buf)
		if errno != syscall.EAGAIN {
			break
		}
		time.Sleep(time.Millisecond)
	}
	assert.Zero(t, errno)
	assert.Zero(t, n, "the end of the stream")
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.Recv(fd, buf) }), "allocations per Recv")
}
