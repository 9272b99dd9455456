//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package h1

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// netHTTPResponse reads reply as net/http's client reads a response to a
// POST, then its body: the status (0 when the head failed), the body and
// whether reading failed.
func netHTTPResponse(reply []byte) (int, []byte, bool) {
	br := bufio.NewReader(bytes.NewReader(reply))
	for {
		resp, err := http.ReadResponse(br, postRequest)
		if err != nil {
			return 0, nil, true
		}
		if resp.StatusCode == 101 {
			return 0, nil, true
		}
		if resp.StatusCode < 200 {
			continue // net/http's client skips 1xx
		}
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err != nil
	}
}

// FuzzResponse has a loopback server send any reply, in pieces, and
// closes the connection after it; the poller client must agree with
// net/http on it: the same status and body when net/http reads it, and an
// error when net/http fails on its head or its body. (net/http reads at
// most a head's worth of an unframed reply; the poller client then reads
// to the close, so for close-delimited bodies only the prefix is
// compared.)
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
		"HTTP/1.1 200 OK\r\n\r\nclose delimited",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"garbage\r\n\r\n",
	} {
		f.Add([]byte(s), byte(0))
		f.Add([]byte(s), byte(7))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	replies := make(chan struct {
		b     []byte
		piece int
	})
	go func() {
		for r := range replies {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				http.ReadRequest(bufio.NewReader(c))
				for b := r.b; len(b) > 0; {
					n := min(len(b), r.piece)
					c.Write(b[:n])
					b = b[n:]
					time.Sleep(50 * time.Microsecond)
				}
			}()
		}
	}()
	defer close(replies)
	tr, err := New(ln.Addr().String(), nil, 4, time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	f.Fuzz(func(t *testing.T, reply []byte, piece byte) {
		if len(reply) > 4096 {
			return
		}
		replies <- struct {
			b     []byte
			piece int
		}{reply, int(piece%16) + 1}
		rec := &recorder{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := tr.Do(ctx, head("/", 0, false), nil, Once, rec)
		if ctx.Err() != nil {
			t.Fatalf("the exchange did not end: %v", err)
		}
		status, body, failed := netHTTPResponse(reply)
		switch {
		case status == 0 && err == nil:
			t.Fatalf("net/http refuses the head, the poller client read status %d", rec.resp.StatusCode)
		case status == 0:
			return
		case rec.resp == nil:
			t.Fatalf("net/http read status %d, the poller client failed: %v", status, err)
		case rec.resp.StatusCode != status:
			t.Fatalf("status %d, net/http's %d", rec.resp.StatusCode, status)
		case failed != (err != nil):
			t.Fatalf("net/http failed: %v; the poller client's error: %v (body %q, net/http's %q)", failed, err, rec.body, body)
		}
		if fr, _ := framing(rec.resp); !bytes.HasPrefix(rec.body, body) || (fr != framingClose && len(rec.body) != len(body)) {
			t.Fatalf("body %q, net/http's %q", rec.body, body)
		}
	})
}
