package benchtest

import (
	"testing"

	"github.com/servingbench/servingbench/servingbench"
)

// The units of the client lag ReportMetrics reports for a run whose event
// times came from the kernel's receive timestamps (Report.ClientLag;
// none for a run with read times only): how late the client read the
// token events, in nanoseconds like every latency, lower is better.
// They are gate.LatencyUnit("client-lag", "p99") and ("client-lag", "max").
const (
	// UnitClientLagP99 is the client lag's 99th percentile over every
	// token event of the kernel-timed requests.
	UnitClientLagP99 = "client-lag-p99-ns"
	// UnitClientLagMax is the largest client lag of the run.
	UnitClientLagMax = "client-lag-max-ns"
)

// reportClientLag reports the client lag of r on b, when some request had
// kernel receive timestamps.
func reportClientLag(b *testing.B, r *servingbench.Report) {
	if r.ClientLag.KernelRequests == 0 {
		return
	}
	b.ReportMetric(float64(r.ClientLag.P99), UnitClientLagP99)
	b.ReportMetric(float64(r.ClientLag.Max), UnitClientLagMax)
}
