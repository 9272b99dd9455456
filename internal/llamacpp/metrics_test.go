package llamacpp

import (
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseMetricsCapture reads a real llama-server /metrics capture
// (testdata/metrics.txt, from shared/fixtures/llamacpp).
func TestParseMetricsCapture(t *testing.T) {
	f, err := os.Open("testdata/metrics.txt")
	require.NoError(t, err)
	defer f.Close()
	m, err := ParseMetrics(iotest.OneByteReader(f))
	require.NoError(t, err)
	assert.Len(t, m, 15, "15 llamacpp: series")
	assert.Equal(t, 66.0, m[PromptTokensTotal])
	assert.Equal(t, 122.0, m[PromptTokensCachedTotal])
	assert.Equal(t, 6986.0, m[TokensPredictedTotal])
	assert.Equal(t, 1.49114, m["llamacpp:n_busy_slots_per_decode"])
}

// TestParseMetricsError: a malformed exposition is an error naming the
// line (the parsing itself is internal/promtext's, tested there).
func TestParseMetricsError(t *testing.T) {
	_, err := ParseMetrics(strings.NewReader("a 1\nlonely\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "llamacpp: metrics: ")
	assert.Contains(t, err.Error(), "line 2")
}
