package builtin

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQwen3 checks the embedded files are the shipped ones, up to
// insignificant whitespace.
func TestQwen3(t *testing.T) {
	tj, cj, err := Qwen3()
	require.NoError(t, err)
	for _, c := range []struct {
		got  []byte
		file string
	}{
		{tj, "tokenizer.json"},
		{cj, "tokenizer_config.json"},
	} {
		orig, err := os.ReadFile("../testdata/qwen3/" + c.file)
		require.NoError(t, err)
		var want bytes.Buffer
		require.NoError(t, json.Compact(&want, orig))
		require.True(t, bytes.Equal(c.got, want.Bytes()), "Qwen3() %s differs from testdata (len %d, want %d)", c.file, len(c.got), want.Len())
	}
}
