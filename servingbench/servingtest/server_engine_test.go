package servingtest

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concurrently streams one request per prompt, all at once, and waits.
func concurrently(t *testing.T, srv *Server, prompts []string, maxTokens int) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range prompts {
		wg.Go(func() {
			resp, err := srv.Client().Post(srv.URL+"/v1/completions", "application/json",
				strings.NewReader(fmt.Sprintf(`{"prompt":%q,"max_tokens":%d,"stream":true,"ignore_eos":true}`, p, maxTokens)))
			if !assert.NoError(t, err) {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
}

// metrics fetches /metrics and returns the value of each series.
func metrics(t *testing.T, srv *Server) map[string]float64 {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"))
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		require.True(t, ok, "metrics line %q", line)
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, "metrics line %q", line)
		out[series] = v
	}
	return out
}

func byAdmitted(recs []Record) []Record {
	slices.SortFunc(recs, func(a, b Record) int { return a.Admitted.Compare(b.Admitted) })
	return recs
}

func TestOutputLength(t *testing.T) {
	prompts := make([]string, 40)
	for i := range prompts {
		prompts[i] = fmt.Sprintf("prompt number %d", i)
	}
	const maxTokens = 20
	run := func(m Model, ignoreEOS bool) ([]int, []string) {
		srv := NewServer(m)
		defer srv.Close()
		var lens []int
		var texts []string
		for _, p := range prompts {
			s := stream(t, srv.URL+"/v1/completions", body(false, p, maxTokens, map[string]any{"ignore_eos": ignoreEOS}))
			lens = append(lens, len(s.tokenEvents()))
			texts = append(texts, s.text())
			u := s.Chunks[len(s.Chunks)-1].Usage
			require.NotNil(t, u)
			assert.Equal(t, len(s.tokenEvents()), u.CompletionTokens, "usage of %q", p)
		}
		for i, r := range srv.Truth() {
			assert.Equal(t, lens[i], r.OutputTokens, "Truth()[%d].OutputTokens", i)
			if r.OutputTokens < maxTokens {
				assert.Equal(t, "stop", r.FinishReason)
			} else {
				assert.Equal(t, "length", r.FinishReason)
			}
		}
		return lens, texts
	}
	m := Model{EOSFraction: 0.5, Seed: 1}
	lens, texts := run(m, false)
	early := 0
	for _, n := range lens {
		require.True(t, n >= 1 && n <= maxTokens, "length %d out of [1,%d]", n, maxTokens)
		if n < maxTokens {
			early++
		}
	}
	assert.True(t, early > 0 && early < len(prompts), "early stops = %d of %d, want some but not all", early, len(prompts))

	lens2, texts2 := run(m, false)
	assert.Equal(t, lens, lens2, "same seed, same lengths")
	assert.Equal(t, texts, texts2, "same seed, same texts")

	m.Seed = 2
	lens3, texts3 := run(m, false)
	assert.NotEqual(t, lens, lens3, "another seed, other lengths")
	assert.NotEqual(t, texts, texts3, "another seed, other texts")

	ignored, _ := run(Model{EOSFraction: 1, Seed: 1}, true)
	for i, n := range ignored {
		assert.Equal(t, maxTokens, n, "ignore_eos request %d", i)
	}
	all, _ := run(Model{EOSFraction: 1, Seed: 1}, false)
	for i, n := range all {
		assert.Less(t, n, maxTokens, "EOSFraction 1, request %d", i)
	}
}

func TestTokensPerChunk(t *testing.T) {
	for _, tc := range []struct {
		per, maxTokens int
		want           []int
	}{
		{0, 3, []int{1, 1, 1}},
		{1, 2, []int{1, 1}},
		{3, 7, []int{3, 3, 1}},
		{4, 8, []int{4, 4}},
		{10, 4, []int{4}},
	} {
		for _, chat := range []bool{false, true} {
			t.Run(fmt.Sprintf("per=%d/max=%d%s", tc.per, tc.maxTokens, path(chat)), func(t *testing.T) {
				srv := NewServer(Model{TokensPerChunk: tc.per})
				defer srv.Close()
				s := stream(t, srv.URL+path(chat), body(chat, "x y", tc.maxTokens, nil))
				var got []int
				for _, i := range s.tokenEvents() {
					got = append(got, CountWords(s.Chunks[i].content()))
				}
				assert.Equal(t, tc.want, got, "words per token event")
				rec := srv.Truth()[0]
				assert.Equal(t, tc.want, rec.ChunkTokens, "Truth().ChunkTokens")
				assert.Len(t, rec.Chunks, len(tc.want))
			})
		}
	}
}

// newBubbleServer starts a server simulating m on an in-memory listener,
// for a test inside a synctest bubble, and closes it when the test ends.
func newBubbleServer(t *testing.T, m Model) *Server {
	srv := NewUnstartedServer(m)
	srv.Listener = NewListener()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestBatchingMaxRunning runs in a synctest bubble: the engine's steps are
// exact, and /metrics is read at a chosen instant of the run.
func TestBatchingMaxRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const step, maxTokens = 20 * time.Millisecond, 8
		srv := newBubbleServer(t, Model{DecodeBase: step, MaxRunning: 2})
		done := make(chan struct{})
		go func() {
			defer close(done)
			concurrently(t, srv, []string{"a", "b", "c", "d"}, maxTokens)
		}()
		// 1.5 steps in, two requests run and two wait: the first two end
		// after maxTokens steps.
		time.Sleep(3 * step / 2)
		m := metrics(t, srv)
		assert.Equal(t, 2.0, m[`vllm:num_requests_running{model_name="servingtest"}`], "running at %v", 3*step/2)
		assert.Equal(t, 2.0, m[`vllm:num_requests_waiting{model_name="servingtest"}`], "waiting at %v", 3*step/2)
		<-done

		recs := byAdmitted(srv.Truth())
		require.Len(t, recs, 4)
		first := recs[0].Admitted
		for _, r := range recs[2:] {
			// A slot frees only after a running request's maxTokens steps.
			assert.GreaterOrEqual(t, r.Admitted.Sub(first), maxTokens*step,
				"request %d admitted %v after the first, want it to wait for a slot", r.Index, r.Admitted.Sub(first))
		}
		for _, r := range recs {
			require.Len(t, r.Chunks, maxTokens)
			for i, c := range r.Chunks {
				assert.Equal(t, time.Duration(i+1)*step, c.Sub(r.Admitted), "request %d: chunk %d, a step apart from admission", r.Index, i)
			}
		}
		// The engine retired the last sequences with their last token.
		synctest.Wait()
		m = metrics(t, srv)
		assert.Equal(t, 0.0, m[`vllm:num_requests_running{model_name="servingtest"}`])
		assert.Equal(t, 0.0, m[`vllm:num_requests_waiting{model_name="servingtest"}`])
		assert.Equal(t, float64(4*maxTokens), m[`vllm:generation_tokens_total{model_name="servingtest"}`])
		assert.Equal(t, 4.0, m[`vllm:prompt_tokens_total{model_name="servingtest"}`])
	})
}

// TestKVCacheLimitsAdmission runs in a synctest bubble, like
// TestBatchingMaxRunning.
func TestKVCacheLimitsAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const step, maxTokens = 10 * time.Millisecond, 10
		// Each request reserves 5 prompt + 10 output tokens: two fit in 30.
		srv := newBubbleServer(t, Model{DecodeBase: step, KVCacheTokens: 30})
		done := make(chan struct{})
		go func() {
			defer close(done)
			concurrently(t, srv, []string{"a b c d e", "f g h i j", "k l m n o"}, maxTokens)
		}()
		time.Sleep(3 * step / 2)
		m := metrics(t, srv)
		assert.Equal(t, 1.0, m[`vllm:gpu_cache_usage_perc{model_name="servingtest"}`], "gpu_cache_usage_perc: a full KV cache")
		assert.Equal(t, 1.0, m[`vllm:kv_cache_usage_perc{model_name="servingtest"}`], "kv_cache_usage_perc: a full KV cache")
		assert.Equal(t, 1.0, m[`vllm:num_requests_waiting{model_name="servingtest"}`], "one waiting")
		<-done
		recs := byAdmitted(srv.Truth())
		require.Len(t, recs, 3)
		assert.GreaterOrEqual(t, recs[2].Admitted.Sub(recs[0].Admitted), maxTokens*step,
			"third request waits for KV space")
		synctest.Wait()
		assert.Equal(t, 0.0, metrics(t, srv)[`vllm:kv_cache_usage_perc{model_name="servingtest"}`], "KV cache usage after the run")
	})
}
