package servingtest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAcceptErrorsCounted runs this process out of descriptors, as a
// benchmark against the embedded server at a high concurrency does, so
// the server cannot accept a connection: the accept error is counted and
// logged only where SetErrorLog says, and the connection is served once
// descriptors are free again. Not parallel: it lowers the process's limit.
func TestAcceptErrorsCounted(t *testing.T) {
	srv := NewServer(ZeroCost())
	defer srv.Close()
	var log syncBuffer
	srv.SetErrorLog(&log)

	var saved syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved))
	open, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	low := saved
	low.Cur = uint64(len(open) + 32)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	var files []*os.File
	release := func() {
		for _, f := range files {
			f.Close()
		}
		files = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved)
	}
	defer release()

	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			require.ErrorIs(t, err, syscall.EMFILE)
			break
		}
		files = append(files, f)
	}
	files[len(files)-1].Close() // one descriptor for the client's socket, none for the server's
	files = files[:len(files)-1]
	conn, err := net.Dial("tcp", srv.URL[len("http://"):])
	require.NoError(t, err, "the kernel completes the handshake before the server accepts")
	defer conn.Close()
	require.Eventually(t, func() bool { return srv.AcceptErrors() > 0 }, 20*time.Second, time.Millisecond,
		"AcceptErrors() = 0, want > 0 while the process is out of descriptors")
	release()

	fmt.Fprint(conn, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the waiting connection is served once descriptors are free")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, log.String(), "http: Accept error")
	assert.Contains(t, log.String(), "too many open files")
}
