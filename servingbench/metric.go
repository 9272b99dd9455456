package servingbench

import (
	"slices"
	"strings"
)

// LatencyMetric is one per-request latency distribution of a Report, with
// every name it goes by. The table of them (LatencyMetrics) is the one list
// the text block, the result file writer and reader, the SLA parser and
// package benchtest read.
type LatencyMetric struct {
	// Key names the metric in TextOptions.Metrics (vLLM's
	// --percentile-metrics) and in the result file's keys
	// (mean_<Key>_ms): "ttft", "tpot", "itl", "e2el", "ttfo",
	// "client_queue_time".
	Key string
	// SLA names it in an SLA (ttft.p99<=500ms): "queue" for the queue time,
	// else Key.
	SLA Metric
	// Name and Header are the text block's: "Mean <Name> (ms):" lines
	// under a "<Header>" rule.
	Name, Header string
	// VLLM is set for vLLM v0.9.1's four metrics. They are selected by
	// TextOptions.Metrics, always saved in the result file and reported by
	// benchtest; the others (the client queue time) are printed and saved
	// only when they have samples.
	VLLM bool
	// Default is set for the metrics printed when TextOptions.Metrics is
	// empty, vLLM's --percentile-metrics default: ttft, tpot, itl.
	Default bool

	// summary points at the metric's Summary in a Report.
	summary func(*Report) *Summary
	// samples is the number of samples one successful Result adds.
	samples func(*Result) int
}

// Of returns the metric's Summary in r.
func (m LatencyMetric) Of(r *Report) Summary { return *m.summary(r) }

func one(*Result) int { return 1 }

// latencyMetrics is the table, in the text block's order.
var latencyMetrics = [...]LatencyMetric{
	{Key: "ttft", Default: true, SLA: MetricTTFT, Name: "TTFT", Header: "Time to First Token", VLLM: true,
		summary: func(r *Report) *Summary { return &r.TTFT }, samples: one},
	{Key: "tpot", Default: true, SLA: MetricTPOT, Name: "TPOT", Header: "Time per Output Token (excl. 1st token)", VLLM: true,
		summary: func(r *Report) *Summary { return &r.TPOT },
		samples: func(res *Result) int { return min(1, max(0, res.OutputTokens-1)) }},
	{Key: "itl", Default: true, SLA: MetricITL, Name: "ITL", Header: "Inter-token Latency", VLLM: true,
		summary: func(r *Report) *Summary { return &r.ITL },
		samples: func(res *Result) int { return max(0, len(res.Events)-1) }},
	{Key: "e2el", SLA: MetricE2EL, Name: "E2EL", Header: "End-to-end Latency", VLLM: true,
		summary: func(r *Report) *Summary { return &r.E2EL }, samples: one},
	// Reasoning models: the time to the first answer token. AIPerf calls it
	// Time to First Output Token (TTFO, time_to_first_output_token) and
	// GuideLLM time_to_first_output_token (PR #760), so we use their
	// name; "output" there is the answer, as opposed to the reasoning.
	{Key: "ttfo", SLA: MetricTTFO, Name: "TTFO", Header: "Time to First Output Token",
		summary: func(r *Report) *Summary { return &r.TTFO },
		samples: func(res *Result) int {
			if res.FirstAnswer >= len(res.Events) {
				return 0
			}
			return 1
		}},
	// vLLM bench serve's client-side queueing section.
	{Key: "client_queue_time", SLA: MetricQueue, Name: "Client Queue Time", Header: "Client-side Queueing",
		summary: func(r *Report) *Summary { return &r.Queue },
		samples: func(res *Result) int {
			if res.Scheduled.IsZero() {
				return 0
			}
			return 1
		}},
}

// LatencyMetrics returns the table of latency metrics, in the text block's
// order (a copy: changing it changes nothing else).
func LatencyMetrics() []LatencyMetric { return slices.Clone(latencyMetrics[:]) }

// defaultLatencyKeys returns the keys of the Default metrics.
func defaultLatencyKeys() []string {
	var keys []string
	for _, m := range latencyMetrics {
		if m.Default {
			keys = append(keys, m.Key)
		}
	}
	return keys
}

// latencyMetric returns the metric whose key is key.
func latencyMetric(key string) (LatencyMetric, bool) {
	i := slices.IndexFunc(latencyMetrics[:], func(m LatencyMetric) bool { return m.Key == key })
	if i < 0 {
		return LatencyMetric{}, false
	}
	return latencyMetrics[i], true
}

// latencyMetricSLA returns the metric whose SLA name is name.
func latencyMetricSLA(name Metric) (LatencyMetric, bool) {
	i := slices.IndexFunc(latencyMetrics[:], func(m LatencyMetric) bool { return m.SLA == name })
	if i < 0 {
		return LatencyMetric{}, false
	}
	return latencyMetrics[i], true
}

// latencyKeys joins the metrics' result-file keys with sep.
func latencyKeys(sep string) string {
	keys := make([]string, len(latencyMetrics))
	for i, m := range latencyMetrics {
		keys[i] = m.Key
	}
	return strings.Join(keys, sep)
}
