package llamacpp

import (
	"fmt"
	"io"

	"github.com/servingbench/servingbench/internal/promtext"
)

// Counter names in llama-server's /metrics (with --metrics) that the
// conformance suite compares with a run's totals.
const (
	// PromptTokensTotal counts prompt tokens evaluated, excluding those
	// reused from a slot's or the host prompt cache.
	PromptTokensTotal = "llamacpp:prompt_tokens_total"
	// PromptTokensCachedTotal counts prompt tokens reused from a cache; the
	// sum of both prompt counters is the sum of usage.prompt_tokens.
	PromptTokensCachedTotal = "llamacpp:prompt_tokens_cached_total"
	// TokensPredictedTotal counts generated tokens: the sum of
	// usage.completion_tokens.
	TokensPredictedTotal = "llamacpp:tokens_predicted_total"
)

// Metrics holds one scrape of a Prometheus text exposition: sample value
// by series (promtext.Samples: the metric name followed by its labels).
type Metrics = promtext.Samples

// ParseMetrics reads the Prometheus text format (version 0.0.4) with the
// Prometheus project's parser (internal/promtext). A malformed exposition
// is an error naming its line.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m, err := promtext.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: metrics: %w", err)
	}
	return m, nil
}
