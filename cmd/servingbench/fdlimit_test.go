package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vllmStream is a complete vLLM completions stream.
func vllmStream(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../servingbench/testdata/streams/vllm-completions.sse")
	require.NoError(t, err)
	return b
}

// streamServer answers GET with 404 and the first `answer` completion
// requests with a complete stream (answer < 0: all of them); later ones
// are held until the client goes. It counts every request it receives.
func streamServer(t *testing.T, answer int64) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	stream := vllmStream(t)
	var all, posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all.Add(1)
		if r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body) // so that the server notices the client going
		if n := posts.Add(1); answer >= 0 && n > answer {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
	t.Cleanup(srv.Close)
	return srv, &all
}

// runLimited runs the built CLI with its open-file limit (soft and hard)
// set to limit by the shell's ulimit, and returns its output and exit
// status.
func runLimited(t *testing.T, bin string, limit int, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", `ulimit -n "$1" && shift && exec "$@"`, "sh", strconv.Itoa(limit), bin}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	return out.String(), errb.String(), code
}

// TestEMFILEIsClientLimitAndResultSaved runs the CLI with 64 descriptors
// against a server that holds most requests: the requests that find no
// descriptor fail as "client: too many open files (limit 64)", grouped
// under the client's reason and never as a "transport error", and the
// result file is still written once the run's connections are closed.
func TestEMFILEIsClientLimitAndResultSaved(t *testing.T) {
	bin := servingbenchBinary(t)
	srv, _ := streamServer(t, 3) // the warm-up and two requests succeed
	dir := t.TempDir()
	stdout, stderr, code := runLimited(t, bin, 64, "--base-url", srv.URL, "--model", "m",
		"--dataset-name", "random", "--tokenizer", qwen3, "--random-input-len", "8", "--random-output-len", "4",
		"--num-prompts", "200", "--request-rate", "1000000", "--request-timeout", "3", "--disable-tqdm",
		"--save-result", "--save-detailed", "--result-dir", dir)
	require.Equal(t, 0, code, "exit status")

	assert.Regexp(t, "warning: up to 200 requests may be in flight at once .* `ulimit -n` is 64: .*--max-concurrency \\d+ or less", stderr,
		"the pre-flight check warns at a finite rate")
	assert.Regexp(t, `(?m)^  client: too many open files:\s+\d+`, stdout, "the block groups the failures under the client's reason")
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		assert.NotContains(t, out, "transport error", "%s blames the server", name)
	}

	m := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no 'Result saved to' line")
	data, err := os.ReadFile(strings.TrimSpace(m[1]))
	require.NoError(t, err)
	var file struct {
		Completed   int            `json:"completed"`
		Failed      int            `json:"failed"`
		ErrorCounts map[string]int `json:"error_counts"`
		Errors      []string       `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	assert.Positive(t, file.Completed)
	assert.Positive(t, file.ErrorCounts["client: too many open files"], "error_counts = %v", file.ErrorCounts)
	assert.NotContains(t, file.ErrorCounts, "transport error")
	assert.Contains(t, file.Errors, "client: too many open files (limit 64)")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the result file and no temporary one")
}

// TestFileLimitPreflight: at an infinite rate a run whose requests cannot
// all hold a connection is refused before any request (nor the warm-up)
// reaches the server, naming ulimit -n and --max-concurrency; with a
// --max-concurrency that fits, the same run succeeds.
func TestFileLimitPreflight(t *testing.T) {
	bin := servingbenchBinary(t)
	tests := []struct {
		name           string
		maxConcurrency string
		code           int
		stderr         string
	}{
		{name: "refused", maxConcurrency: "0", code: 1,
			stderr: "servingbench: open-file limit too low: 300 requests in flight at once (--num-prompts 300 at --request-rate inf, no --max-concurrency) need about "},
		{name: "fits with max-concurrency", maxConcurrency: "8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, received := streamServer(t, -1)
			stdout, stderr, code := runLimited(t, bin, 64, "--base-url", srv.URL, "--model", "m",
				"--dataset-name", "random", "--tokenizer", qwen3, "--random-input-len", "8", "--random-output-len", "4",
				"--num-prompts", "300", "--max-concurrency", tt.maxConcurrency, "--disable-tqdm")
			require.Equal(t, tt.code, code, "exit status")
			if tt.code == 0 {
				assert.Equal(t, 300.0, blockValue(t, stdout, "Successful requests:"))
				return
			}
			assert.Contains(t, stderr, tt.stderr)
			assert.Regexp(t, "but `ulimit -n` is 64: raise it \\(ulimit -n \\d+; .*\\) or pass --max-concurrency \\d+ or less", stderr)
			assert.NotContains(t, stdout, "Starting initial single prompt test run")
			assert.Zero(t, received.Load(), "requests that reached the server")
		})
	}
}
