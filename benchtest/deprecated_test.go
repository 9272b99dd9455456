package benchtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
)

// TestCompareBaselineForwards: the deprecated benchtest.CompareBaseline
// is the gate's.
func TestCompareBaselineForwards(t *testing.T) {
	text := "BenchmarkS 1 100 ttft-p99-ns\nBenchmarkS 1 101 ttft-p99-ns\nBenchmarkS 1 99 ttft-p99-ns\n"
	want, err := gate.CompareBaseline(strings.NewReader(text), strings.NewReader(text), gate.CompareOptions{})
	require.NoError(t, err)
	got, err := CompareBaseline(strings.NewReader(text), strings.NewReader(text), gate.CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, want.Rows, got.Rows, "CompareBaseline rows")
}
