package target

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// llamaCppMetrics is GET /metrics of Debian's llama-server, llama.cpp
// build 11669, after a few requests (shared/fixtures/llamacpp/metrics.txt,
// also internal/llamacpp/testdata/metrics.txt), unchanged.
const llamaCppMetrics = `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 66
# HELP llamacpp:prompt_tokens_cached_total Number of prompt tokens reused from the cache
# TYPE llamacpp:prompt_tokens_cached_total counter
llamacpp:prompt_tokens_cached_total 122
# HELP llamacpp:prompt_seconds_total Total time spent processing prompts
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 0.195178
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 6986
# HELP llamacpp:tokens_predicted_seconds_total Total time spent generating tokens
# TYPE llamacpp:tokens_predicted_seconds_total counter
llamacpp:tokens_predicted_seconds_total 49.3296
# HELP llamacpp:n_decode_total Total number of llama_decode() calls, excluding speculative decoding and multimodal decoding
# TYPE llamacpp:n_decode_total counter
llamacpp:n_decode_total 4685
# HELP llamacpp:n_tokens_max Largest observed sequence length (prompt + generation)
# TYPE llamacpp:n_tokens_max counter
llamacpp:n_tokens_max 259
# HELP llamacpp:spec_decode_num_draft_tokens_total Speculative: Total draft tokens generated
# TYPE llamacpp:spec_decode_num_draft_tokens_total counter
llamacpp:spec_decode_num_draft_tokens_total 0
# HELP llamacpp:spec_decode_num_accepted_tokens_total Speculative: Total draft tokens accepted by the target model
# TYPE llamacpp:spec_decode_num_accepted_tokens_total counter
llamacpp:spec_decode_num_accepted_tokens_total 0
# HELP llamacpp:spec_decode_num_drafts_total Speculative: Total speculative decoding verification steps
# TYPE llamacpp:spec_decode_num_drafts_total counter
llamacpp:spec_decode_num_drafts_total 0
# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 0
# HELP llamacpp:predicted_tokens_seconds Average generation throughput in tokens/s
# TYPE llamacpp:predicted_tokens_seconds gauge
llamacpp:predicted_tokens_seconds 0
# HELP llamacpp:requests_processing Number of requests processing
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 0
# HELP llamacpp:requests_deferred Number of requests deferred
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 0
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode gauge
llamacpp:n_busy_slots_per_decode 1.49114
`

// vllmMetrics is shaped after vLLM V1's PrometheusStatLogger
// (https://github.com/vllm-project/vllm/blob/005a810bc40faa25b8870fbc8559c3462581eee3/vllm/v1/metrics/loggers.py):
// counters vllm:prefix_cache_queries and vllm:prefix_cache_hits ("in
// terms of number of queried/cached tokens"), labelled model_name and
// engine, one series per engine under data parallelism, their deprecated
// vllm:gpu_prefix_cache_* twins incremented with the same values, and
// prometheus_client's exposition: the _total sample of a counter, its
// _created sample, floats with a decimal point.
func vllmMetrics(queries, hits [2]float64, deprecated, current bool) string {
	var b strings.Builder
	counter := func(name, help string, v [2]float64) {
		fmt.Fprintf(&b, "# HELP %s_total %s\n# TYPE %s_total counter\n", name, help, name)
		for engine, x := range v {
			fmt.Fprintf(&b, "%s_total{engine=\"%d\",model_name=\"Qwen/Qwen3-0.6B\"} %.1f\n", name, engine, x)
		}
		for engine := range v {
			fmt.Fprintf(&b, "%s_created{engine=\"%d\",model_name=\"Qwen/Qwen3-0.6B\"} 1.7648e+09\n", name, engine)
		}
	}
	b.WriteString("# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\n")
	b.WriteString("vllm:num_requests_running{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 0.0\n")
	if deprecated {
		counter("vllm:gpu_prefix_cache_queries", "GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use vllm:prefix_cache_queries instead.", queries)
		counter("vllm:gpu_prefix_cache_hits", "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead.", hits)
	}
	if current {
		counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", queries)
		counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", hits)
	}
	b.WriteString("# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n# TYPE vllm:prompt_tokens_total counter\n")
	b.WriteString("vllm:prompt_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 99999.0\n")
	return b.String()
}

// metricsServer serves body as GET /metrics with status and records the
// Authorization headers it gets.
type metricsServer struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newMetricsServer(t *testing.T, status int, body string) *metricsServer {
	m := &metricsServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		m.mu.Lock()
		m.auth = append(m.auth, r.Header.Get("Authorization"))
		m.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(m.Close)
	return m
}

// auths returns the Authorization headers received so far.
func (m *metricsServer) auths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.auth...)
}

func TestPrefixCache(t *testing.T) {
	const (
		llamaSource = "llama.cpp (llamacpp:prompt_tokens_cached_total of llamacpp:prompt_tokens_total + llamacpp:prompt_tokens_cached_total)"
		vllmSource  = "vLLM (vllm:prefix_cache_hits_total of vllm:prefix_cache_queries_total)"
		gpuSource   = "vLLM (vllm:gpu_prefix_cache_hits_total of vllm:gpu_prefix_cache_queries_total)"
	)
	tests := []struct {
		name   string
		status int
		body   string
		want   PrefixCacheCounters
		ok     bool
	}{
		{"llama.cpp capture", 200, llamaCppMetrics, PrefixCacheCounters{Queries: 66 + 122, Hits: 122, Source: llamaSource}, true},
		{"vLLM, two engines, with the deprecated twins", 200, vllmMetrics([2]float64{1000, 24}, [2]float64{250, 8}, true, true),
			PrefixCacheCounters{Queries: 1024, Hits: 258, Source: vllmSource}, true},
		{"vLLM before 0.9", 200, vllmMetrics([2]float64{1000, 24}, [2]float64{250, 8}, true, false),
			PrefixCacheCounters{Queries: 1024, Hits: 258, Source: gpuSource}, true},
		{"vLLM, deprecated names removed", 200, vllmMetrics([2]float64{3e6, 0}, [2]float64{1.5e6, 0}, false, true),
			PrefixCacheCounters{Queries: 3e6, Hits: 1.5e6, Source: vllmSource}, true},
		{"vLLM V0 hit rate gauge only", 200, "# TYPE vllm:gpu_prefix_cache_hit_rate gauge\nvllm:gpu_prefix_cache_hit_rate{model_name=\"m\"} 0.5\n", PrefixCacheCounters{}, false},
		{"labels with spaces, braces and quotes; a timestamp", 200,
			"vllm:prefix_cache_queries_total{model_name=\"a {b} \\\"c\\\" d\",engine=\"0\"} 40 1700000000000\n" +
				"vllm:prefix_cache_hits_total{model_name=\"a }\"} 10\n",
			PrefixCacheCounters{Queries: 40, Hits: 10, Source: vllmSource}, true},
		// expfmt refuses the whole exposition: counters read around a
		// line it cannot parse could be the wrong ones.
		{"malformed exposition", 200,
			"llamacpp:prompt_tokens_total 10\nllamacpp:prompt_tokens_cached_total{unterminated=\"x 5\nllamacpp:prompt_tokens_cached_total 2\n",
			PrefixCacheCounters{}, false},
		{"not a number", 200, "llamacpp:prompt_tokens_total 10\nllamacpp:prompt_tokens_cached_total five\n", PrefixCacheCounters{}, false},
		{"one counter of the pair", 200, "llamacpp:prompt_tokens_total 10\n", PrefixCacheCounters{}, false},
		{"negative counter", 200, "llamacpp:prompt_tokens_total 10\nllamacpp:prompt_tokens_cached_total -1\n", PrefixCacheCounters{}, false},
		{"NaN", 200, "llamacpp:prompt_tokens_total NaN\nllamacpp:prompt_tokens_cached_total 1\n", PrefixCacheCounters{}, false},
		{"llama-server without --metrics", 501, `{"error":{"code":501,"message":"This server does not support metrics endpoint. Start it with --metrics"}}`, PrefixCacheCounters{}, false},
		{"empty", 200, "", PrefixCacheCounters{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newMetricsServer(t, tt.status, tt.body)
			tg := &Target{URL: srv.URL, Spec: Spec{BaseURL: srv.URL, APIKey: "sk-metrics"}}
			got, ok := tg.PrefixCache(context.Background())
			assert.Equal(t, tt.ok, ok, "PrefixCache ok")
			assert.Equal(t, tt.want, got, "PrefixCache() = %+v, want %+v", got, tt.want)
			assert.Equal(t, []string{"Bearer sk-metrics"}, srv.auths(), "Authorization headers of GET /metrics")

			// The parser alone, fed one byte at a time.
			got, ok = parsePrefixCache(iotest.OneByteReader(strings.NewReader(tt.body)))
			if tt.status == 200 {
				assert.Equal(t, tt.ok, ok, "parsePrefixCache ok")
				assert.Equal(t, tt.want, got, "parsePrefixCache")
			}
		})
	}
}

func TestPrefixCacheNoKeyNoHeader(t *testing.T) {
	srv := newMetricsServer(t, 200, llamaCppMetrics)
	_, ok := (&Target{URL: srv.URL}).PrefixCache(context.Background())
	require.True(t, ok)
	assert.Equal(t, []string{""}, srv.auths(), "Authorization without an API key")
}

// TestPrefixCacheSimulated: the simulated server's /metrics has vLLM's
// token counters but no prefix cache.
func TestPrefixCacheSimulated(t *testing.T) {
	tg, err := Open(Spec{Sim: "zero"})
	require.NoError(t, err)
	defer tg.Close()
	got, ok := tg.PrefixCache(context.Background())
	assert.False(t, ok, "PrefixCache of the simulated server = %+v, true", got)
}

func TestPrefixCacheNoServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, ok := (&Target{URL: url}).PrefixCache(context.Background())
	assert.False(t, ok)
}

// TestPrefixCacheBounded: a server that never answers /metrics costs 5 s,
// on the bubble's clock.
func TestPrefixCacheBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := servingtest.NewListener()
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				w.WriteHeader(http.StatusOK)
				fmt.Fprint(w, "llamacpp:prompt_tokens_total 1\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done() // the rest of the body never comes
			}
		}))
		srv.Listener = ln
		srv.Start()
		defer srv.Close()
		tr := &http.Transport{DialContext: ln.DialContext}
		defer tr.CloseIdleConnections()
		start := time.Now()
		got, ok := (&Target{URL: srv.URL, http: &http.Client{Transport: tr}}).PrefixCache(context.Background())
		assert.False(t, ok, "PrefixCache of a stalled server = %+v, true", got)
		assert.Equal(t, 5*time.Second, time.Since(start), "time PrefixCache took")
	})
}

func TestPrefixCacheCountersSub(t *testing.T) {
	before := PrefixCacheCounters{Queries: 1000, Hits: 100, Source: "s"}
	after := PrefixCacheCounters{Queries: 1640, Hits: 420, Source: "s"}
	d := after.Sub(before)
	assert.Equal(t, PrefixCacheCounters{Queries: 640, Hits: 320, Source: "s"}, d)
	assert.Equal(t, 0.5, d.HitRate())
	restarted := PrefixCacheCounters{Queries: 300, Hits: 30, Source: "s"}
	assert.Equal(t, restarted, restarted.Sub(after), "a counter reset: the later scrape's values")
	assert.Equal(t, 0.0, PrefixCacheCounters{}.HitRate(), "HitRate of nothing queried")
}
