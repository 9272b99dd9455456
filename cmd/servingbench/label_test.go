package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// savedResult runs the CLI against the embedded simulated server with
// --save-result into a new directory and returns the saved file's name
// and its keys.
func savedResult(t *testing.T, flags ...string) (name string, res map[string]any) {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--sim-profile", "zero",
		"--sim-speed", "1000", "--disable-tqdm", "--save-result", "--result-dir", dir}, flags...)
	_, _, err := runCLI(t, args...)
	require.NoError(t, err, "servingbench %q", args)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1, "result files")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &res))
	return filepath.Base(files[0]), res
}

// TestLabel: --label, as in vllm bench serve, is the result file's
// "label" (null without it) and the default file name's prefix in place
// of --backend; --result-filename still names the file.
func TestLabel(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		label any    // the "label" key: nil for null
		file  string // regexp of the file name
	}{
		{"no label", nil, nil, `^vllm-infqps-m-\d{8}-\d{6}\.json$`},
		{"label", []string{"--label", "q8_0"}, "q8_0", `^q8_0-infqps-m-\d{8}-\d{6}\.json$`},
		{"label trimmed", []string{"--label", " f16 build "}, "f16 build", `^f16 build-infqps-m-\d{8}-\d{6}\.json$`},
		{"label=", []string{"--label=q8_0", "--max-concurrency", "2"}, "q8_0", `^q8_0-infqps-concurrency2-m-\d{8}-\d{6}\.json$`},
		{"backend without label", []string{"--backend", "openai"}, nil, `^openai-infqps-m-\d{8}-\d{6}\.json$`},
		{"label over backend", []string{"--backend", "llama.cpp", "--label", "q8_0"}, "q8_0", `^q8_0-infqps-m-\d{8}-\d{6}\.json$`},
		{"result-filename wins", []string{"--label", "q8_0", "--result-filename", "r.json"}, "q8_0", `^r\.json$`},
		// vLLM's --metadata label=X overwrites the label key but names
		// the file after --label, so after the backend here.
		{"metadata label", []string{"--metadata", "label=from-metadata"}, "from-metadata", `^vllm-infqps-m-\d{8}-\d{6}\.json$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, res := savedResult(t, tt.flags...)
			assert.Regexp(t, tt.file, name, "result file name")
			require.Contains(t, res, "label", "the label key is always written")
			assert.Equal(t, tt.label, res["label"], "label")
			assert.NotContains(t, res, "label=from-metadata")
		})
	}
}

// TestBadLabelFailsBeforeAnyRequest: a label that is empty, not one line,
// unsafe in a file name or too long is a usage error naming the flag, the
// value and what is wrong, found before the embedded server starts and
// before any request reaches a real server.
func TestBadLabelFailsBeforeAnyRequest(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"empty", []string{"--label", ""}, `flag --label "": a label must not be empty`},
		{"blank", []string{"--label", " \t "}, `flag --label " \t ": a label must not be empty`},
		{"no value", []string{"--label"}, `flag --label needs a value`},
		{"two lines", []string{"--label", "f16\nq8_0"}, `flag --label "f16\nq8_0": a label must be one line`},
		{"control character", []string{"--label", "f16\tq8_0"}, `flag --label "f16\tq8_0": a label must be printable text, not the control character U+0009`},
		{"slash", []string{"--label", "f16/q8_0"}, `flag --label "f16/q8_0": a label begins the result file's name, so it must not hold '/' (nor any of /\:*?"<>|)`},
		{"colon", []string{"--label", "llama.cpp:q8_0"}, `flag --label "llama.cpp:q8_0": a label begins the result file's name, so it must not hold ':' (nor any of /\:*?"<>|)`},
		{"too long", []string{"--label", strings.Repeat("q", 129)}, `flag --label "` + strings.Repeat("q", 129) + `": a label begins the result file's name, so it must be at most 128 bytes, got 129`},
		{"label twice", []string{"--label", "q8_0", "--metadata", "label=f16"}, `flag --metadata "label=f16" and flag --label "q8_0" both give the label: give it once, with --label`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, received := streamServer(t, -1)
			for _, target := range [][]string{{"--base-url", srv.URL}, nil} { // a real server, the embedded one
				args := append([]string{"--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
					"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--save-result",
					"--result-dir", t.TempDir()}, target...)
				stdout, _, err := runCLI(t, append(args, tt.args...)...)
				require.Error(t, err, "args %q", tt.args)
				assert.Regexp(t, "^"+regexp.QuoteMeta(tt.err)+"$", err.Error())
				var u usageError
				assert.ErrorAs(t, err, &u, "exit status 2")
				assert.NotContains(t, stdout, "benchmarking the simulated server", "the embedded server must not start")
				assert.NotContains(t, stdout, "Server:")
			}
			assert.Zero(t, received.Load(), "requests that reached the server")
		})
	}
}
