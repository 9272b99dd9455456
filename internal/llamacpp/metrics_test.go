package llamacpp

import (
	"math"
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

func TestParseMetrics(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Metrics
	}{
		{"empty", "", Metrics{}},
		{"comments and blanks", "# HELP a b\n\n# TYPE a counter\na 1\n", Metrics{"a": 1}},
		{"timestamp", "a 2.5 1700000000000\n", Metrics{"a": 2.5}},
		{"labels", `a{x="1",y="two words"} 3` + "\n", Metrics{`a{x="1",y="two words"}`: 3}},
		{"escaped quote and brace in label", `a{x="q\"}"} 4`, Metrics{`a{x="q\"}"}`: 4}},
		{"crlf and tabs", "a\t5\r\nb 6\r\n", Metrics{"a": 5, "b": 6}},
		{"scientific", "a 1e3\n", Metrics{"a": 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMetrics(strings.NewReader(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ParseMetrics(%q)", tc.in)
		})
	}
	m, err := ParseMetrics(strings.NewReader("a +Inf\nb -Inf\nc NaN\n"))
	require.NoError(t, err)
	assert.True(t, math.IsInf(m["a"], 1) && math.IsInf(m["b"], -1) && math.IsNaN(m["c"]), "ParseMetrics(special values) = %v", m)
}

func TestParseMetricsErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no value", "a 1\nlonely\n", `line 2 "lonely": no value`},
		{"bad value", "a one\n", `line 1 "a one": bad value "one"`},
		{"unterminated labels", `a{x="1" 2`, "unterminated labels"},
		{"too many fields", "a 1 2 3\n", "want a value and an optional timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMetrics(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want, "ParseMetrics(%q) error", tc.in)
		})
	}
}

func TestMetricsSub(t *testing.T) {
	before, after := Metrics{"a": 10, "b": 1}, Metrics{"a": 25}
	d, err := after.Sub(before, "a")
	require.NoError(t, err)
	assert.Equal(t, 15.0, d)
	_, err = after.Sub(before, "b")
	assert.ErrorContains(t, err, "metric b missing from the later scrape")
	_, err = before.Sub(after, "b")
	assert.ErrorContains(t, err, "metric b missing from the earlier scrape")
}
