package servingtest

import (
	"bytes"
	"fmt"
	"net/http"
)

// handleMetrics serves GET /metrics in the Prometheus text format with
// vLLM's metric names and a model_name label.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	e := s.engine
	usage := 0.0
	if kv := s.model.KVCacheTokens; kv > 0 {
		usage = float64(e.kvUsedA.Load()) / float64(kv)
	}
	label := fmt.Sprintf("{model_name=%q}", s.model.Name)
	var b bytes.Buffer
	write := func(name, typ, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %v\n", name, help, name, typ, name, label, v)
	}
	for _, m := range []struct {
		name, typ, help string
		v               float64
	}{
		{"vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", float64(e.nRunning.Load())},
		{"vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", float64(e.nWaiting.Load())},
		{"vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", usage},
		{"vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", usage},
		{"vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(e.promptTotal.Load())},
		{"vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(e.genTotal.Load())},
		{"vllm:engine_steps_total", "counter", "Number of engine steps (servingtest only).", float64(e.steps.Load())},
	} {
		write(m.name, m.typ, m.help, m.v)
	}
	if s.model.PrefixCacheTokens > 0 {
		// vLLM V1's names (PrometheusStatLogger, vllm/v1/metrics/loggers.py).
		write("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", float64(e.cacheQueries.Load()))
		write("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", float64(e.cacheHits.Load()))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}
