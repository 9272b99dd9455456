package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios"
)

// TestDatasetNames: --dataset-name takes our names and vllm bench serve's
// spelling of prefix_repetition (the command line in the PrefixCaching
// scenario's doc).
func TestDatasetNames(t *testing.T) {
	for _, name := range []string{"prefix-repetition", "prefix_repetition"} {
		o, err := parseOptions([]string{"--dataset-name", name})
		require.NoError(t, err, "parseOptions(--dataset-name %s)", name)
		d, err := o.dataset()
		require.NoError(t, err, "dataset() of --dataset-name %s", name)
		assert.IsType(t, scenarios.PrefixRepetition{}, d, "dataset of --dataset-name %s", name)
	}
	o, err := parseOptions([]string{"--dataset-name", "prefix repetition"})
	require.NoError(t, err)
	_, err = o.dataset()
	assert.ErrorContains(t, err, `flag --dataset-name: unknown dataset "prefix repetition"`)
}

// TestBackendDefaultEndpoint: without --endpoint the backend's own path is
// used; openai-chat refuses a path that is not chat/completions.
func TestBackendDefaultEndpoint(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--backend vllm", "/v1/completions"},
		{"--backend openai-chat", "/v1/chat/completions"},
		{"--backend llama.cpp --endpoint /custom/v1/completions", "/custom/v1/completions"},
	} {
		o, err := parseOptions(strings.Fields(tc.args))
		require.NoError(t, err, tc.args)
		_, err = o.chatEndpoint()
		require.NoError(t, err, tc.args)
		assert.Equal(t, tc.want, o.endpoint, "endpoint of %s", tc.args)
	}
	o, err := parseOptions(strings.Fields("--backend openai-chat --endpoint /v1/completions"))
	require.NoError(t, err)
	_, err = o.chatEndpoint()
	assert.EqualError(t, err, `flag --endpoint: backend openai-chat needs a path ending in chat/completions, got "/v1/completions"`)
}
