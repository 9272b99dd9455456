package promtext

import (
	"math"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseLlamaCpp reads GET /metrics of Debian's llama-server (llama.cpp
// build 11669), testdata/llamacpp-metrics.txt, captured unchanged
// (shared/fixtures/llamacpp/metrics.txt), one byte at a time.
func TestParseLlamaCpp(t *testing.T) {
	f, err := os.Open("testdata/llamacpp-metrics.txt")
	require.NoError(t, err)
	defer f.Close()
	s, err := Parse(iotest.OneByteReader(f))
	require.NoError(t, err)
	assert.Len(t, s, 15, "15 llamacpp: series")
	assert.Equal(t, 66.0, s["llamacpp:prompt_tokens_total"])
	assert.Equal(t, 122.0, s["llamacpp:prompt_tokens_cached_total"])
	assert.Equal(t, 1.49114, s["llamacpp:n_busy_slots_per_decode"])
}

// vllmExposition is shaped after prometheus_client's text exposition of
// vLLM V1's metrics (vllm/v1/metrics/loggers.py, PrometheusStatLogger):
// counters with _total and _created samples, labels model_name and engine
// (one series per engine), a histogram with le buckets.
const vllmExposition = `# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="qwen2.5"} 120.0
vllm:prefix_cache_hits_total{engine="1",model_name="qwen2.5"} 30.0
# HELP vllm:prefix_cache_hits_created Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_created gauge
vllm:prefix_cache_hits_created{engine="0",model_name="qwen2.5"} 1.7645832e+09
vllm:prefix_cache_hits_created{engine="1",model_name="qwen2.5"} 1.7645832e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="qwen2.5"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="qwen2.5"} 7.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="qwen2.5"} 9.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="qwen2.5"} 9.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="qwen2.5"} 3.25
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="qwen2.5"} 4.0
`

func TestParseVLLM(t *testing.T) {
	s, err := Parse(iotest.HalfReader(strings.NewReader(vllmExposition)))
	require.NoError(t, err)
	assert.Equal(t, 120.0, s[`vllm:prefix_cache_hits_total{engine="0",model_name="qwen2.5"}`])
	sum, ok := s.Sum("vllm:prefix_cache_hits_total")
	assert.True(t, ok)
	assert.Equal(t, 150.0, sum, "Sum over the engines")
	_, ok = s.Sum("vllm:prefix_cache_hits")
	assert.False(t, ok, "Sum matches the whole name, not a prefix of it")
	assert.Equal(t, 7.0, s[`vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="qwen2.5"}`])
	assert.Equal(t, 9.0, s[`vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="qwen2.5"}`])
	assert.Equal(t, 9.0, s[`vllm:time_to_first_token_seconds_count{engine="0",model_name="qwen2.5"}`])
	assert.Equal(t, 3.25, s[`vllm:time_to_first_token_seconds_sum{engine="0",model_name="qwen2.5"}`])
	assert.Equal(t, 4.0, s[`vllm:num_requests_running{engine="0",model_name="qwen2.5"}`])
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Samples
	}{
		{"empty", "", Samples{}},
		{"comments and blanks", "# HELP a b\n\n# TYPE a counter\na 1\n", Samples{"a": 1}},
		{"untyped", "a 1\nb 2\n", Samples{"a": 1, "b": 2}},
		{"timestamp", "a 2.5 1700000000000\n", Samples{"a": 2.5}},
		{"labels sorted", `a{y="two words",x="1"} 3` + "\n", Samples{`a{x="1",y="two words"}`: 3}},
		{"escaped quote and brace in label", `a{x="q\"}"} 4` + "\n", Samples{`a{x="q\"}"}`: 4}},
		{"tabs", "a\t5\nb 6\n", Samples{"a": 5, "b": 6}},
		{"scientific", "a 1e3\n", Samples{"a": 1000}},
		{"summary", "# TYPE s summary\ns{quantile=\"0.5\"} 2\ns_sum 10\ns_count 4\n", Samples{`s{quantile="0.5"}`: 2, "s_sum": 10, "s_count": 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "Parse(%q)", tc.in)
		})
	}
	s, err := Parse(strings.NewReader("a +Inf\nb -Inf\nc NaN\n"))
	require.NoError(t, err)
	assert.True(t, math.IsInf(s["a"], 1) && math.IsInf(s["b"], -1) && math.IsNaN(s["c"]), "Parse(special values) = %v", s)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no value", "a 1\nlonely\n", "line 2"},
		{"bad value", "a one\n", "line 1"},
		{"unterminated labels", "a{x=\"1\" 2\n", "line 1"},
		{"duplicate series", "a 1\na 2\n", "series a appears twice"},
		{"read error", "", "promtext: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := iotest.ErrReader(os.ErrDeadlineExceeded)
			if tc.in != "" {
				r = strings.NewReader(tc.in)
			}
			_, err := Parse(r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want, "Parse(%q) error", tc.in)
			assert.Contains(t, err.Error(), "promtext: ")
		})
	}
}

func TestSub(t *testing.T) {
	before, after := Samples{"a": 10, "b": 1}, Samples{"a": 25}
	d, err := after.Sub(before, "a")
	require.NoError(t, err)
	assert.Equal(t, 15.0, d)
	_, err = after.Sub(before, "b")
	assert.ErrorContains(t, err, "metric b missing from the later scrape")
	_, err = before.Sub(after, "b")
	assert.ErrorContains(t, err, "metric b missing from the earlier scrape")
}
