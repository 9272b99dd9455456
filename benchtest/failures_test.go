package benchtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestRunFailureBudget runs tiny against a server that answers every
// fourth request with HTTP 503: 2 of 8 requests fail in each run. Without
// a budget that fails the benchmark; a budget, or an SLA bounding
// failures, decides instead.
func TestRunFailureBudget(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m", Faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable, Every: 4}}})
	defer srv.Close()
	target := benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"})
	sla := func(text string, mode benchtest.SLAMode) benchtest.Option {
		return benchtest.WithSLA(servingbench.MustParseSLA(text), mode)
	}
	tests := []struct {
		name       string
		benchtime  string
		opts       []benchtest.Option
		pass       bool
		violations float64 // sla-violations reported; -1: none reported
	}{
		{"no budget", "1x", nil, false, -1},
		{"no budget, the first of three runs", "3x", nil, false, -1},
		{"budget 2", "1x", []benchtest.Option{benchtest.WithFailureBudget(2)}, true, -1},
		{"budget 2 in each of three runs", "3x", []benchtest.Option{benchtest.WithFailureBudget(2)}, true, -1},
		{"budget 1", "1x", []benchtest.Option{benchtest.WithFailureBudget(1)}, false, -1},
		{"negative budget", "1x", []benchtest.Option{benchtest.WithFailureBudget(-1)}, false, -1},
		{"SLA without a failure limit", "1x", []benchtest.Option{sla("ttft.p99<=1h", benchtest.SLAEnforce)}, false, -1},
		{"SLA failed<=2 enforced", "1x", []benchtest.Option{sla("ttft.p99<=1h failed<=2", benchtest.SLAEnforce)}, true, -1},
		{"SLA failed<=1 enforced", "1x", []benchtest.Option{sla("failed<=1", benchtest.SLAEnforce)}, false, -1},
		{"SLA failed<=1 reported", "1x", []benchtest.Option{sla("failed<=1", benchtest.SLAReport)}, true, 1},
		{"SLA failed<=1 reported, three runs", "3x", []benchtest.Option{sla("failed<=1", benchtest.SLAReport)}, true, 1},
		{"SLA failed_rate<=0.25 enforced", "1x", []benchtest.Option{sla("failed_rate<=0.25", benchtest.SLAEnforce)}, true, -1},
		{"SLA failed_rate<=0.2 reported", "1x", []benchtest.Option{sla("failed_rate<=0.2", benchtest.SLAReport)}, true, 1},
		{"SLA failed<=1 reported and budget 2", "1x", []benchtest.Option{sla("failed<=1", benchtest.SLAReport), benchtest.WithFailureBudget(2)}, true, 1},
		{"SLA failed<=5 enforced and budget 1", "1x", []benchtest.Option{sla("failed<=5", benchtest.SLAEnforce), benchtest.WithFailureBudget(1)}, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep *servingbench.Report
			res := benchmark(t, tt.benchtime, func(b *testing.B) {
				rep = benchtest.Run(b, tiny(), append([]benchtest.Option{target, words}, tt.opts...)...)
			})
			if !tt.pass {
				assert.Zero(t, res.N, "the benchmark passed; want it failed, with no result")
				assert.Empty(t, res.Extra, "metrics of a failed benchmark")
				return
			}
			if !assert.NotZero(t, res.N, "the benchmark failed") {
				return
			}
			assert.Equal(t, 2.0, res.Extra["failed"], "failed metric")
			assert.Equal(t, 2, rep.Failed)
			v, ok := res.Extra["sla-violations"]
			if tt.violations < 0 {
				assert.False(t, ok, "sla-violations reported: %v", v)
			} else {
				assert.Equal(t, tt.violations, v, "sla-violations")
			}
		})
	}
}

func BenchmarkHelperSLAFailures(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithSLA(servingbench.MustParseSLA("failed<=1"), benchtest.SLAReport))
}

// TestFailedRunOutput checks go test -bench's output of a benchmark whose
// run had failed requests: a FAIL with the failures grouped by reason,
// no result line, exit status 1.
func TestFailedRunOutput(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m", Faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable, Every: 4}}})
	defer srv.Close()
	out, err := goTestBench(t, []string{benchtest.EnvBaseURL + "=" + srv.URL, benchtest.EnvModel + "=m"}, "^BenchmarkHelperTiny$")
	require.Error(t, err, "a benchmark with failed requests must fail; output:\n%s", out)
	assert.Contains(t, out, "--- FAIL: BenchmarkHelperTiny")
	assert.Contains(t, out, "benchtest: 2 of 8 requests failed in the run with seed 0:\n")
	assert.Regexp(t, `\n\s+2 x HTTP 503`, out, "the failures grouped by reason")
	assert.Contains(t, out, "accept some with benchtest.WithFailureBudget(n)")
	assert.Empty(t, readBenchfmt(t, out), "result lines of a failed benchmark")
}

// TestSLAJudgedFailuresOutput: with an SLA bounding failures, the runs
// before the reported one (-benchtime=3x) are not judged, but their
// failures are logged; the reported run's violation is counted.
func TestSLAJudgedFailuresOutput(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m", Faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable, Every: 4}}})
	defer srv.Close()
	out, err := goTestBench(t, []string{benchtest.EnvBaseURL + "=" + srv.URL, benchtest.EnvModel + "=m"}, "^BenchmarkHelperSLAFailures$", "-test.benchtime=3x")
	require.NoError(t, err, "SLAReport keeps the benchmark passing; output:\n%s", out)
	for _, seed := range []string{"0", "1"} {
		assert.Contains(t, out, "warning: 2 of 8 requests failed in the run with seed "+seed+", a run before the one reported (the SLA judges only that one):")
	}
	assert.NotContains(t, out, "failed in the run with seed 2", "the reported run is the SLA's")
	assert.Contains(t, out, "SLA violation: failed = 2, want <= 1")
	results := readBenchfmt(t, out)
	require.Len(t, results, 1)
	assert.Equal(t, 1.0, valueOf(results[0], "sla-violations"))
	assert.Equal(t, 2.0, valueOf(results[0], "failed"))
}
