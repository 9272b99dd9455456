package servingbench

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/servingbench/servingbench/internal/rxtime"
)

// Transport sizing for the streaming clients.
const (
	// defaultIdleConns is the idle connection pool when MaxConcurrency is 0.
	defaultIdleConns = 4096
	// writeBufferSize holds the request headers and a typical prompt
	// (thousands of tokens) so a request goes out in one write.
	writeBufferSize = 64 << 10
	// readBufferSize is the connection's read buffer; the SSE reader reads
	// the body through it in large pieces.
	readBufferSize = 8 << 10
	// idleConnTimeout closes pooled connections idle for longer, before
	// servers that close idle connections after 5 s (uvicorn, under vLLM's
	// API server; cpp-httplib, under llama.cpp's) do, so that few requests
	// meet a connection closed under them (see OpenAIConfig and Result.Resent).
	idleConnTimeout = 4 * time.Second
)

// holdStamping keeps the kernel's receive timestamping on for the life of
// the process from the first transport on (rxtime.Hold), so that the first
// segments of the first connection, and those of a connection opened after
// all others closed (llama.cpp closes every one), are stamped too. A
// failure leaves the connections to report their own reason.
var holdStamping = sync.OnceFunc(func() { rxtime.Hold() })

// proxyFor is the proxy lookup of both transports (a variable for tests:
// net/http reads the environment once a process).
var proxyFor = http.ProxyFromEnvironment

// dialer dials the connections of both transports (net/http's and the
// poller client's).
var dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// idleConns is the idle pool for maxConcurrency (0: no limit).
func idleConns(maxConcurrency int) int {
	if maxConcurrency <= 0 {
		return defaultIdleConns
	}
	return maxConcurrency
}

// newTransport returns the one HTTP/1.1 transport a client shares between
// all its requests, with an idle pool of at least maxConcurrency
// connections to the server so that no request waits for a dial once the
// pool is warm (see Prewarm). Compression is off: SSE bodies are consumed as
// they arrive. Every connection it dials reads with the kernel's receive
// timestamps where it can (rxtime.Wrap: TCP on Linux, under TLS too).
// Proxies come from the environment (HTTP_PROXY, HTTPS_PROXY
// and NO_PROXY, as http.ProxyFromEnvironment reads them), and tlsConfig,
// when not nil, is cloned as the TLS configuration of every connection.
func newTransport(maxConcurrency int, tlsConfig *tls.Config) *http.Transport {
	idle := idleConns(maxConcurrency)
	holdStamping()
	t := &http.Transport{
		Proxy: proxyFor,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return rxtime.Wrap(c), nil
		},
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 0,
		DisableCompression:    true,
		WriteBufferSize:       writeBufferSize,
		ReadBufferSize:        readBufferSize,
	}
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
	}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	return t
}
