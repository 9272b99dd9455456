package target_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/servingbench/servingbench/servingbench/target"
)

// TestTLSAndHeaders: the identity requests, the metrics scrape and the
// benchmark's client of a target reach a server that requires a client
// certificate (mutual TLS) with the spec's files, and carry its headers.
func TestTLSAndHeaders(t *testing.T) {
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]http.Header{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"version":"0.9.1"}`)
		case "/v1/models":
			fmt.Fprint(w, `{"data":[{"id":"m","owned_by":"vllm","root":"/models/m","max_model_len":4096}]}`)
		case "/metrics":
			fmt.Fprint(w, "vllm:prefix_cache_queries_total{engine=\"0\"} 100\nvllm:prefix_cache_hits_total{engine=\"0\"} 25\n")
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = pki.ServerConfig(true)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes failed on purpose
	srv.StartTLS()
	defer srv.Close()

	spec := target.Spec{BaseURL: srv.URL, Model: "m", APIKey: "sk-target",
		Header: http.Header{"X-Tenant": {"bench"}, "X-Api-Key": {"hk-secret"}},
		TLS:    servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile}}
	tg, err := target.Open(spec)
	require.NoError(t, err)
	defer tg.Close()
	id := tg.Identify(context.Background())
	assert.Equal(t, "vllm 0.9.1", id.Server)
	assert.Equal(t, []string{"root=/models/m", "max_model_len=4096"}, id.Facts)
	counters, ok := tg.PrefixCache(context.Background())
	require.True(t, ok, "PrefixCache over mutual TLS")
	assert.EqualValues(t, 100, counters.Queries)
	assert.EqualValues(t, 25, counters.Hits)
	mu.Lock()
	for _, path := range []string{"/version", "/props", "/v1/models", "/info", "/metrics"} {
		h := seen[path]
		require.NotNil(t, h, "GET %s never arrived", path)
		assert.Equal(t, "Bearer sk-target", h.Get("Authorization"), path)
		assert.Equal(t, "bench", h.Get("X-Tenant"), path)
		assert.Equal(t, "hk-secret", h.Get("X-Api-Key"), path)
	}
	mu.Unlock()

	// Without the client certificate the server answers nothing: the
	// identity is the URL's alone, and there are no counters.
	bare := spec
	bare.TLS = servingbench.TLSFiles{CACert: pki.CAFile}
	tg2, err := target.Open(bare)
	require.NoError(t, err)
	defer tg2.Close()
	assert.Empty(t, tg2.Identify(context.Background()).Server)
	_, ok = tg2.PrefixCache(context.Background())
	assert.False(t, ok)

	// A header replaces the API key's Authorization, as vLLM's --header.
	auth := spec
	auth.Header = http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}
	tg3, err := target.Open(auth)
	require.NoError(t, err)
	defer tg3.Close()
	tg3.Identify(context.Background())
	mu.Lock()
	assert.Equal(t, "Basic dXNlcjpwdw==", seen["/version"].Get("Authorization"))
	mu.Unlock()
}

// TestNewClientTLS: the target's client speaks mutual TLS to the
// simulated server behind a TLS listener, with the spec's headers and
// extra body.
func TestNewClientTLS(t *testing.T) {
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sim := servingtest.NewUnstartedServer(servingtest.ZeroCost())
	sim.Listener = tls.NewListener(ln, pki.ServerConfig(true))
	sim.SetErrorLog(io.Discard)
	sim.Start()
	defer sim.Close()
	url := strings.Replace(sim.URL, "http://", "https://", 1)

	tg, err := target.Open(target.Spec{BaseURL: url, Model: sim.Model().Name,
		ExtraBody: map[string]any{"max_tokens": 3},
		TLS:       servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile}})
	require.NoError(t, err)
	defer tg.Close()
	c, err := tg.NewClient(scenarios.SeedRandom256(), nil, nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, servingbench.Warmup(context.Background(), c, &servingbench.Request{Prompt: "hello", MaxTokens: 9}))
	truth := sim.Truth()
	require.Len(t, truth, 1)
	assert.Equal(t, 3, truth[0].MaxTokens, "ExtraBody's max_tokens replaces the request's")
}
