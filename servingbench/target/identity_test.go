package target_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench/target"
)

// fixtureServer serves the replies in testdata/DIR (see
// testdata/README.md): ROUTE.headers and ROUTE.json per route, 404.* for
// the others. edit, when not nil, rewrites a body before it is sent.
func fixtureServer(t *testing.T, dir string, edit func(route string, body []byte) []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/"), "/", "_")
		head, err := os.ReadFile(filepath.Join("testdata", dir, route+".headers"))
		if err != nil {
			route = "404"
			head, err = os.ReadFile(filepath.Join("testdata", dir, "404.headers"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
		}
		body, err := os.ReadFile(filepath.Join("testdata", dir, route+".json"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if edit != nil {
			body = edit(route, body)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(append(head, '\n'))), r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for k, vs := range resp.Header {
			if k == "Content-Length" || k == "Connection" || k == "Keep-Alive" {
				continue
			}
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func openReal(t *testing.T, url, model string) *target.Target {
	t.Helper()
	tg, err := target.Open(target.Spec{BaseURL: url, Model: model})
	require.NoError(t, err)
	t.Cleanup(tg.Close)
	return tg
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name, dir, model string
		server           string
		facts            []string
	}{
		{
			name: "llama.cpp", dir: "llamacpp", model: "tiny-qwen3",
			server: "llama.cpp b11669-Debian",
			facts: []string{"model_path=/root/.cache/servingbench/llamacpp/models/tiny-qwen3-chain-f16.gguf",
				"model_ftype=F16", "total_slots=4"},
		},
		{
			name: "vLLM", dir: "vllm", model: "qwen2.5",
			server: "vllm 0.9.1",
			facts:  []string{"root=/data/models/llm/qwen/Qwen2.5-32B-Instruct", "max_model_len=32768"},
		},
		{
			name: "TGI", dir: "tgi", model: "tgi",
			server: "text-generation-router 0.5.0",
			facts:  []string{"model_id=bigscience/blomm-560m", "model_sha=e985a63cdc139290c5f700ff1929f0b5942cced2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fixtureServer(t, tt.dir, nil)
			id := openReal(t, srv.URL, tt.model).Identify(context.Background())
			assert.Equal(t, tt.server, id.Server, "Identify().Server")
			assert.Equal(t, tt.facts, id.Facts, "Identify().Facts")
			assert.Regexp(t, `^[0-9a-f]{12}$`, id.ID, "Identify().ID")
			assert.Equal(t, tt.server+" ("+strings.Join(tt.facts, ", ")+")", id.String())
		})
	}
}

// TestIdentifyTellsBuildsApart: the F16 and Q8_0 servers of issue 10
// answer to the same model name and say the same version; their /props
// model_path and model_ftype differ, and so do their IDs. The same
// replies at another address give another ID; at the same address, the
// same ID.
func TestIdentifyTellsBuildsApart(t *testing.T) {
	q8 := func(route string, body []byte) []byte {
		if route != "props" {
			return body
		}
		body = bytes.ReplaceAll(body, []byte("chain-f16.gguf"), []byte("chain-q8_0.gguf"))
		return bytes.ReplaceAll(body, []byte(`"model_ftype":"F16"`), []byte(`"model_ftype":"Q8_0"`))
	}
	f16Srv, q8Srv, f16Again := fixtureServer(t, "llamacpp", nil), fixtureServer(t, "llamacpp", q8), fixtureServer(t, "llamacpp", nil)
	ctx := context.Background()
	f16 := openReal(t, f16Srv.URL, "tiny-qwen3").Identify(ctx)
	q8id := openReal(t, q8Srv.URL, "tiny-qwen3").Identify(ctx)
	assert.Equal(t, f16.Server, q8id.Server, "same software and build")
	assert.Contains(t, q8id.Facts, "model_ftype=Q8_0")
	assert.NotEqual(t, f16.ID, q8id.ID, "F16 and Q8_0 servers")
	assert.NotEqual(t, f16.ID, openReal(t, f16Again.URL, "tiny-qwen3").Identify(ctx).ID, "same build at another address")
	assert.Equal(t, f16.ID, openReal(t, f16Srv.URL, "tiny-qwen3").Identify(ctx).ID, "same build, same address")
}

// TestIdentifyPicksTheServedModel: of several /v1/models cards, the one
// benchmarked gives root.
func TestIdentifyPicksTheServedModel(t *testing.T) {
	two := func(route string, body []byte) []byte {
		if route != "v1_models" {
			return body
		}
		return []byte(`{"object":"list","data":[` +
			`{"id":"other","object":"model","owned_by":"vllm","root":"/m/other"},` +
			`{"id":"qwen2.5","object":"model","owned_by":"vllm","root":"/m/qwen","max_model_len":4096}]}`)
	}
	srv := fixtureServer(t, "vllm", two)
	id := openReal(t, srv.URL, "qwen2.5").Identify(context.Background())
	assert.Equal(t, []string{"root=/m/qwen", "max_model_len=4096"}, id.Facts)
	id = openReal(t, srv.URL, "lora-not-listed").Identify(context.Background())
	assert.Equal(t, []string{"root=/m/other"}, id.Facts, "unknown model: the first card")
}

func TestIdentifyUnknownServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	id := openReal(t, srv.URL, "m").Identify(context.Background())
	assert.Empty(t, id.Server)
	assert.Empty(t, id.Facts)
	assert.Empty(t, id.String())
	assert.Regexp(t, `^[0-9a-f]{12}$`, id.ID, "an ID of the URL alone still tells servers apart")

	// Replies that are not the routes' JSON say nothing, and a framework's
	// Server header names no inference server.
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.25.3")
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	t.Cleanup(junk.Close)
	id = openReal(t, junk.URL, "m").Identify(context.Background())
	assert.Empty(t, id.Server)
	assert.Empty(t, id.Facts)
}

func TestIdentifySendsTheAPIKey(t *testing.T) {
	var authorized atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-secret" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		if r.URL.Path == "/version" {
			_, _ = w.Write([]byte(`{"version":"0.9.1"}`))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	tg, err := target.Open(target.Spec{BaseURL: srv.URL, Model: "m", APIKey: "sk-secret"})
	require.NoError(t, err)
	defer tg.Close()
	id := tg.Identify(context.Background())
	assert.Equal(t, "0.9.1", id.Server)
	assert.EqualValues(t, 4, authorized.Load(), "every identity request carries the key")
}

func TestIdentifySimulated(t *testing.T) {
	open := func(sim string, speed float64) target.Identity {
		tg, err := target.Open(target.Spec{Sim: sim, SimSpeed: speed})
		require.NoError(t, err)
		defer tg.Close()
		return tg.Identify(context.Background())
	}
	fp16 := open("fp16", 10)
	assert.Equal(t, "servingtest-0.1.0", fp16.Server)
	assert.Equal(t, []string{"max_model_len=400000", "profile=fp16", "speed=10"}, fp16.Facts, "what it answers, then its profile and speed")
	assert.Equal(t, fp16.ID, open("fp16", 10).ID, "a new simulated server on another port is the same build")
	assert.NotEqual(t, fp16.ID, open("w8a8", 10).ID)
	assert.NotEqual(t, fp16.ID, open("fp16", 20).ID)
}
