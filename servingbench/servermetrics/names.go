package servermetrics

import (
	"strings"

	"github.com/servingbench/servingbench/internal/promtext"
)

// Names are the series of one server's /metrics that Summary reads, each
// a metric name whose series (one per engine, model or label set) are
// summed. An empty name is one the server does not expose.
type Names struct {
	// Server names the server in messages: "vLLM", "SGLang", "llama.cpp",
	// "TGI".
	Server string
	// Prefix begins every one of the server's metric names ("vllm:").
	Prefix string
	// Running and Waiting are the gauges of requests being processed and
	// queued in the server.
	Running, Waiting string
	// KVCacheUsage are gauges of the KV cache's used fraction (1 is
	// full), the first the page has is read.
	KVCacheUsage []string
	// PromptTokens are counters whose sum is the prompt tokens of the
	// requests the server finished (llama.cpp counts cached prompt tokens
	// apart); GenerationTokens counts their generated tokens.
	PromptTokens     []string
	GenerationTokens string
	// Preemptions counts requests preempted (SGLang: retracted) to free
	// KV-cache space.
	Preemptions string
	// PrefixQueries and PrefixHits are the prefix-cache lookups and hits
	// in tokens: pairs, the first whose both counters the page has is
	// read. PrefixQueries' counters of one pair are summed.
	PrefixCache []PrefixPair
	// SpecDrafts, SpecDraftTokens and SpecAccepted count speculative
	// decoding's drafts (verification steps), draft tokens and accepted
	// tokens; SpecAcceptedPerPos counts accepted tokens by the label
	// position.
	SpecDrafts, SpecDraftTokens, SpecAccepted, SpecAcceptedPerPos string
}

// PrefixPair names a server's prefix-cache counters: the tokens looked
// up (the sum of Queries) and those found (Hits).
type PrefixPair struct {
	Queries []string
	Hits    string
}

// The known servers' names, read from their sources.
var (
	// VLLM: the V1 engine's PrometheusStatLogger (vllm/v1/metrics/loggers.py,
	// vllm-project/vllm) and SpecDecodingProm (vllm/v1/spec_decode/metrics.py).
	// prometheus_client exposes a Counter named vllm:x as vllm:x_total.
	// vllm:gpu_cache_usage_perc and vllm:gpu_prefix_cache_* are the names
	// before 0.9 ("Deprecated in 0.9 - Renamed as vllm:kv_cache_usage_perc").
	// servingtest's simulated server exposes vLLM's names.
	VLLM = Names{
		Server: "vLLM", Prefix: "vllm:",
		Running: "vllm:num_requests_running", Waiting: "vllm:num_requests_waiting",
		KVCacheUsage:     []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
		PromptTokens:     []string{"vllm:prompt_tokens_total"},
		GenerationTokens: "vllm:generation_tokens_total",
		Preemptions:      "vllm:num_preemptions_total",
		PrefixCache: []PrefixPair{
			{Queries: []string{"vllm:prefix_cache_queries_total"}, Hits: "vllm:prefix_cache_hits_total"},
			{Queries: []string{"vllm:gpu_prefix_cache_queries_total"}, Hits: "vllm:gpu_prefix_cache_hits_total"},
		},
		SpecDrafts:         "vllm:spec_decode_num_drafts_total",
		SpecDraftTokens:    "vllm:spec_decode_num_draft_tokens_total",
		SpecAccepted:       "vllm:spec_decode_num_accepted_tokens_total",
		SpecAcceptedPerPos: "vllm:spec_decode_num_accepted_tokens_per_pos_total",
	}
	// SGLang: SchedulerMetricsCollector and TokenizerMetricsCollector
	// (python/sglang/srt/metrics/collector.py, sgl-project/sglang).
	// sglang:prompt_tokens_total counts every finished request's prompt,
	// cached tokens included (sglang:cached_tokens_total counts those).
	// SGLang exposes speculative decoding as gauges of the last batch
	// (sglang:spec_accept_rate, sglang:spec_accept_length), no counters.
	SGLang = Names{
		Server: "SGLang", Prefix: "sglang:",
		Running: "sglang:num_running_reqs", Waiting: "sglang:num_queue_reqs",
		KVCacheUsage:     []string{"sglang:token_usage"},
		PromptTokens:     []string{"sglang:prompt_tokens_total"},
		GenerationTokens: "sglang:generation_tokens_total",
		Preemptions:      "sglang:num_retracted_requests_total",
		PrefixCache: []PrefixPair{
			{Queries: []string{"sglang:prompt_tokens_total"}, Hits: "sglang:cached_tokens_total"},
		},
	}
	// LlamaCpp: llama-server's GET /metrics handler (tools/server/server.cpp,
	// ggml-org/llama.cpp, with --metrics), as a real b11669 page shows
	// (testdata/llamacpp.txt): llamacpp:prompt_tokens_total excludes the
	// prompt tokens reused from a cache, which
	// llamacpp:prompt_tokens_cached_total counts.
	// llamacpp:kv_cache_usage_ratio is older servers' (it left with the
	// unified KV cache).
	LlamaCpp = Names{
		Server: "llama.cpp", Prefix: "llamacpp:",
		Running: "llamacpp:requests_processing", Waiting: "llamacpp:requests_deferred",
		KVCacheUsage:     []string{"llamacpp:kv_cache_usage_ratio"},
		PromptTokens:     []string{"llamacpp:prompt_tokens_total", "llamacpp:prompt_tokens_cached_total"},
		GenerationTokens: "llamacpp:tokens_predicted_total",
		PrefixCache: []PrefixPair{
			{Queries: []string{"llamacpp:prompt_tokens_total", "llamacpp:prompt_tokens_cached_total"}, Hits: "llamacpp:prompt_tokens_cached_total"},
		},
		SpecDrafts:      "llamacpp:spec_decode_num_drafts_total",
		SpecDraftTokens: "llamacpp:spec_decode_num_draft_tokens_total",
		SpecAccepted:    "llamacpp:spec_decode_num_accepted_tokens_total",
	}
	// TGI: the router's metrics (router/src/server.rs and
	// docs/source/reference/metrics.md, huggingface/text-generation-inference):
	// tgi_batch_current_size and tgi_queue_size are gauges, the tokens are
	// histograms (tgi_request_input_length, tgi_request_generated_tokens)
	// whose _sum series are the totals.
	TGI = Names{
		Server: "TGI", Prefix: "tgi_",
		Running: "tgi_batch_current_size", Waiting: "tgi_queue_size",
		PromptTokens:     []string{"tgi_request_input_length_sum"},
		GenerationTokens: "tgi_request_generated_tokens_sum",
	}
)

// Known lists the servers whose names Summary knows, in the order Detect
// tries them.
var Known = []Names{VLLM, SGLang, LlamaCpp, TGI}

// Detect returns the known server whose metric names the page has the
// most series of, and false when it has none of any.
func Detect(series []string) (Names, bool) {
	best, n := Names{}, 0
	for _, k := range Known {
		c := 0
		for _, s := range series {
			if strings.HasPrefix(s, k.Prefix) {
				c++
			}
		}
		if c > n {
			best, n = k, c
		}
	}
	return best, n > 0
}

// kindByName is the kind of an untyped series: the text format's naming
// conventions make _total, _count, _sum and _bucket counters, anything
// else a gauge.
func kindByName(series string) promtext.Kind {
	name, _, _ := strings.Cut(series, "{")
	for _, suffix := range []string{"_total", "_count", "_sum", "_bucket"} {
		if strings.HasSuffix(name, suffix) {
			return promtext.Counter
		}
	}
	return promtext.Gauge
}
