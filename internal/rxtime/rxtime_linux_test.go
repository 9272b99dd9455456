//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package rxtime

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
)

// loopback returns a wrapped client connection and the server's end of a
// TCP connection on 127.0.0.1.
func loopback(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	srv, ok := <-accepted
	require.True(t, ok, "accept failed")
	rc := Wrap(c)
	t.Cleanup(func() { rc.Close(); srv.Close() })
	return rc, srv
}

// TestMain holds the kernel's timestamping on for the whole run, as a
// client does (Hold), and waits until a loopback read carries a time: the
// kernel turns stamping on from a deferred work item.
func TestMain(m *testing.M) {
	release, err := Hold()
	if err != nil {
		panic(err)
	}
	if err := primeStamping(); err != nil {
		panic(err)
	}
	code := m.Run()
	release()
	os.Exit(code)
}

// primeStamping exchanges bytes on a loopback connection until a read
// carries a kernel timestamp (at most 10 s).
func primeStamping() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	c := Wrap(nc)
	defer c.Close()
	if !c.Kernel() {
		return c.Reason()
	}
	buf := make([]byte, 1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := c.Write(buf); err != nil {
			return err
		}
		if _, err := c.Read(buf); err != nil {
			return err
		}
		if c.Arrival() != 0 {
			return nil
		}
	}
	return errors.New("no loopback read carried a kernel timestamp within 10 s")
}

// waitReadable blocks until c's receive queue holds at least n bytes,
// asking the kernel (FIONREAD) without reading them.
func waitReadable(t *testing.T, c *Conn, n int) {
	t.Helper()
	for {
		var q int32
		require.NoError(t, c.raw.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&q)))
		}))
		if int(q) >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// The timestamp comes from the kernel's control message: it lies between
// the server's write and the end of the read, and before the read began
// when the bytes were already queued, whatever the client's delay.
func TestArrivalFromKernel(t *testing.T) {
	c, srv := loopback(t)
	require.True(t, c.Kernel(), "SO_TIMESTAMPNS refused: %v", c.Reason())
	assert.Zero(t, c.Arrival(), "no read yet")

	beforeWrite := time.Now().UnixNano()
	_, err := srv.Write([]byte("data: one\n\n"))
	require.NoError(t, err)
	waitReadable(t, c, 11)
	time.Sleep(5 * time.Millisecond) // the client is late: its lag must not move the arrival
	beforeRead := time.Now().UnixNano()
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	require.NoError(t, err)
	afterRead := time.Now().UnixNano()
	assert.Equal(t, "data: one\n\n", string(buf[:n]))
	arr := c.Arrival()
	assert.GreaterOrEqual(t, arr, beforeWrite, "arrival after the write began")
	assert.Less(t, arr, beforeRead, "the bytes were queued before the read began: the time is their arrival, not the read's")
	assert.LessOrEqual(t, arr, afterRead)

	// A second segment gets its own, later time.
	_, err = srv.Write([]byte("data: two\n\n"))
	require.NoError(t, err)
	n, err = c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "data: two\n\n", string(buf[:n]))
	assert.Greater(t, c.Arrival(), arr, "the second segment arrived later")
}

// Two segments consumed by one read share one time: the last segment's.
func TestOneReadOneTime(t *testing.T) {
	c, srv := loopback(t)
	require.True(t, c.Kernel(), c.Reason())
	_, err := srv.Write([]byte("first "))
	require.NoError(t, err)
	waitReadable(t, c, 6)
	buf := make([]byte, 6)
	_, err = c.Read(buf)
	require.NoError(t, err)
	first := c.Arrival()
	afterFirst := time.Now().UnixNano()

	_, err = srv.Write([]byte("second "))
	require.NoError(t, err)
	_, err = srv.Write([]byte("third"))
	require.NoError(t, err)
	waitReadable(t, c, 12)
	buf = make([]byte, 64)
	n, err := c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "second third", string(buf[:n]), "one read takes both segments")
	assert.Greater(t, c.Arrival(), afterFirst, "stamped with a segment that came after the first read")
	assert.Greater(t, c.Arrival(), first)
}

func TestReadErrors(t *testing.T) {
	t.Run("eof", func(t *testing.T) {
		c, srv := loopback(t)
		srv.Write([]byte("x"))
		srv.Close()
		buf := make([]byte, 8)
		n, err := c.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = c.Read(buf)
		assert.ErrorIs(t, err, io.EOF)
	})
	t.Run("reset", func(t *testing.T) {
		c, srv := loopback(t)
		srv.(*net.TCPConn).SetLinger(0)
		srv.Close()
		_, err := c.Read(make([]byte, 8))
		var op *net.OpError
		require.ErrorAs(t, err, &op)
		assert.Equal(t, "read", op.Op)
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Contains(t, err.Error(), "connection reset by peer")
	})
	t.Run("deadline", func(t *testing.T) {
		c, _ := loopback(t)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(-time.Second)))
		_, err := c.Read(make([]byte, 8))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
	})
	t.Run("closed", func(t *testing.T) {
		c, _ := loopback(t)
		done := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8))
			done <- err
		}()
		c.Close()
		assert.ErrorIs(t, <-done, net.ErrClosed)
	})
}

// A read allocates nothing.
func TestReadAllocs(t *testing.T) {
	c, srv := loopback(t)
	buf := make([]byte, 64)
	msg := []byte("data: x\n\n")
	allocs := testing.AllocsPerRun(100, func() {
		srv.Write(msg)
		if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// Not a TCP connection: reads pass through, with no time and a reason.
func TestFallback(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := Wrap(a)
	assert.False(t, c.Kernel())
	assert.ErrorContains(t, c.Reason(), "not a TCP connection")
	go b.Write([]byte("hi"))
	buf := make([]byte, 8)
	n, err := c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(buf[:n]))
	assert.Zero(t, c.Arrival())
}

// Of finds the wrapped connection under TLS, and TLS reads carry the
// time of the raw bytes they decrypted.
func TestOfTLS(t *testing.T) {
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	c, srv := loopback(t)
	tc := tls.Client(c, &tls.Config{RootCAs: pki.CA.Pool(), ServerName: "127.0.0.1"})
	ts := tls.Server(srv, pki.ServerConfig(false))
	go func() {
		if ts.Handshake() == nil {
			ts.Write([]byte("secret"))
		}
	}()
	require.NoError(t, tc.Handshake())
	assert.Same(t, c, Of(tc))
	assert.Same(t, c, Of(c))
	assert.Nil(t, Of(srv))
	buf := make([]byte, 16)
	n, err := tc.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "secret", string(buf[:n]))
	assert.NotZero(t, c.Arrival())
	assert.LessOrEqual(t, c.Arrival(), time.Now().UnixNano())
}

func TestParseTimestamp(t *testing.T) {
	msg := func(level, typ int32, sec, nsec int64) []uint64 {
		h := syscall.Cmsghdr{Level: level, Type: typ}
		h.SetLen(syscall.SizeofCmsghdr + 16)
		w := make([]uint64, 4)
		*(*syscall.Cmsghdr)(unsafe.Pointer(&w[0])) = h
		w[2], w[3] = uint64(sec), uint64(nsec)
		return w
	}
	bytesOf := func(w []uint64) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8) }
	ts := msg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, 1764662400, 123456789)
	assert.Equal(t, int64(1764662400123456789), parseTimestamp(bytesOf(ts)))
	other := msg(syscall.SOL_SOCKET, syscall.SCM_RIGHTS, 1, 2)
	assert.Zero(t, parseTimestamp(bytesOf(other)), "another message")
	both := append(append([]uint64{}, other...), ts...)
	assert.Equal(t, int64(1764662400123456789), parseTimestamp(bytesOf(both)), "the timestamp after another message")
	assert.Zero(t, parseTimestamp(bytesOf(ts)[:20]), "truncated")
	assert.Zero(t, parseTimestamp(nil))
	bad := msg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, 1, 2)
	(*syscall.Cmsghdr)(unsafe.Pointer(&bad[0])).SetLen(4)
	assert.Zero(t, parseTimestamp(bytesOf(bad)), "a length shorter than the header")
}
