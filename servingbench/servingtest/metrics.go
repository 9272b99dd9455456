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
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %v\n", m.name, m.help, m.name, m.typ, m.name, label, m.v)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}
