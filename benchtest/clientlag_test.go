package benchtest_test

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/internal/rxtime"
	"github.com/servingbench/servingbench/servingbench"
)

// TestReportMetricsClientLag: a run with kernel receive timestamps
// reports the client lag's p99 and max in ns, a run with read times only
// neither; both are latencies to the gate.
func TestReportMetricsClientLag(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	result := func(lags ...uint32) *servingbench.Result {
		r := &servingbench.Result{Sent: t0, OutputTokens: 3, OutputSource: servingbench.SourceUsage}
		for i := range 3 {
			r.Events = append(r.Events, time.Duration(100+10*i)*time.Millisecond)
		}
		if lags != nil {
			r.Arrival, r.Lags = servingbench.ArrivalKernel, lags
		}
		return r
	}
	metrics := func(results ...*servingbench.Result) map[string]float64 {
		rep := servingbench.Summarize(t0, t0.Add(time.Second), results, servingbench.SLO{})
		return testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
			}
			benchtest.ReportMetrics(b, rep)
		}).Extra
	}
	// 1, 2, 3, 4, 5 and 60 ms: P99 rank 4.95, 60 - 55*0.05 = 57.25 ms.
	kernel := metrics(result(1e6, 2e6, 3e6), result(4e6, 5e6, 60e6), result())
	assert.Equal(t, float64(57250*time.Microsecond), kernel[benchtest.UnitClientLagP99], "client-lag-p99-ns")
	assert.Equal(t, float64(60*time.Millisecond), kernel[benchtest.UnitClientLagMax], "client-lag-max-ns")
	read := metrics(result(), result())
	assert.NotContains(t, read, benchtest.UnitClientLagP99, "no client lag without kernel times")
	assert.NotContains(t, read, benchtest.UnitClientLagMax, "no client lag without kernel times")
	assert.Contains(t, read, "ttft-p99-ns", "the run's other metrics")
	assert.Equal(t, gate.LatencyUnit("client-lag", "p99"), benchtest.UnitClientLagP99)
	assert.Equal(t, gate.LatencyUnit("client-lag", "max"), benchtest.UnitClientLagMax)
	assert.Equal(t, gate.LowerIsBetter, gate.UnitBetter(benchtest.UnitClientLagP99), "a latency")
	assert.Equal(t, gate.LowerIsBetter, gate.UnitBetter(benchtest.UnitClientLagMax), "a latency")
}

// kernelTimes reports whether this machine's loopback TCP connections
// carry kernel receive timestamps (rxtime.Wrap, as the engine's
// transport dials them): the runs of the simulated server over 127.0.0.1
// then report the client lag's units. Like the engine's transport it
// holds the kernel's stamping on first (rxtime.Hold), which Linux turns
// on from deferred work, so it tries a few connections before saying no.
var kernelTimes = sync.OnceValue(func() bool {
	release, err := rxtime.Hold()
	if err != nil {
		return false
	}
	defer release()
	for range 20 {
		if stamped, ok := loopbackStamped(); !ok {
			return false
		} else if stamped {
			return true
		}
	}
	return false
})

// loopbackStamped reads one byte over a new loopback connection through
// rxtime.Wrap and reports whether the read carried a kernel timestamp;
// ok is false when the connection or its timestamps cannot be had at all.
func loopbackStamped() (stamped, ok bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, false
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return false, false
	}
	rc := rxtime.Wrap(c)
	defer rc.Close()
	if !rc.Kernel() {
		return false, false
	}
	if _, err := rc.Read(make([]byte, 1)); err != nil {
		return false, false
	}
	return rc.Arrival() != 0, true
}

// withClientLag returns units with the client lag's when the runs over
// loopback have kernel times (kernelTimes), sorted.
func withClientLag(units []string) []string {
	if kernelTimes() {
		units = append(slices.Clone(units), benchtest.UnitClientLagMax, benchtest.UnitClientLagP99)
	}
	slices.Sort(units)
	return units
}
