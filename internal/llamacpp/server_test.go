package llamacpp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/llamacpp"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
)

func TestStartRefusesHostAndPort(t *testing.T) {
	for _, arg := range []string{"--host", "--port=8080", "--host=0.0.0.0"} {
		_, err := (&llamacpp.Install{}).Start(context.Background(), llamacpp.Options{Args: []string{arg}})
		assert.ErrorContains(t, err, arg+" is not allowed", "Start(Args: %s)", arg)
	}
}

// TestServe starts and stops a server and scrapes its counters.
func TestServe(t *testing.T) {
	in := llamacpp.Require(t)
	srv := llamacpp.Serve(t, in, llamacpp.Options{Parallel: 1})
	resp, err := http.Get(srv.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	m, err := srv.Metrics(context.Background())
	require.NoError(t, err)
	for _, name := range []string{llamacpp.PromptTokensTotal, llamacpp.PromptTokensCachedTotal, llamacpp.TokensPredictedTotal} {
		assert.Contains(t, m, name)
	}
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "a second Close")
	_, err = http.Get(srv.URL + "/health")
	assert.Error(t, err, "the server is gone after Close")
}

// TestStartFailure: a server that cannot start is an error quoting its log.
func TestStartFailure(t *testing.T) {
	in := llamacpp.Require(t)
	_, err := in.Start(context.Background(), llamacpp.Options{Model: "/nonexistent/model.gguf", LogDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "llama-server exited during startup")
	assert.Contains(t, err.Error(), "/nonexistent/model.gguf", "the log's tail names the model")
}

// TestQuantizedModel serves the Q8_0 copy of the model (for comparisons
// of builds) and checks that it generates exactly what is asked.
func TestQuantizedModel(t *testing.T) {
	in := llamacpp.Require(t)
	srv := llamacpp.Serve(t, in, llamacpp.Options{Model: llamacpp.ModelQ8, Parallel: 2})
	tok, err := scenarios.DefaultTokenizer()
	require.NoError(t, err)
	reqs, err := scenarios.Random{InputLen: 32, OutputLen: 16, RangeRatio: 0.5, ExactLength: true}.Requests(tok, 16, 99)
	require.NoError(t, err)
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Alias, IgnoreEOS: true})
	require.NoError(t, err)
	rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs, MaxConcurrency: 2})
	require.NoError(t, err)
	require.Zero(t, rep.Failed, "failed requests, by reason: %v", rep.Errors)
	want := 0
	for _, r := range reqs {
		want += r.MaxTokens
	}
	assert.Equal(t, want, rep.TotalOutputTokens)
	for _, res := range rep.Results {
		assert.Equal(t, reqs[res.Index].PromptTokens, res.InputTokens, "request %d: prompt tokens", res.Index)
		assert.Len(t, res.Events, reqs[res.Index].MaxTokens, "request %d: one event per token", res.Index)
	}
}
