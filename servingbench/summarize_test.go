package servingbench

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// summarizeT0 is the start of every hand-built run.
var summarizeT0 = time.Date(2026, 7, 24, 10, 0, 0, 0, time.UTC)

func runAt(ms float64) time.Time {
	return summarizeT0.Add(time.Duration(ms * float64(time.Millisecond)))
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// okResult is a successful request sent at sent ms with token events at
// events ms (offsets from the run start).
func okResult(sent float64, in, out int, events ...float64) *Result {
	r := &Result{Sent: runAt(sent), InputTokens: in, InputSource: SourceUsage, OutputTokens: out, OutputSource: SourceUsage}
	for _, e := range events {
		r.Events = append(r.Events, runAt(e).Sub(r.Sent))
	}
	r.Done = r.LastEvent()
	return r
}

// summarizeTestError is a failure with a grouping reason, like *HTTPError.
type summarizeTestError struct{ code int }

func (e *summarizeTestError) Error() string  { return fmt.Sprintf("HTTP %d: body excerpt", e.code) }
func (e *summarizeTestError) Reason() string { return fmt.Sprintf("HTTP %d", e.code) }

// summarizeFixture is the run described in TestSummarize.
func summarizeFixture() []*Result {
	r0 := okResult(0, 10, 4, 100, 150, 200, 250)
	r0.Scheduled, r0.SlotAcquired = runAt(0), runAt(0)
	r1 := okResult(500, 20, 5, 800, 1000, 1300)
	r1.OutputSource = SourceTokenizer
	r1.Scheduled, r1.SlotAcquired = runAt(400), runAt(500)
	r2 := okResult(1000, 30, 1, 1200)
	r2.Resent, r2.NoDone = true, true
	return []*Result{
		r0, r1, r2,
		{Index: 3, Sent: runAt(1500), Err: &summarizeTestError{503}},
		{Index: 4, Sent: runAt(1500), Err: errors.New("connection refused"), Resent: true},
		{Index: 5, Sent: runAt(1600), Err: fmt.Errorf("send: %w", &summarizeTestError{503})},
		{Index: 6, Sent: runAt(1700)}, // no error, but no token event either
		nil,
	}
}

func TestSummarize(t *testing.T) {
	results := summarizeFixture()
	slo := SLO{TTFT: msDur(250), TPOT: msDur(100)}
	rep := Summarize(summarizeT0, runAt(4000), results, slo)

	assert.Equal(t, 4*time.Second, rep.Duration, "Duration")
	assert.Equal(t, 3, rep.Completed, "Completed")
	assert.Equal(t, 4, rep.Failed, "Failed")
	assert.Equal(t, 60, rep.TotalInputTokens, "TotalInputTokens")
	assert.Equal(t, 10, rep.TotalOutputTokens, "TotalOutputTokens")
	assert.Equal(t, map[CountSource]int{SourceUsage: 3}, rep.InputSources, "InputSources")
	assert.Equal(t, map[CountSource]int{SourceUsage: 2, SourceTokenizer: 1}, rep.OutputSources, "OutputSources")
	assert.InDelta(t, 0.75, rep.RequestThroughput, 1e-12, "RequestThroughput = 3/4")
	assert.InDelta(t, 2.5, rep.OutputThroughput, 1e-12, "OutputThroughput = 10/4")
	assert.InDelta(t, 17.5, rep.TotalTokenThroughput, 1e-12, "TotalTokenThroughput = 70/4")
	// Good: r0 (TTFT 100, TPOT 50) and r2 (TTFT 200, one token: TPOT 0);
	// r1 has TTFT 300 > 250.
	assert.InDelta(t, 0.5, rep.Goodput, 1e-12, "Goodput = 2/4")
	assert.Equal(t, slo, rep.GoodputSLO, "GoodputSLO")
	assert.Len(t, rep.Results, len(results), "Results")
	// Resent counts every request sent twice, successful or not; NoDone
	// only successes.
	assert.Equal(t, 2, rep.Resent, "Resent")
	assert.Equal(t, 1, rep.NoDone, "NoDone")
	require.Len(t, rep.Warnings, 3, "Warnings")
	assert.EqualError(t, rep.Warnings[0], "servingbench: 2 requests failed with HTTP 503; the first: HTTP 503: body excerpt",
		"the first message of a reason, with the server's words")
	rep.Warnings = rep.Warnings[1:]
	assert.ErrorContains(t, rep.Warnings[0], "2 requests were resent on a new connection because the server had closed the pooled keep-alive connection before answering (not a server failure)")
	assert.ErrorContains(t, rep.Warnings[1], "1 of 3 successful streams ended without data: [DONE]")

	// TTFT 100, 300, 200 ms.
	assertSummary(t, "TTFT", rep.TTFT, 3, 200, 200, 81.64965809277261, []float64{100, 200, 300})
	// TPOT r0 = 150/3 = 50, r1 = 500/4 = 125; r2 (1 token) excluded.
	assertSummary(t, "TPOT", rep.TPOT, 2, 87.5, 87.5, 37.5, []float64{50, 125})
	// ITL pooled: 50 50 50 from r0, 200 300 from r1. Mean 130; deviations
	// -80 -80 -80 70 170: (3*6400 + 4900 + 28900)/5 = 10600, sqrt = 102.956...
	assertSummary(t, "ITL", rep.ITL, 5, 130, 50, 102.95630140987001, []float64{50, 50, 50, 200, 300})
	// P99 ITL: rank 0.99*4 = 3.96: 300 - 100*0.04 = 296.
	p99, ok := rep.ITL.Percentile(99)
	require.True(t, ok)
	assert.InDelta(t, 296, toMS(p99), 1e-6, "ITL.Percentile(99) = %v, want 296ms", p99)
	// E2EL 250, 800, 200: mean 1250/3; squared deviations
	// (216.67^2 + 166.67^2 + 383.33^2)/3 = 73888.9, sqrt = 271.825...
	assertSummary(t, "E2EL", rep.E2EL, 3, 1250.0/3, 250, 271.82510717166815, []float64{200, 250, 800})
	// Queue: r0 0, r1 100; r2 has no Scheduled time.
	assertSummary(t, "Queue", rep.Queue, 2, 50, 50, 50, []float64{0, 100})

	assert.Equal(t, []ErrorCount{
		{Reason: "HTTP 503", Count: 2, Example: "HTTP 503: body excerpt"},
		{Reason: "connection refused", Count: 1, Example: "connection refused"},
		{Reason: "no token events", Count: 1},
	}, rep.Errors, "Errors, each with its first request's message")

	// Tokens: bucket 0 gets r0's 4 and one of r1's three events (5/3 each);
	// bucket 1 gets r1's other two and r2's one: 4 + 5/3 = 17/3 is the peak.
	assert.InDelta(t, 17.0/3, rep.PeakOutputThroughput, 1e-9, "PeakOutputThroughput")
	// In flight: bucket 0 r0, r1; bucket 1 r1, r2.
	assert.Equal(t, 2, rep.PeakConcurrency, "PeakConcurrency")
}

func toMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func assertSummary(t *testing.T, name string, s Summary, count int, mean, median, std float64, samples []float64) {
	t.Helper()
	assert.Equal(t, count, s.Count, "%s.Count", name)
	assert.InDelta(t, mean, toMS(s.Mean), 1e-6, "%s.Mean = %v, want %vms", name, s.Mean, mean)
	assert.InDelta(t, median, toMS(s.Median), 1e-6, "%s.Median = %v, want %vms", name, s.Median, median)
	assert.InDelta(t, std, toMS(s.Std), 1e-6, "%s.Std = %v, want %vms", name, s.Std, std)
	got := make([]float64, len(s.SortedSamples()))
	for i, d := range s.SortedSamples() {
		got[i] = toMS(d)
	}
	assert.InDeltaSlice(t, samples, got, 1e-6, "%s.Samples", name)
}

func TestSummarizeEmpty(t *testing.T) {
	tests := []struct {
		name    string
		end     time.Time
		results []*Result
	}{
		{"no results", runAt(1000), nil},
		{"zero duration", summarizeT0, []*Result{okResult(0, 1, 2, 0, 0)}},
		{"all failed", runAt(1000), []*Result{{Err: errors.New("boom")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Summarize(summarizeT0, tt.end, tt.results, SLO{TTFT: time.Second})
			for name, v := range map[string]float64{
				"RequestThroughput": rep.RequestThroughput, "OutputThroughput": rep.OutputThroughput,
				"TotalTokenThroughput": rep.TotalTokenThroughput, "Goodput": rep.Goodput,
				"PeakOutputThroughput": rep.PeakOutputThroughput,
			} {
				assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v, want finite", name, v)
			}
			if rep.Completed == 0 {
				assert.Equal(t, Summary{}, rep.TTFT, "TTFT of no successes")
				assert.Zero(t, rep.RequestThroughput, "RequestThroughput")
			}
		})
	}
}

func TestSummarizeNoSLO(t *testing.T) {
	rep := Summarize(summarizeT0, runAt(4000), summarizeFixture(), SLO{})
	assert.Zero(t, rep.Goodput, "Goodput without SLO")
	assert.True(t, rep.GoodputSLO.IsZero(), "GoodputSLO")
}

func TestPeaks(t *testing.T) {
	tests := []struct {
		name        string
		results     []*Result
		tokens      float64
		concurrency int
	}{
		{
			name: "one token an event",
			results: []*Result{
				okResult(0, 0, 3, 100, 200, 1100),
				okResult(50, 0, 2, 300, 400),
			},
			tokens: 4, concurrency: 2,
		},
		{
			name: "multi-token chunks spread over events",
			// 10 tokens in 2 chunks: 5 at each event.
			results: []*Result{okResult(0, 0, 10, 500, 1500)},
			tokens:  5, concurrency: 1,
		},
		{
			name:    "unknown count counts events",
			results: []*Result{okResult(0, 0, 0, 100, 200, 300)},
			tokens:  3, concurrency: 1,
		},
		{
			name: "requests in different seconds do not overlap",
			results: []*Result{
				okResult(0, 0, 1, 900),
				okResult(1000, 0, 1, 1900),
				okResult(2000, 0, 1, 2900),
			},
			tokens: 1, concurrency: 1,
		},
		{
			name: "long request spans every bucket",
			results: []*Result{
				okResult(0, 0, 2, 100, 2900),
				okResult(1200, 0, 1, 1300),
				okResult(1400, 0, 1, 1500),
			},
			tokens: 2, concurrency: 3,
		},
		{
			name: "failed requests do not count",
			results: []*Result{
				okResult(0, 0, 1, 100),
				{Sent: runAt(0), Events: []time.Duration{msDur(100), msDur(200)}, OutputTokens: 2, Err: errors.New("cut")},
			},
			tokens: 1, concurrency: 1,
		},
		{
			name:    "events after the end are ignored",
			results: []*Result{okResult(0, 0, 4, 100, 9000, 9100, 9200)},
			tokens:  1, concurrency: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, conc := peaks(summarizeT0, runAt(3000), tt.results)
			assert.InDelta(t, tt.tokens, tokens, 1e-9, "peak tokens = %v, want %v", tokens, tt.tokens)
			assert.Equal(t, tt.concurrency, conc, "peak concurrency = %v, want %v", conc, tt.concurrency)
		})
	}
}

func BenchmarkSummarize(b *testing.B) {
	results := make([]*Result, 1000)
	for i := range results {
		ev := make([]float64, 128)
		for j := range ev {
			ev[j] = float64(i*10 + 200 + j*20)
		}
		results[i] = okResult(float64(i*10), 1024, 128, ev...)
	}
	end := runAt(float64(1000*10 + 200 + 128*20))
	for b.Loop() {
		Summarize(summarizeT0, end, results, SLO{TTFT: time.Second})
	}
}
