package servingbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupBackend(t *testing.T) {
	for _, name := range []string{"vllm", "openai", "sglang", "lmdeploy", "llama.cpp", "scalellm", "mindie"} {
		b, err := LookupBackend(name)
		require.NoError(t, err, "LookupBackend(%q)", name)
		assert.Equal(t, "openai-completions", b.API, "LookupBackend(%q).API", name)
		assert.Equal(t, "/v1/completions", b.Endpoint)
		assert.False(t, b.Chat())
	}
	b, err := LookupBackend("openai-chat")
	require.NoError(t, err)
	assert.True(t, b.Chat())
	assert.Equal(t, "/v1/chat/completions", b.Endpoint)
	c, err := b.New(OpenAIConfig{BaseURL: "http://127.0.0.1:1", Model: "m"})
	require.NoError(t, err, "the backend's constructor")
	c.Close()

	b, err = LookupBackend("tgi")
	require.NoError(t, err)
	assert.Equal(t, "tgi-generate-stream", b.API)
	assert.Equal(t, "/generate_stream", b.Endpoint)
	assert.False(t, b.Chat())
	c, err = b.New(OpenAIConfig{BaseURL: "http://127.0.0.1:1", Model: "m"})
	require.NoError(t, err, "the tgi backend's constructor")
	assert.Equal(t, "http://127.0.0.1:1/generate_stream", c.url)
	c.Close()

	b, err = LookupBackend("llama.cpp-native")
	require.NoError(t, err)
	assert.Equal(t, "llama.cpp-completion", b.API)
	assert.Equal(t, "/completion", b.Endpoint)
	assert.False(t, b.Chat())
	c, err = b.New(OpenAIConfig{BaseURL: "http://127.0.0.1:1/", Model: "m"})
	require.NoError(t, err, "the llama.cpp-native backend's constructor")
	assert.Equal(t, "http://127.0.0.1:1/completion", c.url)
	c.Close()

	for _, tc := range []struct{ name, api, endpoint, cfgEndpoint, url string }{
		{"tensorrt-llm", "triton-generate-stream", "/v2/models/ensemble/generate_stream", "", "http://127.0.0.1:1/v2/models/ensemble/generate_stream"},
		{"tensorrt-llm", "triton-generate-stream", "/v2/models/ensemble/generate_stream", "/v2/models/{model}/generate_stream", "http://127.0.0.1:1/v2/models/org%2Fm%201/generate_stream"},
		{"sglang-native", "sglang-generate", "/generate", "", "http://127.0.0.1:1/generate"},
	} {
		b, err := LookupBackend(tc.name)
		require.NoError(t, err)
		assert.Equal(t, tc.api, b.API)
		assert.Equal(t, tc.endpoint, b.Endpoint)
		c, err := b.New(OpenAIConfig{BaseURL: "http://127.0.0.1:1/", Model: "org/m 1", Endpoint: tc.cfgEndpoint})
		require.NoError(t, err, "the %s backend's constructor", tc.name)
		assert.Equal(t, tc.url, c.url, "%s with endpoint %q", tc.name, tc.cfgEndpoint)
		c.Close()
	}
	_, err = LookupBackend("deepspeed-mii")
	assert.ErrorContains(t, err, `backend "deepspeed-mii" uses that server's native protocol`)
	_, err = LookupBackend("vlm")
	assert.EqualError(t, err, `unknown backend "vlm" (want `+BackendNames()+`)`)
	for _, b := range Backends() {
		got, err := LookupBackend(b.Name)
		require.NoError(t, err)
		assert.Equal(t, b.API, got.API)
	}
}
