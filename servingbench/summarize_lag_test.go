package servingbench

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lagResult is a successful request sent at sent ms from summarizeT0,
// with one token event every 10 ms from 100 ms after it, each carrying
// one output token; with lags (ns, one an event) its times are the
// kernel's, without them read times. It is the only place the tests of
// the client lag build Events.
func lagResult(sent float64, lags ...uint32) *Result {
	n := max(len(lags), 3)
	r := &Result{Sent: runAt(sent), OutputTokens: n, OutputSource: SourceUsage, InputTokens: 8, InputSource: SourceUsage}
	for i := range n {
		r.Events = append(r.Events, runAt(sent+100+10*float64(i)).Sub(r.Sent))
	}
	r.Done = r.EventTime(n - 1)
	if lags != nil {
		r.Arrival, r.Lags = ArrivalKernel, lags
	}
	return r
}

// us is a lag of n microseconds, as Result.Lags holds it.
func us(n int) uint32 { return uint32(n * 1000) }

func TestSummarizeClientLag(t *testing.T) {
	failedKernel := lagResult(0, us(90000), us(90000), us(90000))
	failedKernel.Err = errors.New("HTTP 500")
	saturated := []uint32{math.MaxUint32, math.MaxUint32, math.MaxUint32}
	tests := []struct {
		name    string
		results []*Result
		want    ClientLag
		source  string
		warning string
	}{
		{
			// 100, 200, 300, 400, 400, 500 us: median 350 us; P99 rank 4.95:
			// 500 - 100*0.05 = 495 us.
			// The failed request's 90 ms lags count nowhere.
			name:    "kernel",
			results: []*Result{lagResult(0, us(300), us(100), us(200)), lagResult(5, us(500), us(400), us(400)), failedKernel, nil},
			want: ClientLag{KernelRequests: 2, Events: 6, P50: 350 * time.Microsecond, P99: 495 * time.Microsecond,
				Max: 500 * time.Microsecond},
			source: "kernel",
		},
		{
			name:    "read",
			results: []*Result{lagResult(0), lagResult(5), failedKernel},
			want:    ClientLag{ReadRequests: 2},
			source:  "read",
		},
		{
			name:    "none",
			results: []*Result{failedKernel},
			want:    ClientLag{},
			source:  "read",
		},
		{
			// The read-time request adds no sample: the lag of its events is not known.
			name:    "mixed",
			results: []*Result{lagResult(0), lagResult(5, us(1000), us(3000), us(2000)), lagResult(10)},
			want: ClientLag{KernelRequests: 1, ReadRequests: 2, Events: 3, P50: 2 * time.Millisecond,
				P99: 2980 * time.Microsecond, Max: 3 * time.Millisecond},
			source: "mixed",
		},
		{
			// P99 exactly at the threshold does not exceed it.
			name:    "at threshold",
			results: []*Result{lagResult(0, us(10000), us(10000), us(10000))},
			want: ClientLag{KernelRequests: 1, Events: 3, P50: 10 * time.Millisecond, P99: 10 * time.Millisecond,
				Max: 10 * time.Millisecond},
			source: "kernel",
		},
		{
			// 1, 2 and 30 ms: P99 rank 1.98: 30 - 28*0.02 = 29.44 ms.
			name:    "above threshold",
			results: []*Result{lagResult(0, us(1000), us(30000), us(2000))},
			want: ClientLag{KernelRequests: 1, Events: 3, P50: 2 * time.Millisecond, P99: 29440 * time.Microsecond,
				Max: 30 * time.Millisecond},
			source: "kernel",
			warning: "servingbench: client lag P99 29.44 ms (max 30.00 ms) is above 10.00 ms, longer than a typical " +
				"server's step: the client machine was the bottleneck. Event times are still the kernel's arrival times, " +
				"but the requests it sent and the streams it read may have been late",
		},
		{
			// Every lag saturated at math.MaxUint32 ns: 4.29 s or more.
			name:    "saturated mixed",
			results: []*Result{lagResult(0, saturated...), lagResult(5)},
			want:    ClientLag{KernelRequests: 1, ReadRequests: 1, Events: 3, P50: maxLag, P99: maxLag, Max: maxLag},
			source:  "mixed",
			warning: "servingbench: client lag P99 4294.97 ms (max at least 4294.97 ms, the most a lag holds) is above " +
				"10.00 ms, longer than a typical server's step: the client machine was the bottleneck. Event times are " +
				"still the kernel's arrival times, but the requests it sent and the streams it read may have been late, " +
				"and the event times of the 1 request without kernel timestamps (read times) include the lag",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Summarize(summarizeT0, runAt(1000), tt.results, SLO{})
			assert.Equal(t, tt.want, rep.ClientLag, "Summarize(...).ClientLag")
			assert.Equal(t, tt.source, rep.ClientLag.Source(), "ClientLag.Source()")
			var lagWarnings []string
			for _, w := range rep.Warnings {
				if strings.Contains(w.Error(), "client lag") {
					lagWarnings = append(lagWarnings, w.Error())
				}
			}
			if tt.warning == "" {
				assert.NoError(t, rep.ClientLag.Warning(), "ClientLag.Warning()")
				assert.Empty(t, lagWarnings, "Report.Warnings holds no client lag warning")
				return
			}
			var w *ClientLagWarning
			require.ErrorAs(t, rep.ClientLag.Warning(), &w, "ClientLag.Warning()")
			assert.Equal(t, ClientLagWarning{P99: tt.want.P99, Max: tt.want.Max, ReadRequests: tt.want.ReadRequests}, *w)
			assert.Equal(t, tt.warning, rep.ClientLag.Warning().Error(), "ClientLag.Warning()")
			assert.Equal(t, []string{tt.warning}, lagWarnings, "the warning once in Report.Warnings")
		})
	}
}
