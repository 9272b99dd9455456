package main

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench/target"
)

// Replies of a real llama-server b11669 (Debian's, serving the
// conformance suite's tiny F16 model), cut to the fields that matter:
// GET /props, GET /v1/models, and the 404 of every other route (GET
// /version among them). Every reply has the header "Server: llama.cpp".
const (
	llamaProps  = `{"default_generation_settings":{"n_ctx":2048},"total_slots":4,"model_alias":"tiny-qwen3","model_path":"/root/.cache/servingbench/llamacpp/models/tiny-qwen3-chain-f16.gguf","modalities":{"vision":false,"audio":false},"endpoint_slots":true,"endpoint_props":false,"endpoint_metrics":true,"chat_template":"{{ bos_token }}","bos_token":"<|endoftext|>","eos_token":"<|endoftext|>","build_info":"b11669-Debian","model_ftype":"F16","is_sleeping":false}`
	llamaModels = `{"models":[{"name":"tiny-qwen3","model":"tiny-qwen3","type":"model"}],"object":"list","data":[{"id":"tiny-qwen3","aliases":["tiny-qwen3"],"tags":[],"object":"model","created":1796176965,"owned_by":"llamacpp","meta":{"vocab_type":2,"n_vocab":151669,"n_ctx":2048,"n_ctx_train":4096,"ftype":"F16"}}]}`
	llama404    = `{"error":{"message":"File Not Found","type":"not_found_error","code":404}}`
)

// llamaServer answers as llama-server b11669 does: its identity routes,
// and every completion request with a stream it sent.
func llamaServer(t *testing.T) *httptest.Server {
	t.Helper()
	stream, err := os.ReadFile("../../servingbench/testdata/streams/llamacpp-completions.sse")
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "llama.cpp")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/props":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, llamaProps)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, llamaModels)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/completions":
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(stream)
		default:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, llama404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// identify is what target.Identify says of the server at url: what the
// CLI must print and save.
func identify(t *testing.T, url string) target.Identity {
	t.Helper()
	tg, err := target.Open(target.Spec{BaseURL: url, Model: "tiny-qwen3", Tokenizer: qwen3})
	require.NoError(t, err)
	defer tg.Close()
	return tg.Identify(context.Background())
}

// savedFile reads the one result file in dir.
func savedFile(t *testing.T, dir string) map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1, "result files")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	var res map[string]any
	require.NoError(t, json.Unmarshal(data, &res))
	return res
}

var backendLine = regexp.MustCompile(`(?mi)^backend:`)

// TestServerLine: against a server that says who it is (llama.cpp's
// Server header and /props), the CLI prints one "Server:" line with what
// target.Identify returns, after the preamble and before the warm-up,
// and saves it as server and server_id; "backend" stays the --backend
// given (vLLM's default vllm without one) and no line says it.
func TestServerLine(t *testing.T) {
	srv := llamaServer(t)
	id := identify(t, srv.URL)
	require.Equal(t, "llama.cpp b11669-Debian", id.Server, "the fake llama-server is recognised as one")
	require.NotEmpty(t, id.ID)
	line := "Server: " + id.String() + "\n"
	require.True(t, strings.HasPrefix(line, "Server: llama.cpp b11669-Debian (model_path=/root/.cache/servingbench/llamacpp/models/tiny-qwen3-chain-f16.gguf, model_ftype=F16"), line)

	for _, backend := range []string{"", "llama.cpp", "openai"} {
		t.Run("backend="+backend, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--base-url", srv.URL, "--model", "tiny-qwen3", "--dataset-name", "random", "--tokenizer", qwen3,
				"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--disable-tqdm",
				"--save-result", "--result-dir", dir}
			if backend != "" {
				args = append(args, "--backend", backend)
			}
			stdout, _, err := runCLI(t, args...)
			require.NoError(t, err)
			assert.Equal(t, 1, strings.Count(stdout, line), "%q in:\n%s", line, stdout)
			assert.True(t, strings.HasPrefix(stdout, line+"Starting initial single prompt test run...\n"),
				"the Server line first (no preamble with --tokenizer and --base-url), then the warm-up:\n%s", stdout)
			assert.NotRegexp(t, backendLine, stdout, "no backend line: the backend is ours, not the server's")

			res := savedFile(t, dir)
			assert.Equal(t, cmp.Or(backend, "vllm"), res["backend"], "backend as given")
			assert.Equal(t, id.String(), res["server"])
			assert.Equal(t, id.ID, res["server_id"])
		})
	}
}

// TestServerSaysNothing: a server that answers no identity route prints
// no "Server:" line and saves no server key; its server_id is what
// Identify gives (a fingerprint of the URL).
func TestServerSaysNothing(t *testing.T) {
	srv, _ := streamServer(t, -1)
	id := identify(t, srv.URL)
	require.Empty(t, id.Server)
	require.Empty(t, id.Facts)
	dir := t.TempDir()
	stdout, _, err := runCLI(t, "--base-url", srv.URL, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--disable-tqdm",
		"--save-result", "--result-dir", dir)
	require.NoError(t, err)
	assert.NotContains(t, stdout, "Server:")
	res := savedFile(t, dir)
	assert.NotContains(t, res, "server")
	if id.ID == "" {
		assert.NotContains(t, res, "server_id")
	} else {
		assert.Equal(t, id.ID, res["server_id"])
	}
}

// TestSimulatedServerLine: the embedded simulated server's line says what
// that server says (its version, profile and speed), and the file keeps it.
func TestSimulatedServerLine(t *testing.T) {
	dir := t.TempDir()
	stdout, _, err := runCLI(t, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--sim-profile", "zero",
		"--sim-speed", "1000", "--disable-tqdm", "--save-result", "--result-dir", dir)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^Server: (servingtest-\S+ \(.*profile=zero, speed=1000\))$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no Server line of the simulated server in:\n%s", stdout)
	note := strings.Index(stdout, "benchmarking the simulated server")
	server := strings.Index(stdout, m[0])
	warmup := strings.Index(stdout, "Starting initial single prompt test run...")
	assert.True(t, 0 <= note && note < server && server < warmup, "the Server line after the simulated-server note, before the warm-up:\n%s", stdout)
	res := savedFile(t, dir)
	assert.Equal(t, m[1], res["server"])
	assert.Regexp(t, `^[0-9a-f]{12}$`, res["server_id"])
	assert.NotRegexp(t, backendLine, stdout)
}
