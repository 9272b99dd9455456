package target

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		field Field
		value string
	}{
		{"native backend", Spec{Backend: "deepspeed-mii"}, FieldBackend, "deepspeed-mii"},
		{"unknown backend", Spec{Backend: "nope"}, FieldBackend, "nope"},
		{"chat endpoint", Spec{Backend: "openai-chat", Endpoint: "/v1/completions"}, FieldEndpoint, "/v1/completions"},
		{"unknown profile", Spec{Sim: "int4"}, FieldSim, "int4"},
		{"speed NaN", Spec{SimSpeed: math.NaN()}, FieldSimSpeed, "NaN"},
		{"negative speed", Spec{SimSpeed: -1}, FieldSimSpeed, "-1"},
		{"speed too high", Spec{SimSpeed: 2e6}, FieldSimSpeed, "2e+06"},
		{"relative URL", Spec{BaseURL: "localhost:8000", Model: "m"}, FieldBaseURL, "localhost:8000"},
		{"URL with credentials", Spec{BaseURL: "ftp://u:secret@h", Model: "m"}, FieldBaseURL, "ftp://h"},
		{"no model", Spec{BaseURL: "http://127.0.0.1:9"}, FieldModel, ""},
		{"bad header name", Spec{Header: http.Header{"X Key": {"secret"}}}, FieldHeader, "X Key"},
		{"newline in a header", Spec{BaseURL: "https://h", Model: "m", Header: http.Header{"Authorization": {"Bearer secret\nX: y"}}}, FieldHeader, "Authorization"},
		{"extra body not JSON", Spec{ExtraBody: map[string]any{"temperature": math.Inf(1)}}, FieldExtraBody, "temperature"},
		{"CA for the simulated server", Spec{TLS: servingbench.TLSFiles{CACert: "ca.pem"}}, FieldCACert, "ca.pem"},
		{"insecure for the simulated server", Spec{TLS: servingbench.TLSFiles{Insecure: true}}, FieldInsecure, "true"},
		{"client cert with http", Spec{BaseURL: "http://127.0.0.1:9", Model: "m", TLS: servingbench.TLSFiles{ClientCert: "c.pem", ClientKey: "k.pem"}}, FieldClientCert, "c.pem"},
		{"missing CA", Spec{BaseURL: "https://127.0.0.1:9", Model: "m", TLS: servingbench.TLSFiles{CACert: "/nonexistent/ca.pem"}}, FieldCACert, "/nonexistent/ca.pem"},
		{"key without cert", Spec{BaseURL: "https://127.0.0.1:9", Model: "m", TLS: servingbench.TLSFiles{ClientKey: "/nonexistent/k.pem"}}, FieldClientKey, "/nonexistent/k.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.spec)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "Validate(%+v) = %v, want *FieldError", tt.spec, err)
			assert.Equal(t, tt.field, fe.Field, "Field")
			assert.Equal(t, tt.value, fe.Value, "Value")
			assert.NotContains(t, err.Error(), "secret")
		})
	}
	assert.True(t, errors.Is(Validate(Spec{BaseURL: "http://h"}), ErrRequired), "no model: ErrRequired")
	assert.NoError(t, Validate(Spec{}), "Validate(zero Spec)")
	assert.NoError(t, Validate(Spec{BaseURL: "http://h:8000", Model: "m", Backend: "openai-chat"}))
	assert.NoError(t, Validate(Spec{BaseURL: "http://h:8000", Model: "m", TLS: servingbench.TLSFiles{Insecure: true}}),
		"Insecure with http, which vLLM accepts, does nothing")
	assert.NoError(t, Validate(Spec{Header: http.Header{"X-Tenant": {"a"}}, ExtraBody: map[string]any{"top_k": 5}}),
		"headers and an extra body for the simulated server")
}

// TestOpenDefaults: the zero Spec is the simulated fp16 profile at 10x
// with the built-in tokenizer, which the server counts with too.
func TestOpenDefaults(t *testing.T) {
	tg, err := Open(Spec{})
	require.NoError(t, err)
	defer tg.Close()
	assert.Equal(t, Spec{Backend: "vllm", Model: "sim-7b-fp16", Sim: "fp16", SimSpeed: 10}, tg.Spec)
	assert.True(t, tg.Simulated())
	assert.Equal(t, 2, tg.FilesPerRequest())
	assert.Equal(t, tg.Sim.URL, tg.URL)
	assert.True(t, tg.Tokenizer.IsDefault(), "built-in tokenizer")
	assert.Equal(t, tokenizer.DefaultName, tg.Tokenizer.ID)
	assert.False(t, tg.Chat)
	assert.Equal(t, servingtest.Version, tg.Version(context.Background()), "Version()")

	c, err := tg.NewClient(scenarios.SeedRandom256(), nil, nil)
	require.NoError(t, err)
	c.Close()
}

// TestOpenTokenizerFirst: a tokenizer that cannot be loaded fails Open
// before any server starts, as a FieldError wrapping NotFoundError.
func TestOpenTokenizerFirst(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	_, err := Open(Spec{Tokenizer: "acme/none"})
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "Open = %v, want *FieldError", err)
	assert.Equal(t, FieldTokenizer, fe.Field)
	_, ok := tokenizer.NotFound(err)
	assert.True(t, ok, "wraps *tokenizer.NotFoundError")
}

func TestOpenReal(t *testing.T) {
	tg, err := Open(Spec{BaseURL: "http://127.0.0.1:9/", Model: "m", Backend: "openai-chat"})
	require.NoError(t, err)
	defer tg.Close()
	assert.False(t, tg.Simulated())
	assert.Equal(t, "http://127.0.0.1:9", tg.URL)
	assert.True(t, tg.Chat)
	assert.Equal(t, 1, tg.FilesPerRequest())
	assert.Equal(t, Spec{BaseURL: "http://127.0.0.1:9/", Model: "m", Backend: "openai-chat"}, tg.Spec)
}

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"vllm", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"version":"0.9.1"}`)) }, "0.9.1"},
		{"newline in version", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"version":"1.0\nmodel: x"}`)) }, "1.0 model: x"},
		{"no route", http.NotFound, ""},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			got := (&Target{URL: srv.URL}).Version(context.Background())
			assert.Equal(t, tt.want, got, "Version(%s) = %q, want %q", tt.name, got, tt.want)
		})
	}
}

// TestEveryBackendSimulated: the simulated server speaks the protocol of
// every backend of the table, so each --backend benchmarks it, with the
// counts from the server's own fields.
func TestEveryBackendSimulated(t *testing.T) {
	for _, b := range servingbench.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			tg, err := Open(Spec{Backend: b.Name, SimSpeed: 1000})
			require.NoError(t, err)
			defer tg.Close()
			c, err := tg.NewClient(scenarios.SeedRandom256(), nil, nil)
			require.NoError(t, err)
			defer c.Close()
			reqs := []servingbench.Request{{Prompt: "one two three", MaxTokens: 4}, {Prompt: "four five", MaxTokens: 3}}
			rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs})
			require.NoError(t, err)
			require.Equal(t, 2, rep.Completed, "errors: %v", rep.Errors)
			assert.Equal(t, 7, rep.TotalOutputTokens)
			source := servingbench.SourceUsage
			if b.API == "triton-generate-stream" {
				source = servingbench.SourceTokenizer // Triton reports no counts: the tokenizer counts the text
			}
			assert.Equal(t, map[servingbench.CountSource]int{source: 2}, rep.OutputSources)
			assert.Equal(t, b.Endpoint, tg.Sim.Truth()[0].Endpoint, "the backend's default endpoint")
		})
	}
}

// TestHTTPClient: with Spec.HTTPClient, every request of the target goes
// through it: the benchmark's, the identity's and the metrics'. Here it
// is the only way to the server (an in-memory listener, whose address no
// dialer of servingbench's can reach), inside a synctest bubble, so the
// run's times are the simulated server's, exactly.
func TestHTTPClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := servingtest.NewUnstartedServer(servingtest.FixedService(2, 10*time.Millisecond))
		srv.Listener = servingtest.NewListener()
		srv.Start()
		defer srv.Close()
		rec := &pathRecorder{next: srv.Client().Transport}
		tg, err := Open(Spec{BaseURL: srv.URL, Model: srv.Model().Name, HTTPClient: &http.Client{Transport: rec}})
		require.NoError(t, err)
		defer tg.Close()

		id := tg.Identify(context.Background())
		assert.Equal(t, "servingtest-0.1.0", id.Server, "the identity, through the client")
		tg.PrefixCache(context.Background())

		c, err := tg.NewClient(scenarios.SeedRandom256(), nil, nil)
		require.NoError(t, err)
		defer c.Close()
		rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: c,
			Requests: []servingbench.Request{{Prompt: "one two three", MaxTokens: 10}}})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Completed, "errors: %v", rep.Errors)
		truth := srv.Truth()
		require.Len(t, truth, 1)
		require.Len(t, rep.Results, 1)
		assert.Equal(t, truth[0].Chunks[0].Sub(rep.Results[0].Sent), rep.Results[0].TTFT(), "TTFT: the server's first flush")
		for _, path := range []string{"/version", "/v1/models", "/metrics", "/v1/completions"} {
			assert.Contains(t, rec.paths(), path)
		}
	})
	err := Validate(Spec{BaseURL: "https://127.0.0.1:9", Model: "m", HTTPClient: http.DefaultClient,
		TLS: servingbench.TLSFiles{CACert: "ca.pem"}})
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, FieldCACert, fe.Field)
	assert.ErrorContains(t, err, "cannot be used with Spec.HTTPClient")
}

// pathRecorder is a transport that records the path of every request.
type pathRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (p *pathRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.seen = append(p.seen, r.URL.Path)
	p.mu.Unlock()
	return p.next.RoundTrip(r)
}

func (p *pathRecorder) paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}
