package servingbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackendChat(t *testing.T) {
	for backend, want := range map[string]bool{"openai-chat": true, "vllm": false, "llama.cpp": false, "mindie": false} {
		chat, err := BackendChat(backend)
		require.NoError(t, err, "BackendChat(%q)", backend)
		assert.Equal(t, want, chat, "BackendChat(%q)", backend)
	}
	_, err := BackendChat("tgi")
	assert.ErrorContains(t, err, "native protocol")
	_, err = BackendChat("nope")
	assert.ErrorContains(t, err, `unknown backend "nope"`)
}
