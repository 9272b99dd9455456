package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInterruptBeforeStart: SIGINT while the server is asked who it is,
// while the warm-up request runs, or while connections are prewarmed, says
// in one line that the benchmark did not start and exits with status 130:
// no result block, no result file. The signal is sent when the server has
// received the request of that phase, which then never answers.
func TestInterruptBeforeStart(t *testing.T) {
	tests := []struct {
		name string
		// hold says whether the server holds r, the models-th GET
		// /v1/models when it is one.
		hold  func(r *http.Request, models int64) bool
		flags []string
		phase string
	}{
		// The identity requests (GET /version, /props, /v1/models, ...)
		// are the first GETs.
		{"identification", func(r *http.Request, _ int64) bool { return r.Method == http.MethodGet }, nil, "the identification of the server"},
		{"warm-up", func(r *http.Request, _ int64) bool { return r.Method == http.MethodPost }, nil, "the warm-up"},
		// Prewarm's GET /v1/models come after the one of the identity
		// requests, which end before the run starts.
		{"prewarm", func(r *http.Request, models int64) bool { return models > 1 }, []string{"--no-warmup"}, "the set-up of the run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held := make(chan struct{})
			var once sync.Once
			var models atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int64(0)
				if r.Method == http.MethodGet && r.URL.Path == "/v1/models" {
					n = models.Add(1)
				}
				if tt.hold(r, n) {
					io.Copy(io.Discard, r.Body) // so the server notices the client going away
					once.Do(func() { close(held) })
					<-r.Context().Done()
					return
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			dir := t.TempDir()
			p := startCLI(t, append([]string{"--base-url", srv.URL, "--model", "m", "--dataset-name", "random", "--num-prompts", "8",
				"--random-input-len", "8", "--random-output-len", "4", "--disable-tqdm",
				"--save-result", "--result-dir", dir}, tt.flags...)...)
			select {
			case <-held:
			case <-p.done:
				t.Fatalf("servingbench exited before the server got its request: %v\nstderr:\n%s", p.waitErr, p.stderr.String())
			case <-time.After(startupTimeout):
				t.Fatalf("the server got no request of %s within %v\nstderr:\n%s", tt.phase, startupTimeout, p.stderr.String())
			}
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
			code, _ := p.waitExit(t, time.Now())
			stdout, stderr := p.stdout.String(), p.stderr.String()
			assert.Equal(t, 130, code, "exit status\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Contains(t, stderr, fmt.Sprintf("servingbench: interrupted during %s: the benchmark did not start; nothing was measured or saved\n", tt.phase))
			assert.NotContains(t, stderr, "failed", "an interrupt is no failure")
			assert.NotContains(t, stdout, "Serving Benchmark Result")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "files in --result-dir")
		})
	}
}

// TestInterruptDuringPreparation: SIGINT while 100,000 prompts of 1,024
// tokens are being made (a minute and a half uninterrupted on a 2-core
// machine) stops the preparation: one line says the benchmark did not
// start, exit status 130, nothing sent to the server. The signal is sent
// when the tokenizer line, printed just before the preparation, appears.
func TestInterruptDuringPreparation(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	p := startCLI(t, "--base-url", srv.URL, "--model", "m", "--dataset-name", "random",
		"--num-prompts", "100000", "--random-input-len", "1024", "--random-output-len", "4", "--disable-tqdm")
	if !p.stdout.waitFor("using the built-in Qwen3 tokenizer", startupTimeout) {
		t.Fatalf("no tokenizer line within %v\nstdout:\n%s\nstderr:\n%s", startupTimeout, p.stdout.String(), p.stderr.String())
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	code, _ := p.waitExit(t, time.Now())
	stdout, stderr := p.stdout.String(), p.stderr.String()
	assert.Equal(t, 130, code, "exit status\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, "servingbench: interrupted during the preparation of the prompts: the benchmark did not start; nothing was measured or saved\n")
	assert.NotContains(t, stdout, "Starting initial single prompt test run")
	assert.Zero(t, requests.Load(), "requests the server got")
}
