package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerMetricsFlags: the flags' checks name what is wrong.
func TestServerMetricsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-server-metrics", "--server-metrics-url", "http://127.0.0.1:9/metrics"},
			"flags --no-server-metrics and --server-metrics-url: one turns off the scrapes the other points; give one of them"},
		{[]string{"--no-server-metrics", "--server-metrics-interval", "2"},
			"flags --no-server-metrics and --server-metrics-interval: there is nothing to scrape at that interval; give one of them"},
		{[]string{"--server-metrics-interval", "0"}, "flag --server-metrics-interval must be > 0 and <= 3600 seconds, got 0"},
		{[]string{"--server-metrics-url", "127.0.0.1:9/metrics"},
			`flag --server-metrics-url must be an absolute http or https URL such as http://127.0.0.1:8000/metrics, got "127.0.0.1:9/metrics"`},
	} {
		_, _, err := runCLI(t, tc.args...)
		require.Error(t, err, "%v", tc.args)
		assert.Equal(t, tc.want, err.Error(), "%v", tc.args)
	}
}

// TestServerMetricsLines: a default run of the simulated server prints
// the Server Metrics section and saves server_metrics (its counters are
// our totals: the simulated server counts with our tokenizer); with
// --no-server-metrics neither; a page answering 404 is one line on
// stderr and no section.
func TestServerMetricsLines(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--sim-profile", "zero", "--sim-speed", "1000", "--seed", "7", "--num-prompts", "8",
		"--random-input-len", "16", "--random-output-len", "4", "--disable-tqdm"}
	out, _, err := runCLI(t, append(base, "--save-result", "--result-dir", dir, "--result-filename", "r.json")...)
	require.NoError(t, err)
	assert.Contains(t, out, "------------------Server Metrics------------------\n")
	assert.Equal(t, blockValue(t, out, "Total input tokens:"), blockValue(t, out, "Server prompt tokens:"))
	assert.Equal(t, blockValue(t, out, "Total generated tokens:"), blockValue(t, out, "Server generation tokens:"))
	b, err := os.ReadFile(filepath.Join(dir, "r.json"))
	require.NoError(t, err)
	var file struct {
		In float64 `json:"total_input_tokens"`
		SM struct {
			Counters map[string]float64 `json:"counters"`
		} `json:"server_metrics"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	assert.Equal(t, file.In, file.SM.Counters[`vllm:prompt_tokens_total{model_name="sim-zero-cost"}`])

	out, _, err = runCLI(t, append(base, "--no-server-metrics")...)
	require.NoError(t, err)
	assert.NotContains(t, out, "Server Metrics")

	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	out, errOut, err := runCLI(t, append(base, "--server-metrics-url", nf.URL+"/metrics")...)
	require.NoError(t, err)
	assert.NotContains(t, out, "Server Metrics")
	assert.Contains(t, errOut, "server metrics: GET "+nf.URL+"/metrics: 404, not scraped\n")
}
