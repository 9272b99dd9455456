package benchtest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/servingbench"
)

// TestReportMetricsReasoning: a run that saw reasoning output reports
// TTFO like TTFT (ttfo-mean-ns, ttfo-median-ns, ttfo-p99-ns) and the
// reasoning and answer tokens a request; an ordinary run reports neither
// (TestRunReportsLastRun's units).
func TestReportMetricsReasoning(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Millisecond
		}
		return out
	}
	results := []*servingbench.Result{
		{Sent: t0, Events: at(10, 20, 30, 40), OutputTokens: 4, FirstAnswer: 2,
			ReasoningTokens: 2, AnswerTokens: 2, ReasoningSource: servingbench.SourceUsage},
		{Sent: t0, Events: at(15, 25, 35, 45, 55, 65), OutputTokens: 6, FirstAnswer: 4,
			ReasoningTokens: 4, AnswerTokens: 2, ReasoningSource: servingbench.SourceUsage},
	}
	rep := servingbench.Summarize(t0, t0.Add(time.Second), results, servingbench.SLO{})
	require.Equal(t, 2, rep.ReasoningRequests)
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
		}
		benchtest.ReportMetrics(b, rep)
	})
	assert.Equal(t, float64(42500*time.Microsecond), res.Extra["ttfo-mean-ns"], "ttfo-mean-ns: 30 ms and 55 ms")
	assert.Equal(t, float64(rep.TTFO.Median), res.Extra["ttfo-median-ns"])
	p99, _ := rep.TTFO.Percentile(99)
	assert.Equal(t, float64(p99), res.Extra["ttfo-p99-ns"])
	assert.Equal(t, 3.0, res.Extra[gate.UnitReasoningTokens], "reasoning-tok/req")
	assert.Equal(t, 2.0, res.Extra[gate.UnitAnswerTokens], "answer-tok/req")
	assert.Equal(t, gate.BetterUnknown, gate.UnitBetter(gate.UnitReasoningTokens), "reasoning tokens are not judged")
	assert.Equal(t, gate.LowerIsBetter, gate.UnitBetter("ttfo-p99-ns"), "ttfo is a latency")
}
