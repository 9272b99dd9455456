package benchtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/servingbench"
)

// mockT records failures like a *testing.T without failing the real test.
type mockT struct {
	errors  []string
	failNow int
	helpers int
}

func (m *mockT) Errorf(format string, args ...any) {
	m.errors = append(m.errors, fmt.Sprintf(format, args...))
}
func (m *mockT) FailNow() { m.failNow++ }
func (m *mockT) Helper()  { m.helpers++ }

func benchReport() *servingbench.Report {
	return &servingbench.Report{
		Completed:         10,
		RequestThroughput: 8,
		Goodput:           6,
		GoodputSLO:        servingbench.SLO{TTFT: 300 * time.Millisecond},
		TTFT: servingbench.Summary{Count: 3, Mean: 200 * time.Millisecond, Median: 200 * time.Millisecond,
			Samples: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		TPOT: servingbench.Summary{Count: 3, Mean: 20 * time.Millisecond, Median: 20 * time.Millisecond,
			Samples: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}},
	}
}

func TestAssertSLA(t *testing.T) {
	r := benchReport()
	tests := []struct {
		name string
		sla  string
		want []string // substrings of the one failure; nil: passes
	}{
		{"met", "ttft.p99<=300ms tpot.mean<=20ms throughput>=8 goodput>=6 failed<=0", nil},
		{"empty", "", nil},
		{"one", "ttft.p99<=250ms", []string{"1 of 1 limits violated", "ttft.p99 = 298ms, want <= 250ms"}},
		{
			"all listed",
			"ttft.p99<=250ms tpot.mean<=20ms throughput>=10 goodput>=7 ttft.p99.9<=1s itl.mean<=1s",
			[]string{
				"4 of 6 limits violated",
				`(SLA "ttft.p99<=250ms tpot.mean<=20ms throughput>=10 goodput>=7 ttft.p99.9<=1s itl.mean<=1s")`,
				"\tttft.p99 = 298ms, want <= 250ms\n",
				"\tthroughput = 8 req/s, want >= 10 req/s\n",
				"\tgoodput = 6 req/s, want >= 7 req/s\n",
				"\titl.mean unknown: no samples",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m mockT
			sla := servingbench.MustParseSLA(tt.sla)
			ok := AssertSLA(&m, r, sla, "scenario %s", "seed")
			assert.Equal(t, tt.want == nil, ok, "AssertSLA(%s) = %v", sla, ok)
			assert.Positive(t, m.helpers, "AssertSLA did not call Helper")
			if tt.want == nil {
				assert.Empty(t, m.errors, "AssertSLA(%s) errors", sla)
				return
			}
			require.Len(t, m.errors, 1, "AssertSLA(%s) errors, want one failure listing every violation", sla)
			for _, w := range tt.want {
				assert.Contains(t, m.errors[0], w, "AssertSLA(%s) failure", sla)
			}
			assert.Contains(t, m.errors[0], "scenario seed", "AssertSLA failure lacks msgAndArgs")
			assert.Contains(t, m.errors[0], "Error Trace:", "AssertSLA failure is not testify-formatted")
			assert.Zero(t, m.failNow, "AssertSLA must not stop the test")
		})
	}
}

func TestRequireSLA(t *testing.T) {
	r := benchReport()
	var m mockT
	RequireSLA(&m, r, servingbench.MustParseSLA("ttft.mean<=1s"))
	assert.Empty(t, m.errors)
	assert.Zero(t, m.failNow, "RequireSLA on a met SLA called FailNow")

	RequireSLA(&m, r, servingbench.MustParseSLA("ttft.mean<=1ms failed<=0 goodput>=100"))
	require.Len(t, m.errors, 1)
	assert.Contains(t, m.errors[0], "ttft.mean = 200ms, want <= 1ms")
	assert.Contains(t, m.errors[0], "goodput = 6 req/s, want >= 100 req/s")
	assert.Equal(t, 1, m.failNow, "RequireSLA on a violated SLA: FailNow calls")
}

func TestAssertSLANilReport(t *testing.T) {
	var m mockT
	assert.False(t, AssertSLA(&m, nil, servingbench.MustParseSLA("failed<=0")))
	require.Len(t, m.errors, 1)
	assert.Contains(t, m.errors[0], "failed unknown: no report")
}

// TestAssertSLAInBenchmark runs AssertSLA from a real *testing.B: a met SLA
// keeps the benchmark's result.
func TestAssertSLAInBenchmark(t *testing.T) {
	r := benchReport()
	res := testing.Benchmark(func(b *testing.B) {
		// No loop over b.N: the run ends at once (b.Loop would run for
		// -benchtime).
		RequireSLA(b, r, servingbench.MustParseSLA("ttft.p99<=1s"))
		b.ReportMetric(1, "marker")
	})
	assert.Equal(t, 1.0, res.Extra["marker"], "benchmark with a met SLA: Extra = %v", res.Extra)
}

func TestReportSLA(t *testing.T) {
	r := benchReport()
	tests := []struct {
		sla  string
		want int
	}{
		{"ttft.p99<=1s failed<=0", 0},
		{"ttft.p99<=250ms failed<=0", 1},
		{"ttft.p99<=250ms throughput>=9 goodput>=7", 3},
	}
	for _, tt := range tests {
		t.Run(tt.sla, func(t *testing.T) {
			var got int
			res := testing.Benchmark(func(b *testing.B) {
				got = ReportSLA(b, r, servingbench.MustParseSLA(tt.sla))
			})
			assert.Equal(t, tt.want, got, "ReportSLA(%s) = %d, want %d", tt.sla, got, tt.want)
			v, ok := res.Extra[gate.UnitSLAViolations]
			require.True(t, ok, "ReportSLA(%s) reported no %s metric; Extra = %v (did the benchmark fail?)", tt.sla, gate.UnitSLAViolations, res.Extra)
			assert.Equal(t, float64(tt.want), v, "ReportSLA(%s) metric", tt.sla)
			assert.NotZero(t, res.N, "benchmark produced no result")
		})
	}
}

func TestViolationMessageOneLinePerViolation(t *testing.T) {
	sla := servingbench.MustParseSLA("ttft.p99<=250ms goodput>=7")
	msg := violationMessage(sla, sla.Violations(benchReport()))
	assert.Equal(t, 3, len(strings.Split(msg, "\n")), "violationMessage = %q, want a header and one line each", msg)
}
