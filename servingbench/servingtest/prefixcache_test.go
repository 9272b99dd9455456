package servingtest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefixCacheAdmit(t *testing.T) {
	c := &prefixCache{capacity: 8}
	steps := []struct {
		tokens  []int
		hit     int
		entries [][]int
	}{
		{[]int{1, 2, 3}, 0, [][]int{{1, 2, 3}}},
		// Extends the cached prompt: its 3 tokens hit, it replaces it.
		{[]int{1, 2, 3, 4, 5}, 3, [][]int{{1, 2, 3, 4, 5}}},
		// Resent whole: all but the last token hit; nothing inserted.
		{[]int{1, 2, 3, 4, 5}, 4, [][]int{{1, 2, 3, 4, 5}}},
		// A prefix of a cached prompt: refreshed, all but the last hit.
		{[]int{1, 2}, 1, [][]int{{1, 2, 3, 4, 5}}},
		// Diverges after 2 tokens: 2 hit, both held (8 tokens).
		{[]int{1, 2, 9}, 2, [][]int{{1, 2, 3, 4, 5}, {1, 2, 9}}},
		// A new prompt: the least recently used (the 5 tokens) is evicted.
		{[]int{7, 7}, 0, [][]int{{1, 2, 9}, {7, 7}}},
		// Touching {1,2,9} through a shared prefix makes {7,7} the oldest,
		// evicted to hold the new 5 tokens.
		{[]int{1, 2, 8, 8, 8}, 2, [][]int{{1, 2, 9}, {1, 2, 8, 8, 8}}},
		{[]int{5, 5, 5}, 0, [][]int{{1, 2, 8, 8, 8}, {5, 5, 5}}},
		// Longer than the capacity: looked up, not held.
		{[]int{5, 5, 5, 1, 1, 1, 1, 1, 1}, 3, [][]int{{1, 2, 8, 8, 8}, {5, 5, 5}}},
		{[]int{4}, 0, [][]int{{5, 5, 5}, {4}}},
	}
	for i, s := range steps {
		assert.Equal(t, s.hit, c.admit(s.tokens), "step %d %v", i, s.tokens)
		assert.Equal(t, s.entries, c.entries, "step %d %v", i, s.tokens)
		used := 0
		for _, e := range c.entries {
			used += len(e)
		}
		assert.Equal(t, used, c.used, "step %d", i)
	}
}

// With Model.PrefixCacheTokens a prompt that extends an earlier one
// prefills only its new tokens: the first token comes one step of
// (new tokens x PrefillPerToken + DecodeBase + DecodePerSeq) after
// admission, exactly on the bubble's clock; /metrics counts the queries
// and hits with vLLM V1's names. Without the cache the whole prompt is
// prefilled and the counters are absent.
func TestPrefixCacheServer(t *testing.T) {
	m := Model{PrefillPerToken: time.Millisecond, DecodeBase: 10 * time.Millisecond, DecodePerSeq: time.Millisecond}
	prompts := []string{"a b c d e f g h", "a b c d e f g h i j", "a b c x"}
	for _, tc := range []struct {
		cache   int
		cached  []int
		metrics []string
	}{
		{0, []int{0, 0, 0}, nil},
		{100, []int{0, 8, 3}, []string{
			`vllm:prefix_cache_queries_total{model_name="servingtest"} 22`,
			`vllm:prefix_cache_hits_total{model_name="servingtest"} 11`,
		}},
	} {
		synctest.Test(t, func(t *testing.T) {
			m := m
			m.PrefixCacheTokens = tc.cache
			srv := NewUnstartedServer(m)
			srv.Listener = NewListener()
			srv.Start()
			defer srv.Close()
			for _, p := range prompts {
				resp, err := srv.Client().Post(srv.URL+"/v1/completions", "application/json",
					strings.NewReader(`{"prompt":"`+p+`","max_tokens":2,"stream":true}`))
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			truth := srv.Truth()
			require.Len(t, truth, 3)
			for i, rec := range truth {
				assert.Equal(t, tc.cached[i], rec.CachedTokens, "request %d", i)
				prefill := time.Duration(rec.PromptTokens-tc.cached[i]) * m.PrefillPerToken
				assert.Equal(t, prefill+m.DecodeBase+m.DecodePerSeq, rec.Chunks[0].Sub(rec.Admitted), "request %d", i)
				assert.Equal(t, rec.Admitted, rec.Received, "request %d admitted at once", i)
			}
			resp, err := srv.Client().Get(srv.URL + "/metrics")
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Contains(t, string(b), `vllm:prompt_tokens_total{model_name="servingtest"} 22`)
			for _, line := range tc.metrics {
				assert.Contains(t, string(b), line+"\n")
			}
			if tc.cache == 0 {
				assert.NotContains(t, string(b), "prefix_cache")
			}
		})
	}
}

func TestPrefixCacheValidate(t *testing.T) {
	assert.EqualError(t, Model{PrefixCacheTokens: -1}.Validate(), "servingtest: Model.PrefixCacheTokens must be >= 0, got -1")
}
