package servingbench_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/servingbench/servingbench/internal/stats"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// BenchmarkDispatch measures the scheduler's accuracy: 2,000 requests at
// 200 req/s (Poisson) against a zero-cost simulated server. It reports the
// achieved dispatch rate (requests / time of the last dispatch, scaled to
// the schedule's own span) and how late dispatches were against their
// absolute targets.
//
//	go test -run '^$' -bench Dispatch -benchtime 1x -count 3 ./servingbench
func BenchmarkDispatch(b *testing.B) {
	srv := servingtest.NewServer(servingtest.ZeroCost())
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: srv.Model().Name})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	const n, rate = 2000, 200.0
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: "hi", MaxTokens: 4}
	}
	arrival := servingbench.Poisson(rate, 1)
	offsets := arrival.Offsets(n)
	var rep *servingbench.Report
	for b.Loop() {
		rep, err = servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs, Arrival: arrival})
		if err != nil {
			b.Fatal(err)
		}
	}
	late := make([]time.Duration, 0, n)
	var last time.Duration
	for _, r := range rep.Results {
		late = append(late, r.SlotAcquired.Sub(r.Scheduled))
		last = max(last, r.SlotAcquired.Sub(rep.Date))
	}
	slices.Sort(late)
	// The configured rate over the schedule's span, and the achieved one.
	b.ReportMetric(float64(n-1)/offsets[n-1].Seconds(), "scheduled-req/s")
	b.ReportMetric(float64(n-1)/last.Seconds(), "dispatch-req/s")
	b.ReportMetric(stats.Percentile(late, 50), "late-p50-ns")
	b.ReportMetric(stats.Percentile(late, 99), "late-p99-ns")
	b.ReportMetric(float64(late[n-1]), "late-max-ns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTTFTAccuracy starts 256 streams at once against a simulated
// server and reports how far the measured TTFT is from the server's truth
// (first chunk flushed minus the client's send time) at p50/p99, and the
// server's own accept-and-parse queue (handler entry minus send).
//
//	go test -run '^$' -bench TTFTAccuracy -benchtime 1x -count 3 ./servingbench
func BenchmarkTTFTAccuracy(b *testing.B) {
	var ttftErr, accept []time.Duration
	for b.Loop() {
		srv := servingtest.NewServer(servingtest.Realistic(1))
		rep, truth := e2eRun(b, srv, nil, nil, 256, 16, 8, nil)
		byIndex := promptsByIndex(rep, truth)
		ttft, _, _ := latencyErrors(b, rep, byIndex, truth)
		ttftErr = append(ttftErr, ttft...)
		for _, res := range rep.Results {
			accept = append(accept, truth[byIndex[res.Index]].Received.Sub(res.Sent))
		}
		srv.Close()
	}
	slices.Sort(ttftErr)
	slices.Sort(accept)
	b.ReportMetric(stats.Percentile(ttftErr, 50), "ttft-err-p50-ns")
	b.ReportMetric(stats.Percentile(ttftErr, 99), "ttft-err-p99-ns")
	b.ReportMetric(stats.Percentile(accept, 99), "accept-p99-ns")
	b.ReportMetric(0, "ns/op")
}
