package benchtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// cacheProxy stands in front of a simulated server as a server with a
// whole-prompt cache: a prompt seen before is a hit for all its tokens.
// Its GET /metrics shows the counts with llama.cpp's names (evaluated and
// cached prompt tokens, as llama-server --metrics does), or vLLM's V1
// names (queries and hits), or is missing (404).
type cacheProxy struct {
	*httptest.Server
	format            string // "llamacpp", "vllm" or "none"
	mu                sync.Mutex
	seen              map[string]bool
	evaluated, cached int
}

// newCacheProxy counts tokens with the built-in Qwen3 tokenizer, which Run
// uses for a server without a tokenizer of its own: with its 151,669 ids,
// random prompts of different seeds do not collide (with WordTokenizer's
// few hundred words, one prompt in a few runs would).
func newCacheProxy(t *testing.T, format string) *cacheProxy {
	tok, err := tokenizer.Default()
	require.NoError(t, err)
	sim := servingtest.NewServer(servingtest.Model{Name: "m", Tokenizer: tok})
	t.Cleanup(sim.Close)
	u, err := url.Parse(sim.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	p := &cacheProxy{format: format, seen: map[string]bool{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics":
			p.metrics(w)
			return
		case r.Method == http.MethodPost:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var req struct{ Prompt string }
			if json.Unmarshal(body, &req) == nil {
				n := len(tok.Encode(req.Prompt))
				p.mu.Lock()
				if p.seen[req.Prompt] {
					p.cached += n
				} else {
					p.evaluated += n
					p.seen[req.Prompt] = true
				}
				p.mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *cacheProxy) metrics(w http.ResponseWriter) {
	p.mu.Lock()
	evaluated, cached := p.evaluated, p.cached
	p.mu.Unlock()
	switch p.format {
	case "llamacpp":
		fmt.Fprintf(w, "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total %d\n", evaluated)
		fmt.Fprintf(w, "# TYPE llamacpp:prompt_tokens_cached_total counter\nllamacpp:prompt_tokens_cached_total %d\n", cached)
	case "vllm":
		fmt.Fprintf(w, "vllm:prefix_cache_queries_total{model_name=\"m\",engine=\"0\"} %d.0\n", evaluated+cached)
		fmt.Fprintf(w, "vllm:prefix_cache_hits_total{model_name=\"m\",engine=\"0\"} %d.0\n", cached)
	default:
		http.NotFound(w, nil)
	}
}

// prefixWarnings returns the report's prefix-cache warnings.
func prefixWarnings(rep *servingbench.Report) []string {
	var ws []string
	for _, w := range rep.Warnings {
		if strings.Contains(w.Error(), "from its prefix cache") {
			ws = append(ws, w.Error())
		}
	}
	return ws
}

func TestRunWarnsOfPrefixCacheHits(t *testing.T) {
	withPrefix := tiny()
	withPrefix.Dataset = scenarios.Random{InputLen: 16, OutputLen: 8, PrefixLen: 8}
	warmup := tiny()
	warmup.NumPrompts, warmup.Warmup = 4, true
	tests := []struct {
		name      string
		format    string
		sc        scenarios.Scenario
		opts      []benchtest.Option
		benchtime string
		warn      bool
	}{
		{"fresh prompts", "llamacpp", tiny(), nil, "3x", false},
		{"pinned seed", "llamacpp", tiny(), []benchtest.Option{benchtest.WithPinnedSeed()}, "3x", true},
		{"pinned seed, vLLM", "vllm", tiny(), []benchtest.Option{benchtest.WithPinnedSeed()}, "3x", true},
		{"pinned seed, first run", "llamacpp", tiny(), []benchtest.Option{benchtest.WithPinnedSeed()}, "1x", false},
		{"pinned seed, no /metrics", "none", tiny(), []benchtest.Option{benchtest.WithPinnedSeed()}, "3x", false},
		{"pinned seed, a shared prefix by design", "llamacpp", withPrefix, []benchtest.Option{benchtest.WithPinnedSeed()}, "3x", false},
		// The warm-up request is sent again as the run's first: 1 prompt
		// of 4 is a hit, 25% of the tokens, which is no sign of a cache
		// of earlier runs.
		{"warm-up", "llamacpp", warmup, nil, "3x", false},
		{"warm-up, pinned seed", "llamacpp", warmup, []benchtest.Option{benchtest.WithPinnedSeed()}, "3x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			benchtest.ResetRuns()
			p := newCacheProxy(t, tt.format)
			var rep *servingbench.Report
			res := benchmark(t, tt.benchtime, func(b *testing.B) {
				rep = benchtest.Run(b, tt.sc, append([]benchtest.Option{benchtest.WithTarget(benchtest.Target{BaseURL: p.URL, Model: "m"})}, tt.opts...)...)
			})
			require.NotZero(t, res.N, "the benchmark failed")
			ws := prefixWarnings(rep)
			if !tt.warn {
				assert.Empty(t, ws, "prefix-cache warnings")
				return
			}
			require.Len(t, ws, 1, "prefix-cache warnings of %v", rep.Warnings)
			// Every token of the run was a hit; the warm-up request's own
			// (a hit too) is not counted.
			n := rep.TotalInputTokens
			assert.Contains(t, ws[0], fmt.Sprintf("the server served %d of %d prompt tokens (100%%) from its prefix cache", n, n))
			assert.Contains(t, ws[0], "in the run with seed 0, though the prompts of dataset=random/in=16/out=8 share no prefix")
			assert.Contains(t, ws[0], "draw fresh prompts (the default), restart the server, or turn its prefix cache off")
		})
	}
}

func BenchmarkHelperPinned(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithPinnedSeed())
}

// TestPrefixCacheWarningOutput: the warning is logged after the result
// line of the run it concerns, once.
func TestPrefixCacheWarningOutput(t *testing.T) {
	p := newCacheProxy(t, "llamacpp")
	out, err := goTestBench(t, []string{benchtest.EnvBaseURL + "=" + p.URL, benchtest.EnvModel + "=m"}, "^BenchmarkHelperPinned$", "-test.benchtime=2x")
	require.NoError(t, err, "a warning does not fail the benchmark; output:\n%s", out)
	assert.Regexp(t, `(?m)^BenchmarkHelperPinned(-\d+)? .*\n--- BENCH: BenchmarkHelperPinned(-\d+)?\n(.*\n)*\s+\S+\.go:\d+: warning: benchtest: the server served \d+ of \d+ prompt tokens \(100%\) from its prefix cache, by llama\.cpp`, out)
	assert.Equal(t, 1, strings.Count(out, "from its prefix cache"), "warnings in\n%s", out)
	assert.NotContains(t, out, "warning:  ", "a warning's text follows one space")
	assert.Len(t, readBenchfmt(t, out), 1)
}
