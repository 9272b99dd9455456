package llamacpp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/llamacpp"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// TestConformanceServerMetrics benchmarks the real llama-server with its
// /metrics scraped around the run (Config.ServerMetrics, every 200 ms)
// and checks what the result file's server_metrics says against the
// report: the deltas of llamacpp:prompt_tokens_total and
// llamacpp:prompt_tokens_cached_total add up to our input tokens (the
// first counts the prompt tokens evaluated, the second those reused from
// a cache; llama-server's HELP lines) and that of
// llamacpp:tokens_predicted_total is our output tokens, exactly. The
// warm-up request (Config.Warmup, vLLM v0.9.1's initial test run) is
// sent before the first scrape, so it is excluded from both sides. The
// server's names are llama.cpp's (servermetrics.LlamaCpp), the token
// check warns of nothing, and the gauges were sampled during the run.
func TestConformanceServerMetrics(t *testing.T) {
	if raceEnabled {
		t.Skip("real-server conformance runs without -race (.ci/run's conformance step)")
	}
	in := llamacpp.Require(t)
	srv := llamacpp.Serve(t, in, llamacpp.Options{Parallel: slots})
	tok, err := tokenizer.Default()
	require.NoError(t, err)
	reqs, err := scenarios.Random{InputLen: 48, OutputLen: 64, RangeRatio: 0.5, ExactLength: true}.Requests(context.Background(), tok, 48, 7)
	require.NoError(t, err)
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{
		BaseURL: srv.URL, Model: srv.Alias, IgnoreEOS: true, Tokenizer: tok, MaxConcurrency: slots, RequestTimeout: time.Minute,
	})
	require.NoError(t, err)
	defer client.Close()
	url := srv.URL + "/metrics"
	scraper := &servermetrics.Scraper{URL: url, Interval: 200 * time.Millisecond, Get: func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		return http.DefaultClient.Do(req)
	}}
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, MaxConcurrency: slots, Warmup: true, ServerMetrics: scraper,
	})
	require.NoError(t, err)
	require.Zero(t, rep.Failed, "failed requests: %v", rep.Errors)
	require.True(t, rep.ServerMetrics.Scraped(), "scraped: %v", rep.ServerMetrics.Err)
	assert.Empty(t, rep.ServerMetrics.Warnings, "no failed scrape, no reset, the token counts agree")
	assert.Equal(t, "llama.cpp", rep.ServerMetrics.Server.Server)

	var buf bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&buf, rep, servingbench.JSONOptions{}))
	var file struct {
		TotalInput  int `json:"total_input_tokens"`
		TotalOutput int `json:"total_output_tokens"`
		Server      struct {
			Scrapes  int                           `json:"scrapes"`
			Counters map[string]float64            `json:"counters"`
			Gauges   map[string]map[string]float64 `json:"gauges"`
		} `json:"server_metrics"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &file))
	c := file.Server.Counters
	assert.Equal(t, float64(file.TotalInput), c[llamacpp.PromptTokensTotal]+c[llamacpp.PromptTokensCachedTotal],
		"total_input_tokens = server_metrics.counters[%s] + [%s]", llamacpp.PromptTokensTotal, llamacpp.PromptTokensCachedTotal)
	assert.Equal(t, float64(file.TotalOutput), c[llamacpp.TokensPredictedTotal], "total_output_tokens = server_metrics.counters[%s]", llamacpp.TokensPredictedTotal)
	assert.Equal(t, float64(rep.TotalOutputTokens), c[llamacpp.TokensPredictedTotal], "the report's total too")
	require.Contains(t, file.Server.Gauges, "llamacpp:requests_processing", "a gauge sampled during the run")
	assert.LessOrEqual(t, file.Server.Gauges["llamacpp:requests_processing"]["max"], float64(slots), "no more requests processing than slots")
	t.Logf("%d scrapes; %s %v + %s %v = %d input tokens; %s %v = %d output tokens; requests_processing mean %.2f max %v",
		file.Server.Scrapes, llamacpp.PromptTokensTotal, c[llamacpp.PromptTokensTotal], llamacpp.PromptTokensCachedTotal, c[llamacpp.PromptTokensCachedTotal], file.TotalInput,
		llamacpp.TokensPredictedTotal, c[llamacpp.TokensPredictedTotal], file.TotalOutput,
		file.Server.Gauges["llamacpp:requests_processing"]["mean"], file.Server.Gauges["llamacpp:requests_processing"]["max"])
}
