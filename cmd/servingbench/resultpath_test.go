package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadResultPathFailsBeforeAnyRequest: a result file that could not be
// written is a usage error naming the flag and the value, found before the
// embedded server starts and before any request (prewarm and warm-up
// included) reaches the server.
func TestBadResultPathFailsBeforeAnyRequest(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	readOnly := filepath.Join(root, "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o555))
	tests := []struct {
		name     string
		args     []string
		err      string
		skipRoot bool
	}{
		{name: "result-dir is a file", args: []string{"--result-dir", file},
			err: `flag --result-dir: "` + file + `" is not a directory`},
		{name: "result-dir under a file", args: []string{"--result-dir", filepath.Join(file, "sub")},
			err: `flag --result-dir: cannot create "` + filepath.Join(file, "sub") + `": not a directory`},
		{name: "result-filename in a missing directory", args: []string{"--result-dir", root, "--result-filename", "missing/r.json"},
			err: `flag --result-filename: the directory "` + filepath.Join(root, "missing") + `" of "missing/r.json" does not exist or is not a directory`},
		{name: "result-filename naming a directory", args: []string{"--result-dir", root, "--result-filename", "sub/"},
			err: `flag --result-filename: "sub/" names a directory, not a file`},
		{name: "result-dir read-only", args: []string{"--result-dir", readOnly}, skipRoot: true,
			err: `flag --result-dir "` + readOnly + `": cannot write into "` + readOnly + `": permission denied`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipRoot && os.Geteuid() == 0 {
				t.Skip("root writes into read-only directories")
			}
			srv, received := streamServer(t, -1)
			for _, target := range [][]string{{"--base-url", srv.URL}, nil} { // a real server, the embedded one
				args := append([]string{"--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
					"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--save-result"}, target...)
				stdout, _, err := runCLI(t, append(args, tt.args...)...)
				require.Error(t, err, "args %q", tt.args)
				assert.Regexp(t, "^"+regexp.QuoteMeta(tt.err), err.Error())
				var u usageError
				assert.ErrorAs(t, err, &u, "exit status 2")
				assert.NotContains(t, stdout, "benchmarking the simulated server", "the embedded server must not start")
				assert.NotContains(t, stdout, "Starting initial single prompt test run")
			}
			assert.Zero(t, received.Load(), "requests that reached the server")
		})
	}
}

// TestResultFilenameSubdirectory: a --result-filename with an existing
// directory part is written there, atomically (no temporary file left).
func TestResultFilenameSubdirectory(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "runs"), 0o755))
	stdout, _, err := runCLI(t, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--sim-profile", "zero",
		"--disable-tqdm", "--save-result", "--result-dir", root, "--result-filename", "runs/r.json")
	require.NoError(t, err)
	path := filepath.Join(root, "runs", "r.json")
	assert.Contains(t, stdout, "Result saved to "+path)
	entries, err := os.ReadDir(filepath.Join(root, "runs"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "r.json", entries[0].Name())
}
