package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// tlsSim is the simulated server behind a TLS listener on 127.0.0.1.
type tlsSim struct {
	*servingtest.Server
	URL string // https://
	ln  *countingListener
}

func newTLSSim(t *testing.T, m servingtest.Model, cfg *tls.Config) *tlsSim {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cl := &countingListener{Listener: ln}
	srv := servingtest.NewUnstartedServer(m)
	srv.Listener = tls.NewListener(cl, cfg)
	srv.SetErrorLog(io.Discard) // handshakes failed on purpose
	srv.Start()
	t.Cleanup(srv.Close)
	return &tlsSim{Server: srv, URL: "https://" + ln.Addr().String(), ln: cl}
}

// smallRun are the flags of a short benchmark.
func smallRun(extra ...string) []string {
	return append([]string{"--dataset-name", "random", "--tokenizer", qwen3, "--num-prompts", "6",
		"--random-input-len", "8", "--random-output-len", "3", "--disable-tqdm"}, extra...)
}

// TestCLIConnFlagErrors: every bad connection flag is a usage error that
// names the flag (and the file), before any connection to the server;
// no error shows a header's value.
func TestCLIConnFlagErrors(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.NewMTLS(dir)
	require.NoError(t, err)
	other, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	srv := newTLSSim(t, servingtest.ZeroCost(), pki.ServerConfig(true))
	missing := filepath.Join(dir, "missing.pem")
	real := []string{"--base-url", srv.URL, "--model", srv.Model().Name}
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"header without =", []string{"--header", "X-Api-Key"}, `flag --header: "X-Api-Key" is not KEY=VALUE (vLLM's form, e.g. --header X-Api-Key=VALUE)`},
		{"curl's header", []string{"--header", "Authorization: Bearer sk-flag-secret"}, `flag --header: "Authorization" followed by ':'... is not KEY=VALUE`},
		{"space in a header name", []string{"--header", "X Key=sk-flag-secret"}, `flag --header: the name "X" followed by ' '... holds ' ', which a header name cannot`},
		{"empty header name", []string{"--header", "=sk-flag-secret"}, `flag --header: (an item that starts with "=") is not KEY=VALUE`},
		{"content length", []string{"--header", "Content-Length=12"}, `flag --header: header "Content-Length": the HTTP client sets it from the request`},
		{"control character", []string{"--header", "X-Api-Key=sk-flag-secret\x01"}, `flag --header: header "X-Api-Key": the value holds the control character U+0001`},
		{"extra body not JSON", []string{"--extra-body", "{temperature: 0}"}, "flag --extra-body: not JSON: invalid character 't' looking for beginning of object key string"},
		{"extra body an array", []string{"--extra-body", "[1]"}, `flag --extra-body: want a JSON object such as '{"top_k": 20}', got an array`},
		{"extra body twice", []string{"--extra-body", `{"a":1} {"b":2}`}, "flag --extra-body: more than one JSON value"},
		{"missing CA", append(real, "--ca-cert", missing), fmt.Sprintf("flag --ca-cert %q: no such file or directory", missing)},
		{"key as CA", append(real, "--ca-cert", pki.ClientKeyFile), fmt.Sprintf("flag --ca-cert %q: no CERTIFICATE block (the file holds PRIVATE KEY)", pki.ClientKeyFile)},
		{"key of another certificate", append(real, "--client-cert", pki.ClientCertFile, "--client-key", other.ClientKeyFile),
			fmt.Sprintf("flag --client-key %q: the key does not match the certificate of --client-cert %q", other.ClientKeyFile, pki.ClientCertFile)},
		{"key without certificate", append(real, "--client-key", pki.ClientKeyFile), fmt.Sprintf("flag --client-key %q: needs --client-cert, the certificate of the key", pki.ClientKeyFile)},
		{"certificate without key", append(real, "--client-cert", pki.ClientCertFile), fmt.Sprintf("flag --client-cert %q: holds no PRIVATE KEY block: give --client-key", pki.ClientCertFile)},
		{"missing key", append(real, "--client-cert", pki.ClientCertFile, "--client-key", missing), fmt.Sprintf("flag --client-key %q: no such file or directory", missing)},
		{"insecure with a CA", append(real, "--insecure", "--ca-cert", pki.CAFile), "flags --insecure and --ca-cert: --insecure skips the verification --ca-cert is for; give one of them"},
		{"CA with http", []string{"--base-url", "http://127.0.0.1:9", "--model", "m", "--ca-cert", pki.CAFile}, fmt.Sprintf("flag --ca-cert %q: applies to an https:// URL; the base URL is http://127.0.0.1:9", pki.CAFile)},
		{"CA for the simulated server", []string{"--ca-cert", pki.CAFile}, fmt.Sprintf("flag --ca-cert %q: applies to a real server at an https:// URL", pki.CAFile)},
		{"negative ready check", []string{"--ready-check-timeout-sec", "-1"}, "flag --ready-check-timeout-sec must be >= 0 seconds, got -1"},
		{"ready check not an int", []string{"--ready-check-timeout-sec", "1.5"}, `flag --ready-check-timeout-sec: invalid int value "1.5"`},
		{"negative warm-ups", []string{"--num-warmups", "-2"}, "flag --num-warmups must be >= 0, got -2"},
		{"ready check without warm-up", []string{"--ready-check-timeout-sec", "30", "--no-warmup"}, "flag --ready-check-timeout-sec waits for the server by sending the initial test request again and again, which --no-warmup turns off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(t, smallRun(tt.flags...)...)
			require.Error(t, err)
			var u usageError
			assert.True(t, errors.As(err, &u), "a usage error (exit status 2): %v", err)
			assert.Contains(t, err.Error(), tt.want)
			for _, out := range []string{err.Error(), stdout, stderr} {
				assert.NotContains(t, out, "sk-flag-secret", "a header's value")
			}
			assert.Zero(t, srv.ln.accepted.Load(), "connections to the server")
		})
	}
}

// TestCLITLS: the CLI against the simulated server over HTTPS with mutual
// TLS (a CA made in the test; the server requires a client certificate
// signed by it): the right flags run the benchmark, each wrong one fails
// at the warm-up, or at the prewarm without one, before the benchmark,
// with the reason and the flags that mend it, wrapping Go's error.
func TestCLITLS(t *testing.T) {
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	other, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	srv := newTLSSim(t, servingtest.ZeroCost(), pki.ServerConfig(true))
	client := []string{"--client-cert", pki.ClientCertFile, "--client-key", pki.ClientKeyFile}
	tests := []struct {
		name  string
		flags []string
		want  string // the error; "" for a run
	}{
		{"mutual TLS", append([]string{"--ca-cert", pki.CAFile}, client...), ""},
		{"insecure", append([]string{"--insecure"}, client...), ""},
		{"no CA", client,
			"warm-up request failed: TLS: certificate signed by unknown authority (pass --ca-cert or --insecure): tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"no CA, no warm-up", append([]string{"--no-warmup"}, client...),
			"prewarming connections: TLS: certificate signed by unknown authority (pass --ca-cert or --insecure): tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"another CA", append([]string{"--ca-cert", other.CAFile}, client...),
			fmt.Sprintf("warm-up request failed: TLS: certificate signed by unknown authority (--ca-cert %q did not sign it; pass the CA that did, or --insecure): tls: failed to verify", other.CAFile)},
		{"no client certificate", []string{"--ca-cert", pki.CAFile},
			"warm-up request failed: TLS: the server requires a client certificate (--client-cert/--client-key): remote error: tls: certificate required"},
		{"no client certificate, ready check", []string{"--ca-cert", pki.CAFile, "--ready-check-timeout-sec", "600"},
			"ready check: TLS: the server requires a client certificate (--client-cert/--client-key): remote error: tls: certificate required"},
		{"client certificate of another CA", []string{"--ca-cert", pki.CAFile, "--client-cert", other.ClientCertFile, "--client-key", other.ClientKeyFile},
			fmt.Sprintf("warm-up request failed: TLS: the server rejected the client certificate (--client-cert %q: is it signed by a CA the server trusts, and valid?): remote error: tls: ", other.ClientCertFile)},
		{"http to the https server", []string{"--base-url", strings.Replace(srv.URL, "https://", "http://", 1)},
			"warm-up request failed: the server speaks HTTPS: use https:// in --base-url: HTTP 400: Client sent an HTTP request to an HTTPS server."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			args := smallRun(append([]string{"--base-url", srv.URL, "--model", srv.Model().Name}, tt.flags...)...)
			stdout, _, err := runCLI(t, args...)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, 6.0, blockValue(t, stdout, "Successful requests:"))
				assert.Contains(t, stdout, "Server: servingtest-0.1.0", "the identity, over the same TLS")
				assert.Len(t, srv.Truth(), 7, "the warm-up and the run's requests")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if slices.Contains(tt.flags, "--no-warmup") {
				// The prewarm is Run's, after the lines on the load.
				assert.NotContains(t, stdout, "Successful requests:", "the benchmark did not start")
			} else {
				assert.NotContains(t, stdout, "Traffic request rate:", "the benchmark did not start")
			}
			assert.Empty(t, srv.Truth(), "no request reached the server")
		})
	}
}

// TestCLIHeaderAndExtraBody: --header reaches every request, the
// identity's too, replacing servingbench's own, and --extra-body every
// body, over the flags' own members.
func TestCLIHeaderAndExtraBody(t *testing.T) {
	var mu sync.Mutex
	var posts, gets []http.Header
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodGet {
			gets = append(gets, r.Header.Clone())
			http.NotFound(w, r)
			return
		}
		posts = append(posts, r.Header.Clone())
		var body map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		bodies = append(bodies, body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[{"index":0,"text":" w"}]}`+"\n\n"+`data: {"choices":[{"index":0,"text":" w","finish_reason":"length"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	_, _, err := runCLI(t, smallRun("--base-url", srv.URL, "--model", "m", "--temperature", "0.5",
		"--header", "X-Tenant=bench", "x-priority = high ", "Authorization=Basic dXNlcjpwdw==",
		"--header", "X-Tenant=again",
		"--extra-body", `{"chat_template_kwargs":{"enable_thinking":false},"temperature":0,"seed":12345678901234567890}`)...)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, posts, 7)
	require.NotEmpty(t, gets)
	for _, h := range append(posts, gets...) {
		assert.Equal(t, "again", h.Get("X-Tenant"), "the later --header wins, as in vLLM's dict")
		assert.Equal(t, "high", h.Get("X-Priority"), "key and value trimmed")
		assert.Equal(t, "Basic dXNlcjpwdw==", h.Get("Authorization"), "--header replaces OPENAI_API_KEY's bearer token")
	}
	for _, b := range bodies {
		assert.Equal(t, map[string]any{"enable_thinking": false}, b["chat_template_kwargs"])
		assert.Equal(t, 0.0, b["temperature"], "--extra-body replaces --temperature, as in vLLM")
		assert.Equal(t, 1.2345678901234567e19, b["seed"])
		assert.Equal(t, "m", b["model"])
	}
}

// TestCLIReadyCheckAndWarmups: with --ready-check-timeout-sec the
// initial test request is sent again until the server answers it (here
// a gateway answers 503 "Loading model" once, then passes requests to
// the simulated server), then --num-warmups requests, no more at once
// than --max-concurrency; a server never ready fails at once when the
// next attempt would come after the timeout. The wait itself (5 s
// between attempts) is exact on a fake clock in servingbench's tests.
func TestCLIReadyCheckAndWarmups(t *testing.T) {
	synctest.Test(t, testCLIReadyCheckAndWarmups)
}

// testCLIReadyCheckAndWarmups runs in a synctest bubble: the gateway and
// the simulated server on in-memory listeners, the CLI reaching the
// gateway through testHTTPClient, so the 5 s between attempts pass on
// the fake clock and the give-up is exact.
func testCLIReadyCheckAndWarmups(t *testing.T) {
	sim := servingtest.NewUnstartedServer(servingtest.Model{Name: "sim-gw", DecodeBase: 2 * time.Millisecond})
	sim.Listener = servingtest.NewListener()
	sim.Start()
	defer sim.Close()
	simURL, err := url.Parse(sim.URL)
	require.NoError(t, err)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(simURL) }, Transport: sim.Client().Transport}
	var loading atomic.Int64 // the 503s still to send
	var posts, inFlight, peak atomic.Int64
	gw := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			if loading.Add(-1) >= 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`)
				return
			}
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	gwListener := servingtest.NewListener()
	gw.Listener = gwListener
	gw.Start()
	defer gw.Close()
	// A connection per request: on in-memory pipes a connection the
	// gateway closes can be taken from the pool in the same instant of
	// the fake clock; pooling is not what this test is about.
	gwTransport := &http.Transport{DialContext: gwListener.DialContext, DisableKeepAlives: true}
	defer gwTransport.CloseIdleConnections()
	testHTTPClient = &http.Client{Transport: gwTransport}
	defer func() { testHTTPClient = nil }()
	gwURL := "http://" + gwListener.Addr().String()

	loading.Store(1)
	start := time.Now()
	stdout, stderr, err := runCLI(t, smallRun("--base-url", gwURL, "--model", "sim-gw",
		"--ready-check-timeout-sec", "60", "--num-warmups", "5", "--max-concurrency", "2")...)
	require.NoError(t, err, "stderr:\n%s", stderr)
	assert.Contains(t, stdout, "Waiting for endpoint to become up in 60 seconds\nInitial test run completed.\nServer: servingtest-0.1.0")
	assert.Contains(t, stdout, "Warming up with 5 requests...\nWarmup run completed. Starting main benchmark run...\n")
	assert.NotContains(t, stdout, "Starting initial single prompt test run...", "the ready check's request is the test run")
	assert.Contains(t, stderr, `Endpoint is not ready (attempt 1; again in 5s): HTTP 503: {"error":{"code":503,"message":"Loading model"`)
	assert.Len(t, sim.Truth(), 1+5+6, "requests the server answered: the test run, the warm-ups, the run's (of %d the gateway received)", posts.Load())
	assert.EqualValues(t, 1+1+5+6, posts.Load(), "requests the gateway received: the one it answered 503 too")
	assert.LessOrEqual(t, peak.Load(), int64(2), "requests at once, warm-ups included")

	// Without the ready check: the test run once, then the warm-ups.
	sim.Reset()
	loading.Store(0)
	stdout, _, err = runCLI(t, smallRun("--base-url", gwURL, "--model", "sim-gw", "--num-warmups", "3")...)
	require.NoError(t, err)
	assert.Contains(t, stdout, "Starting initial single prompt test run...\nInitial test run completed.\nWarming up with 3 requests...\nWarmup run completed. Starting main benchmark run...\n")
	assert.Len(t, sim.Truth(), 1+3+6)

	// --no-warmup with --num-warmups: the warm-ups alone.
	sim.Reset()
	stdout, _, err = runCLI(t, smallRun("--base-url", gwURL, "--model", "sim-gw", "--no-warmup", "--num-warmups", "2")...)
	require.NoError(t, err)
	assert.NotContains(t, stdout, "initial single prompt")
	assert.Len(t, sim.Truth(), 2+6)

	// Never ready within 3 s: the next attempt would come at 5 s, so the
	// check gives up at once, after its one attempt.
	sim.Reset()
	loading.Store(1 << 30)
	start = time.Now()
	stdout, _, err = runCLI(t, smallRun("--base-url", gwURL, "--model", "sim-gw", "--ready-check-timeout-sec", "3")...)
	require.Error(t, err)
	assert.Zero(t, time.Since(start), "the time the CLI took, on the bubble's clock: no wait for an attempt past the timeout")
	assert.Contains(t, err.Error(), `ready check (--ready-check-timeout-sec 3): servingbench: the server was not ready within 3s (1 attempt); last failure: HTTP 503: {"error":{"code":503,"message":"Loading model"`)
	assert.NotContains(t, stdout, "Traffic request rate:")
	assert.Empty(t, sim.Truth())
}

// TestCLIProxy: the CLI's requests, the identity's and the warm-up's
// included, go through the proxy HTTP_PROXY names. Go never proxies a
// loopback address or localhost (http.ProxyFromEnvironment), so the
// server is given a host name of the reserved .test domain that only the
// proxy knows: it forwards that name to the simulated server on
// 127.0.0.1 and refuses any other, so no request leaves 127.0.0.1. The
// proxy also drops every request that arrives on a connection it served
// before, as llama.cpp's server may (see servingtest.Model.DropReused),
// so the requests resent on a new connection must go through it too.
func TestCLIProxy(t *testing.T) {
	sim := servingtest.NewServer(servingtest.ZeroCost())
	defer sim.Close()
	simURL, err := url.Parse(sim.URL)
	require.NoError(t, err)
	const upstream = "llm-upstream.test:8000"
	reverse := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(simURL) }}
	var forwarded, refused, dropped atomic.Int64
	var mu sync.Mutex
	paths := map[string]int{}
	type connKey struct{}
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != upstream || r.URL.Scheme != "http" {
			refused.Add(1)
			http.Error(w, "proxy: unknown host "+r.URL.Host, http.StatusBadGateway)
			return
		}
		if n := r.Context().Value(connKey{}).(*atomic.Int64); n.Add(1) > 1 {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				dropped.Add(1)
				conn.Close()
				return
			}
		}
		forwarded.Add(1)
		mu.Lock()
		paths[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		reverse.ServeHTTP(w, r)
	}))
	proxy.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, new(atomic.Int64))
	}
	proxy.Start()
	defer proxy.Close()

	env := []string{"HTTP_PROXY=" + proxy.URL, "http_proxy=" + proxy.URL, "NO_PROXY=", "no_proxy=",
		"HTTPS_PROXY=", "https_proxy="}
	p := startCLIWith(t, cliOptions{env: env}, smallRun("--base-url", "http://"+upstream, "--model", sim.Model().Name)...)
	code, _ := p.waitExit(t, time.Now())
	stdout, stderr := p.stdout.String(), p.stderr.String()
	require.Equal(t, 0, code, "exit status\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Equal(t, 6.0, blockValue(t, stdout, "Successful requests:"))
	assert.Contains(t, stdout, "Server: servingtest-0.1.0", "the identity requests went through the proxy")
	assert.Zero(t, refused.Load(), "requests for other hosts")
	assert.Positive(t, dropped.Load(), "requests the proxy dropped on reused connections")
	assert.Len(t, sim.Truth(), 7, "the warm-up and the run's requests reached the server, each once")
	mu.Lock()
	assert.Equal(t, 7, paths["POST /v1/completions"], "completions forwarded")
	assert.Positive(t, paths["GET /version"], "identity requests forwarded")
	mu.Unlock()
}
