package target

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/servingbench/servingbench/internal/promtext"
)

// PrefixCacheCounters are a server's cumulative prefix-cache counters, in
// prompt tokens, as its GET /metrics exposes them (see Target.PrefixCache).
// The difference of two scrapes (Sub) is what a run in between did.
type PrefixCacheCounters struct {
	// Queries counts the prompt tokens looked up in the prefix cache; Hits
	// those served from it (Hits <= Queries).
	Queries, Hits int64
	// Source names the metrics read, for messages: "llama.cpp
	// (llamacpp:prompt_tokens_cached_total of llamacpp:prompt_tokens_total
	// + llamacpp:prompt_tokens_cached_total)", "vLLM
	// (vllm:prefix_cache_hits_total of vllm:prefix_cache_queries_total)".
	Source string
}

// Sub returns c - old, counter by counter, with c's Source: the tokens
// queried and hit between the two scrapes. A counter that went down (the
// server restarted in between) gives c's own value, as Prometheus' rate()
// treats a counter reset.
func (c PrefixCacheCounters) Sub(old PrefixCacheCounters) PrefixCacheCounters {
	d := PrefixCacheCounters{Queries: c.Queries - old.Queries, Hits: c.Hits - old.Hits, Source: c.Source}
	if d.Queries < 0 || d.Hits < 0 {
		d.Queries, d.Hits = c.Queries, c.Hits
	}
	return d
}

// HitRate is Hits / Queries, 0 when nothing was queried.
func (c PrefixCacheCounters) HitRate() float64 {
	if c.Queries <= 0 {
		return 0
	}
	return float64(c.Hits) / float64(c.Queries)
}

// The prefix-cache counters PrefixCache reads, by server.
//
// llama.cpp's llama-server (with --metrics) counts the prompt tokens it
// evaluated and, apart, those reused from a slot's or the host prompt
// cache ("Number of prompt tokens processed, excluding cached tokens" and
// "Number of prompt tokens reused from the cache", its HELP lines), so the
// tokens queried are their sum and the hits the cached ones.
//
// vLLM's V1 engine counts prefix-cache queries and hits in tokens, one
// series per engine (labels model_name and engine): the counters
// vllm:prefix_cache_queries and vllm:prefix_cache_hits, exposed with
// prometheus_client's _total suffix, and, with the same values until
// their removal, vllm:gpu_prefix_cache_queries and
// vllm:gpu_prefix_cache_hits ("Deprecated in 0.9 - Renamed as
// vllm:prefix_cache_queries", PrometheusStatLogger in
// vllm/v1/metrics/loggers.py), read when the new names are absent (V1
// before 0.9). vLLM's V0 engine exposed only a hit-rate gauge
// (vllm:gpu_prefix_cache_hit_rate), which says nothing about a run
// between two scrapes.
const (
	llamaCppPromptTokens       = "llamacpp:prompt_tokens_total"
	llamaCppPromptTokensCached = "llamacpp:prompt_tokens_cached_total"
	vllmPrefixCacheQueries     = "vllm:prefix_cache_queries_total"
	vllmPrefixCacheHits        = "vllm:prefix_cache_hits_total"
	vllmGPUPrefixCacheQueries  = "vllm:gpu_prefix_cache_queries_total"
	vllmGPUPrefixCacheHits     = "vllm:gpu_prefix_cache_hits_total"
)

// prefixCacheTimeout bounds one PrefixCache call.
const prefixCacheTimeout = 5 * time.Second

// maxMetricsBytes bounds the /metrics body read: vLLM's, histograms and
// all, is some 100 KB per engine.
const maxMetricsBytes = 16 << 20

// PrefixCache scrapes GET URL/metrics (Prometheus text format, with the
// API key, headers and TLS files the requests use) for the server's prefix-cache
// counters, each summed over its series (vLLM has one per engine):
//
//   - llama.cpp: llamacpp:prompt_tokens_cached_total (Hits) of
//     llamacpp:prompt_tokens_total + llamacpp:prompt_tokens_cached_total
//     (Queries);
//   - vLLM V1: vllm:prefix_cache_hits_total of
//     vllm:prefix_cache_queries_total, else their deprecated
//     vllm:gpu_prefix_cache_* names.
//
// It reports false when the server does not answer within 5 s, has no
// /metrics (llama-server without --metrics, a gateway) or exposes none of
// these pairs (the simulated server, SGLang, TGI), and when the
// exposition does not parse. The counters are the whole server's: requests of other
// clients in between two scrapes count too.
func (t *Target) PrefixCache(ctx context.Context) (PrefixCacheCounters, bool) {
	ctx, cancel := context.WithTimeout(ctx, prefixCacheTimeout)
	defer cancel()
	req, client, err := t.get(ctx, "/metrics")
	if err != nil {
		return PrefixCacheCounters{}, false
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4") // whatever Spec.Header says: this route's format is read
	resp, err := client.Do(req)
	if err != nil {
		return PrefixCacheCounters{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return PrefixCacheCounters{}, false
	}
	return parsePrefixCache(io.LimitReader(resp.Body, maxMetricsBytes))
}

// parsePrefixCache reads a Prometheus text exposition (version 0.0.4,
// with the Prometheus project's parser: internal/promtext) for the
// prefix-cache counters, preferring vLLM's current names to their
// deprecated ones and reading llama.cpp's only when no vLLM counter is
// there. An exposition that does not parse, or a read error (the
// context's deadline mid-body), is no counters.
func parsePrefixCache(r io.Reader) (PrefixCacheCounters, bool) {
	samples, err := promtext.Parse(r)
	if err != nil {
		return PrefixCacheCounters{}, false
	}
	pair := func(queries, hits string) (q, h float64, ok bool) {
		q, okQ := samples.Sum(queries)
		h, okH := samples.Sum(hits)
		return q, h, okQ && okH
	}
	if q, h, ok := pair(vllmPrefixCacheQueries, vllmPrefixCacheHits); ok {
		return counters(q, h, "vLLM ("+vllmPrefixCacheHits+" of "+vllmPrefixCacheQueries+")")
	}
	if q, h, ok := pair(vllmGPUPrefixCacheQueries, vllmGPUPrefixCacheHits); ok {
		return counters(q, h, "vLLM ("+vllmGPUPrefixCacheHits+" of "+vllmGPUPrefixCacheQueries+")")
	}
	if evaluated, cached, ok := pair(llamaCppPromptTokens, llamaCppPromptTokensCached); ok {
		return counters(evaluated+cached, cached, fmt.Sprintf("llama.cpp (%s of %s + %[1]s)", llamaCppPromptTokensCached, llamaCppPromptTokens))
	}
	return PrefixCacheCounters{}, false
}

// counters makes PrefixCacheCounters of token counts exposed as floats;
// values that are no counts (negative, NaN, infinite) are no counters.
func counters(queries, hits float64, source string) (PrefixCacheCounters, bool) {
	for _, v := range []float64{queries, hits} {
		if !(v >= 0) || math.IsInf(v, 0) || v > math.MaxInt64/2 {
			return PrefixCacheCounters{}, false
		}
	}
	return PrefixCacheCounters{Queries: int64(math.Round(queries)), Hits: int64(math.Round(hits)), Source: source}, true
}
