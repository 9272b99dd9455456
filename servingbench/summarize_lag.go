package servingbench

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/servingbench/servingbench/internal/stats"
)

// ClientLagThreshold is the client lag P99 above which a run warns that
// the client machine was the bottleneck (ClientLag.Warning): 10 ms, longer
// than a typical server's step (one decode iteration of a batch), so that
// the client was reading tokens later than the server was producing them.
const ClientLagThreshold = 10 * time.Millisecond

// maxLag is the saturated Result.Lags value: a lag of at least 4.29 s.
const maxLag = time.Duration(math.MaxUint32)

// ClientLag says where a run's token event times came from and, for the
// requests whose times are the kernel's receive timestamps, how late the
// client read the events: Result.Lags, the time the read that returned
// an event's bytes came back minus their arrival. All counts are over
// successful requests (Result.OK), like every latency of a Report.
type ClientLag struct {
	// KernelRequests counts the successful requests with ArrivalKernel,
	// ReadRequests those with ArrivalRead (no kernel timestamps on their
	// connection: their event times are read times, late by their lag).
	KernelRequests, ReadRequests int
	// Events is the number of token events of the KernelRequests: the
	// lags P50, P99 and Max are taken over. It is 0 for a Report read
	// from a result file without the per-request arrays.
	Events int
	// P50, P99 and Max are the median, 99th percentile (numpy's linear
	// interpolation) and largest lag of those events, exact over every
	// event; 0 without KernelRequests. A lag saturated in Result.Lags
	// counts as 4.29 s (math.MaxUint32 ns), so a Max of that much means
	// at least that.
	P50, P99, Max time.Duration
}

// Source is the run's source of event times: "kernel" when every
// successful request had kernel receive timestamps, "mixed" when some
// did, "read" when none did (also for a run without a successful
// request).
func (c ClientLag) Source() string {
	switch {
	case c.KernelRequests > 0 && c.ReadRequests > 0:
		return "mixed"
	case c.KernelRequests > 0:
		return ArrivalKernel.String()
	}
	return ArrivalRead.String()
}

// summarizeClientLag counts the successful requests of results by
// Result.Arrival and summarises the Lags of those with ArrivalKernel.
func summarizeClientLag(results []*Result) ClientLag {
	var c ClientLag
	for _, r := range results {
		if r == nil || !r.OK() {
			continue
		}
		if r.Arrival != ArrivalKernel {
			c.ReadRequests++
			continue
		}
		c.KernelRequests++
		c.Events += len(r.Lags)
	}
	if c.Events == 0 {
		return c
	}
	// The pooled lags are sorted in a copy that the Report does not keep:
	// at 4 bytes an event it would be a quarter of a run's live heap
	// (BenchmarkRunMemory); the Results keep the lags themselves.
	lags := make([]uint32, 0, c.Events)
	for _, r := range results {
		if r != nil && r.OK() && r.Arrival == ArrivalKernel {
			lags = append(lags, r.Lags...)
		}
	}
	slices.Sort(lags)
	c.P50 = durationFromNS(stats.Percentile(lags, 50))
	c.P99 = durationFromNS(stats.Percentile(lags, 99))
	c.Max = time.Duration(lags[len(lags)-1])
	return c
}

// Warning is the warning of a run whose client lag P99 exceeded
// ClientLagThreshold, a *ClientLagWarning; nil otherwise.
func (c ClientLag) Warning() error {
	if c.KernelRequests == 0 || c.P99 <= ClientLagThreshold {
		return nil
	}
	return &ClientLagWarning{P99: c.P99, Max: c.Max, ReadRequests: c.ReadRequests}
}

// ClientLagWarning is the warning (in Report.Warnings and the text block)
// of a run whose client lag P99 exceeded ClientLagThreshold: the client
// machine was the bottleneck. The event times of the kernel-timed
// requests are still the kernel's, but the requests the client sent and
// the streams it read may have been late, so the load the server saw was
// not the one asked for; a mixed run's read-timed requests also carry the
// lag in their times. Callers that judge a run by its other warnings can
// tell it apart with errors.As.
type ClientLagWarning struct {
	// P99 and Max are the run's client lag (ClientLag.P99, ClientLag.Max).
	P99, Max time.Duration
	// ReadRequests counts the run's successful requests with read times.
	ReadRequests int
}

func (w *ClientLagWarning) Error() string {
	most := "max " + msText(w.Max)
	if w.Max >= maxLag {
		most = "max at least " + msText(w.Max) + ", the most a lag holds"
	}
	read := ""
	if w.ReadRequests > 0 {
		read = fmt.Sprintf(", and the event times of the %s without kernel timestamps (read times) include the lag",
			countText(w.ReadRequests))
	}
	return fmt.Sprintf("servingbench: client lag P99 %s (%s) is above %s, longer than a typical server's step: "+
		"the client machine was the bottleneck. Event times are still the kernel's arrival times, but the requests "+
		"it sent and the streams it read may have been late%s", msText(w.P99), most, msText(ClientLagThreshold), read)
}

// msText is d in milliseconds with two decimals, "12.50 ms".
func msText(d time.Duration) string { return pyFixed2(durationMS(d)) + " ms" }
