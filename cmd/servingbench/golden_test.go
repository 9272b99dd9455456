package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/output.golden")

// goldenRuns are the invocations of TestGoldenOutput: runs against the
// embedded simulated server (zero-cost profile, fixed seed) and bad
// command lines. $DIR is a temporary directory holding an empty regular
// file, $DIR/file.
var goldenRuns = [][]string{
	{"--sim-profile", "zero", "--sim-speed", "1000", "--seed", "7", "--num-prompts", "6",
		"--random-input-len", "16", "--random-output-len", "4", "--disable-tqdm",
		"--save-result", "--result-dir", "$DIR", "--result-filename", "result.json"},
	{"--model", "qwen2.5", "--sim-profile", "zero", "--sim-speed", "1000", "--seed", "7", "--num-prompts", "4",
		"--random-input-len", "16", "--random-output-len", "4", "--request-rate", "1000", "--burstiness", "0.5",
		"--max-concurrency", "2", "--no-warmup", "--disable-tqdm"},
	{"--sim-speed", "0"},
	{"--sim-profile", "int4"},
	{"--backend", "deepspeed-mii"},
	{"--backend", "openai-chat", "--endpoint", "/v1/completions"},
	{"--base-url", "http://127.0.0.1:9"},
	{"--base-url", "localhost:8000", "--model", "m"},
	{"--tokenizer", "/nonexistent/tokenizer.json"},
	{"--num-prompts", "0"},
	{"--save-result", "--result-dir", "$DIR/file"},
	{"--label", "f16/q8_0"},
	{"--label", "q8_0", "--metadata", "label=f16"},
	// Ramp-up: vllm bench serve's lines and file name, and its checks.
	{"--sim-profile", "zero", "--sim-speed", "1000", "--seed", "7", "--num-prompts", "6",
		"--random-input-len", "16", "--random-output-len", "4", "--max-concurrency", "2", "--disable-tqdm",
		"--ramp-up-strategy", "exponential", "--ramp-up-start-rps", "500", "--ramp-up-end-rps", "4000",
		"--save-result", "--result-dir", "$DIR"},
	{"--ramp-up-strategy", "cubic", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8"},
	{"--ramp-up-strategy", "linear", "--ramp-up-end-rps", "8"},
	{"--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8"},
	{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8", "--request-rate", "4"},
	{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "8", "--ramp-up-end-rps", "4"},
	{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "-2", "--ramp-up-end-rps", "4"},
	{"--ramp-up-strategy", "exponential", "--ramp-up-start-rps", "0", "--ramp-up-end-rps", "4"},
	{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "0", "--ramp-up-end-rps", "4"},
	// The sweep's own checks.
	{"sweep"},
	{"sweep", "--request-rate", "1,2", "--max-concurrency", "1,2"},
	{"sweep", "--max-concurrency", "4,4"},
	{"sweep", "--workload-points", "1"},
	{"sweep", "--workload-points", "5", "--max-concurrency", "1,2"},
	// The capacity search's own checks.
	{"capacity"},
	{"capacity", "--sla", "ttft.p99<=500ms", "--num-prompts", "50"},
	{"capacity", "--sla", "ttft.p99<=500ms", "--search", "max-concurrency", "--max-concurrency", "4"},
	{"capacity", "--sla", "failed<=0", "--start", "8", "--max-load", "4"},
	{"capacity", "--sla", "failed<=0", "--resolution", "150%"},
}

// TestGoldenOutput runs the built CLI and compares the lines it prints
// around the result block (simulated-server note, tokenizer note, the
// server's "Server:" line, warm-up and load lines, warnings, "Result
// saved to") and the error lines of bad invocations with
// testdata/output.golden. The block itself (timings) is replaced by one
// line; ports and temporary paths are normalised.
// go test -run TestGoldenOutput ./cmd/servingbench -update rewrites it.
func TestGoldenOutput(t *testing.T) {
	bin := servingbenchBinary(t)
	home := t.TempDir() // no HuggingFace cache: --model names no tokenizer
	var got bytes.Buffer
	for _, args := range goldenRuns {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)) // not a directory
		real := make([]string, len(args))
		for i, a := range args {
			real[i] = strings.ReplaceAll(a, "$DIR", dir)
		}
		cmd := exec.Command(bin, real...)
		cmd.Env = append(os.Environ(), "HOME="+home, "HF_HOME="+filepath.Join(home, "hf"),
			"HF_HUB_CACHE="+filepath.Join(home, "hub"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "OPENAI_API_KEY=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "running servingbench %v: %v", args, err)
			code = ee.ExitCode()
		}
		fmt.Fprintf(&got, "$ servingbench %s\nexit %d\n", strings.Join(args, " "), code)
		writeSection(&got, "stdout", normalise(stdout.String(), dir))
		writeSection(&got, "stderr", normalise(stderr.String(), dir))
		got.WriteString("\n")
	}
	golden := filepath.Join("testdata", "output.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got.String(), "CLI output differs from %s (-update rewrites it)", golden)
}

func writeSection(w *bytes.Buffer, name, text string) {
	if text == "" {
		return
	}
	fmt.Fprintf(w, "%s:\n", name)
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

var (
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d{2,5}`)
	dateRE = regexp.MustCompile(`-\d{8}-\d{6}\.(json|csv)\b`)
)

// normalise replaces the variable parts of the CLI's output: the result
// block (one line), the simulated server's port, the temporary directory,
// the date in a result file's default name, and the client lag's warning
// (servingbench.ClientLagWarning), which a busy machine gives.
func normalise(s, dir string) string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(line, "============ Serving Benchmark Result"):
			inBlock = true
			out = append(out, "<result block>")
			continue
		case inBlock && strings.HasPrefix(line, "=================================================="):
			inBlock = false
			continue
		case inBlock:
			continue
		case strings.HasPrefix(line, "warning: servingbench: client lag P99 "):
			continue // the machine's load, like the block's timings
		}
		out = append(out, line)
	}
	s = strings.Join(out, "\n")
	s = strings.ReplaceAll(s, dir, "$DIR")
	s = dateRE.ReplaceAllString(s, "-YYYYMMDD-HHMMSS.$1")
	return portRE.ReplaceAllString(s, "127.0.0.1:PORT")
}
