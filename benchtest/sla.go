package benchtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/servingbench"
)

// AssertSLA checks r against sla and reports a failure through testify's
// assert when a limit is not met: one failure whose message lists every
// violation with measured and limit values, so the output reads like the
// rest of a testify suite. It returns whether r meets sla. t is a
// *testing.T, a *testing.B, or anything with Errorf (assert.TestingT).
// msgAndArgs are added to the failure as in testify.
//
// In a benchmark, a failure suppresses the benchmark's result line and
// with it every metric it reported; use ReportSLA to keep the metrics.
func AssertSLA(t assert.TestingT, r *servingbench.Report, sla servingbench.SLA, msgAndArgs ...any) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	v := sla.Violations(r)
	if len(v) == 0 {
		return true
	}
	return assert.Fail(t, violationMessage(sla, v), msgAndArgs...)
}

// RequireSLA is AssertSLA that stops the test (t.FailNow) on a violation.
// Like testify's require, call it only from the test's or benchmark's own
// goroutine.
func RequireSLA(t require.TestingT, r *servingbench.Report, sla servingbench.SLA, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if !AssertSLA(t, r, sla, msgAndArgs...) {
		t.FailNow()
	}
}

// ReportSLA is the report mode for benchmarks: it logs each violation with
// b.Log and reports their number as the metric "sla-violations" without
// failing b, so the benchmark's result line and metrics still reach
// benchstat (a regression gate then sees a rise in sla-violations). It
// returns the number of violations. Call it after the b.Loop loop: the
// first b.Loop call resets metrics reported before it.
func ReportSLA(b *testing.B, r *servingbench.Report, sla servingbench.SLA) int {
	b.Helper()
	v := sla.Violations(r)
	for _, x := range v {
		b.Log("SLA violation: " + x.String())
	}
	b.ReportMetric(float64(len(v)), gate.UnitSLAViolations)
	return len(v)
}

// violationMessage lists every violation, one a line.
func violationMessage(sla servingbench.SLA, v []servingbench.Violation) string {
	var s strings.Builder
	fmt.Fprintf(&s, "SLA not met: %d of %d limits violated (SLA %q):", len(v), len(sla.Limits), sla.String())
	for _, x := range v {
		s.WriteString("\n\t")
		s.WriteString(x.String())
	}
	return s.String()
}
