package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simRun runs the CLI on the simulated server with --save-detailed into
// dir and returns the result file's path and the run's stdout.
func simRun(t *testing.T, dir, label string, extra ...string) (string, string) {
	t.Helper()
	args := append([]string{"--sim-profile", "zero", "--sim-speed", "1000", "--num-prompts", "8", "--random-input-len", "16",
		"--random-output-len", "4", "--no-warmup", "--disable-tqdm", "--label", label,
		"--save-result", "--save-detailed", "--result-dir", dir}, extra...)
	out, stderr, err := runCLI(t, args...)
	require.NoError(t, err, "stderr:\n%s", stderr)
	m := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no 'Result saved to' line:\n%s", out)
	return m[1], out
}

// TestCLIReport: servingbench report writes one self-contained page of
// several result files side by side, a PNG with --format png, and refuses
// a file that is not a result file, naming it; --plot writes the run's
// report beside its result file. (The page's drawing is checked in a real
// browser by internal/htmlreport's TestBrowser.)
func TestCLIReport(t *testing.T) {
	dir := t.TempDir()
	a, _ := simRun(t, dir, "build-a")
	b, out := simRun(t, dir, "build-b", "--plot")

	plotted := strings.TrimSuffix(b, ".json") + ".report.html"
	assert.Contains(t, out, "Report written to "+plotted+"\n")
	page, err := os.ReadFile(plotted)
	require.NoError(t, err)
	assert.Contains(t, string(page), "build-b")

	html := filepath.Join(dir, "both.html")
	out, stderr, err := runCLI(t, "report", a, b, "-o", html)
	require.NoError(t, err, "stderr:\n%s", stderr)
	assert.Equal(t, "Report written to "+html+"\n", out)
	page, err = os.ReadFile(html)
	require.NoError(t, err)
	for _, want := range []string{"build-a", "build-b", "<canvas", "Content-Security-Policy"} {
		assert.Contains(t, string(page), want)
	}
	assert.NotRegexp(t, `(?i)<script[^>]+src=|https?://[^"' ]+\.js`, string(page), "no script fetched from anywhere")

	png := filepath.Join(dir, "both.png")
	_, stderr, err = runCLI(t, "report", "--format", "png", "-o", png, a, b)
	require.NoError(t, err, "stderr:\n%s", stderr)
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG\r\n\x1a\n", string(data[:8]), "a PNG")

	notResult := filepath.Join(dir, "notes.json")
	require.NoError(t, os.WriteFile(notResult, []byte(`{"hello": "world"}`), 0o644))
	_, _, err = runCLI(t, "report", a, notResult, "-o", filepath.Join(dir, "x.html"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "report: "+notResult+" is not a result file")
	assert.NoFileExists(t, filepath.Join(dir, "x.html"), "no page written")

	_, _, err = runCLI(t, "report", "--format", "svg", a)
	assert.ErrorContains(t, err, `report: --format must be html or png, got "svg"`)
	_, _, err = runCLI(t, "report")
	assert.ErrorContains(t, err, "report: want at least one result file")
}
