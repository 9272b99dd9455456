package servingbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLatencyMetricsTable(t *testing.T) {
	ms := LatencyMetrics()
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.Key
		assert.True(t, m.SLA.IsLatency(), "%s: SLA name %q is a latency metric", m.Key, m.SLA)
		got, ok := latencyMetricSLA(m.SLA)
		require.True(t, ok)
		assert.Equal(t, m.Key, got.Key)
	}
	assert.Equal(t, []string{"ttft", "tpot", "itl", "e2el", "ttfo", "client_queue_time"}, keys)
	assert.Equal(t, []string{"ttft", "tpot", "itl"}, defaultLatencyKeys())

	r := &Report{TTFT: Summary{Mean: 1}, TTFO: Summary{Mean: 3}, Queue: Summary{Mean: 5}}
	assert.Equal(t, r.TTFT, ms[0].Of(r))
	assert.Equal(t, r.TTFO, ms[4].Of(r))
	assert.Equal(t, r.Queue, ms[5].Of(r))
	ms[0].Key = "changed"
	assert.Equal(t, "ttft", LatencyMetrics()[0].Key, "LatencyMetrics returns a copy")
}
