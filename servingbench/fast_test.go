package servingbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/h1"
)

// captureServer answers every request on every connection with a short
// completions stream and keeps each request's bytes as they came on the
// wire, head and body.
type captureServer struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs [][]byte
	wg   sync.WaitGroup
}

var captureReply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
	chunk("data: {\"choices\":[{\"text\":\"hi\",\"index\":0}]}\n\n") + chunk("data: [DONE]\n\n") + "0\r\n\r\n"

// chunk is s as one chunk of a chunked body.
func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

func newCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &captureServer{ln: ln}
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *captureServer) serve(c net.Conn) {
	defer c.Close()
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &raw))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		got := raw.Bytes()[:raw.Len()-br.Buffered()]
		s.mu.Lock()
		s.reqs = append(s.reqs, bytes.Clone(got))
		s.mu.Unlock()
		raw.Next(len(got))
		io.WriteString(c, captureReply)
		if req.Close {
			return
		}
	}
}

func (s *captureServer) requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs
}

// TestFastRequestBytes: the poller client puts on the wire exactly the
// bytes net/http's client does for the same request (and the same
// prewarm GET), with an API key,
// headers of the caller's (a User-Agent and a Host among them), and on a
// connection closed after it.
func TestFastRequestBytes(t *testing.T) {
	if !h1.Supported {
		t.Skip("the poller client runs on 64-bit Linux only: nothing to compare")
	}
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			var wire, get [2][]byte
			for i, transport := range []string{"", "net/http"} {
				t.Setenv(transportEnv, transport)
				srv := newCaptureServer(t)
				c, err := NewCompletions(OpenAIConfig{
					BaseURL: "http://" + srv.ln.Addr().String() + "/base", Model: "m", APIKey: "sk-1",
					Header: http.Header{"X-Team": {"a", "b"}, "User-Agent": {"bench/1"}, "Host": {"api.example"}, "x-lower": {" v "}},
				})
				require.NoError(t, err)
				defer c.Close()
				require.Equal(t, transport == "", c.fast != nil, "the poller client in use")
				c.noReuse.Store(fresh)
				var res Result
				c.Send(context.Background(), &Request{Prompt: "hello", MaxTokens: 4}, &res)
				require.NoError(t, res.Err)
				require.Len(t, res.Events, 1)
				require.NoError(t, c.Prewarm(context.Background(), 1))
				reqs := srv.requests()
				require.Len(t, reqs, 2)
				wire[i], get[i] = reqs[0], reqs[1]
			}
			assert.Equal(t, string(wire[1]), string(wire[0]), "the poller client's request, against net/http's")
			assert.Equal(t, string(get[1]), string(get[0]), "the poller client's prewarm GET, against net/http's")
			assert.Contains(t, string(get[0]), "GET /base/v1/models HTTP/1.1\r\n")
			assert.Contains(t, string(wire[0]), "POST /base/v1/completions HTTP/1.1\r\nHost: api.example\r\n")
		})
	}
}

// TestFastPathChoice: the poller client carries plain-HTTP requests to a
// server reached without a proxy, through the client's own transport;
// TLS, a proxy, a caller's http.Client and SERVINGBENCH_TRANSPORT=net/http
// go through net/http, and every one of them measures the stream.
func TestFastPathChoice(t *testing.T) {
	if !h1.Supported {
		t.Skip("the poller client runs on 64-bit Linux only")
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"text\":\"hi\",\"index\":0}]}\n\ndata: [DONE]\n\n")
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	secure := httptest.NewTLSServer(handler)
	defer secure.Close()

	for _, tc := range []struct {
		name string
		cfg  OpenAIConfig
		env  string
		fast bool
	}{
		{"plain", OpenAIConfig{BaseURL: plain.URL}, "", true},
		{"env net/http", OpenAIConfig{BaseURL: plain.URL}, "net/http", false},
		{"tls", OpenAIConfig{BaseURL: secure.URL, TLS: &tls.Config{RootCAs: certPool(secure)}}, "", false},
		{"caller's client", OpenAIConfig{BaseURL: plain.URL, HTTPClient: &http.Client{}}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(transportEnv, tc.env)
			tc.cfg.Model = "m"
			c, err := NewCompletions(tc.cfg)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.fast, c.fast != nil, "the poller client in use")
			var res Result
			c.Send(context.Background(), &Request{Prompt: "p", MaxTokens: 2}, &res)
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, 1)
		})
	}
}

// TestFastPathProxy: a URL the proxy environment sends through a proxy
// is left to net/http, which proxies it (net/http reads the environment
// once a process, so the test swaps the lookup both transports share).
func TestFastPathProxy(t *testing.T) {
	if !h1.Supported {
		t.Skip("the poller client runs on 64-bit Linux only")
	}
	proxied := make(chan string, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied <- r.URL.String()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"text\":\"hi\",\"index\":0}]}\n\ndata: [DONE]\n\n")
	}))
	defer proxy.Close()
	pu, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	old := proxyFor
	proxyFor = func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "model.invalid" {
			return pu, nil
		}
		return nil, nil
	}
	defer func() { proxyFor = old }()
	c, err := NewCompletions(OpenAIConfig{BaseURL: "http://model.invalid:8000", Model: "m"})
	require.NoError(t, err)
	defer c.Close()
	assert.Nil(t, c.fast, "the poller client in use for a proxied URL")
	var res Result
	c.Send(context.Background(), &Request{Prompt: "p", MaxTokens: 2}, &res)
	require.NoError(t, res.Err)
	assert.Len(t, res.Events, 1)
	assert.Equal(t, "http://model.invalid:8000/v1/completions", <-proxied)
}

func certPool(srv *httptest.Server) *x509.CertPool {
	return srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}
