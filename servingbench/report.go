package servingbench

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/servingbench/servingbench/internal/stats"
	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// Report is the outcome of a run: every metric of vLLM's benchmark_serving
// plus failures, queueing delay and peaks. A Report read back from a result
// file has summaries without samples and no Results.
type Report struct {
	// Identity of the run.
	Date    time.Time
	Backend string
	// Label names the run's build or variant as the user gave it (vLLM's
	// --label); "" when none was given. It prefixes the default result
	// file name (ResultFilename) in place of Backend; CheckLabel says
	// what a label may hold.
	Label          string
	Model          string
	TokenizerID    string
	NumPrompts     int
	RequestRate    float64 // math.Inf(1) for "inf"
	Burstiness     float64
	MaxConcurrency int // 0: none
	// Ramp is the ramp-up the requests arrived on (vLLM's
	// --ramp-up-strategy, --ramp-up-start-rps and --ramp-up-end-rps), nil
	// for any other arrival. RequestRate is then +Inf, as vLLM records a
	// ramp-up run, and Burstiness the ramp's. Read back from a result
	// file, it has no Seed.
	Ramp *Ramp
	// RPSChanges are vLLM's rps_change_events of a ramp-up run: each whole
	// number of requests per second the ramp reached, and when
	// (Ramp.RPSChanges on the run's clock), up to the last request
	// dispatched; nil without a Ramp.
	RPSChanges []RPSChangeEvent
	Metadata   map[string]string
	// Server says who the server is, as it tells it ("llama.cpp
	// b11669-Debian (model_path=..., model_ftype=F16)", target.Identity's
	// String); ServerID is its fingerprint (12 hex digits). Both are ""
	// when the server did not say.
	Server   string
	ServerID string
	// Shard is the shard of a run given a Config.Shard or Config.StartAt,
	// nil otherwise (and for a Merge's result, which is the whole run).
	Shard *ShardInfo
	// Partial is set when the run was cancelled before every request ended.
	Partial bool

	// Duration runs from just before the first request was dispatched to the
	// end of the last request.
	Duration time.Duration
	// Completed and Failed count requests; requests never sent because the
	// run was cancelled count in neither.
	Completed int
	Failed    int
	// Token totals over successful requests, and how many requests' counts
	// came from each source.
	TotalInputTokens  int
	TotalOutputTokens int
	InputSources      map[CountSource]int
	OutputSources     map[CountSource]int

	// Throughputs per second of Duration.
	RequestThroughput    float64
	OutputThroughput     float64
	TotalTokenThroughput float64
	// Goodput is the rate of requests meeting GoodputSLO; valid when
	// GoodputSLO is not zero.
	Goodput    float64
	GoodputSLO SLO

	// Peaks over 1-second buckets from the start of the run.
	PeakOutputThroughput float64
	PeakConcurrency      int

	// Latency distributions over successful requests. ITL pools the gaps of
	// all requests. Queue is slot-acquired minus scheduled.
	TTFT  Summary
	TPOT  Summary
	ITL   Summary
	E2EL  Summary
	Queue Summary
	// TTFO is the time to first output token (Result.TTFO: the first
	// answer token, after the reasoning) over the successful requests that
	// had an answer token; the requests whose output was reasoning only
	// are left out of it and counted in ReasoningOnly. It is summarised
	// only when the run saw reasoning output (ReasoningRequests > 0):
	// otherwise it is TTFT, and empty.
	TTFO Summary

	// Reasoning models, over successful requests: how many had a
	// reasoning part (Result.Reasoned), how many of those no answer token,
	// the reasoning and answer token totals (a request without reasoning
	// adds its OutputTokens to the answer) and how many requests' split
	// came from each source (the requests with a ReasoningSource). The
	// text block and the result file show them only when
	// ReasoningRequests > 0.
	ReasoningRequests    int
	ReasoningOnly        int
	TotalReasoningTokens int
	TotalAnswerTokens    int
	ReasoningSources     map[CountSource]int

	// ClientLag says where the event times came from (the kernel's
	// receive timestamps, the client's read times, or both) and how late
	// the client read the kernel-timed events (summarize_lag.go).
	ClientLag ClientLag

	// Conversations is what a run of conversations (Config.Conversations)
	// adds: per-turn metrics, conversation durations, the turns not sent
	// and the server's prefix-cache use; nil for a run of requests.
	Conversations *ConversationReport

	// Errors groups failed requests by reason, most frequent first.
	Errors []ErrorCount
	// Resent counts the requests, successful or not, that were sent again
	// on a new connection because the server had closed the pooled
	// connection they were first written to (Result.Resent). They are
	// counted once, like any request.
	Resent int
	// NoDone counts the successful streams that ended without
	// "data: [DONE]" after their finish_reason or usage (Result.NoDone).
	NoDone int
	// Results holds every measured request (nil when read from a summary).
	Results []*Result
	// Warnings are diagnostics that are not failures.
	Warnings []error
	// ServerMetrics is what the server's Prometheus page said about the
	// run (Config.ServerMetrics), nil when it was not asked for; its Err
	// is set when the page could not be scraped. Its warnings are also in
	// Warnings.
	ServerMetrics *servermetrics.Summary

	// timeSeries is the time_series object of the result file r was read
	// from, written back as it was (Results read back are not the run's).
	timeSeries []byte
}

// MeanReasoningTokens and MeanAnswerTokens are the reasoning and answer
// tokens a successful request, 0 without one.
func (r *Report) MeanReasoningTokens() float64 {
	return perCompleted(r.TotalReasoningTokens, r.Completed)
}
func (r *Report) MeanAnswerTokens() float64 { return perCompleted(r.TotalAnswerTokens, r.Completed) }

func perCompleted(total, completed int) float64 {
	if completed == 0 {
		return 0
	}
	return float64(total) / float64(completed)
}

// RPSChangeEvent is one entry of vLLM's rps_change_events: the ramp
// reached RPS whole requests per second at Time.
type RPSChangeEvent struct {
	RPS  int
	Time time.Time
}

// ErrorCount is one group of failures.
type ErrorCount struct {
	Reason string
	Count  int
	// Example is the whole message of the first failed request with this
	// reason ("HTTP 400: {"error": ...}"), with the server's words the
	// reason leaves out; "" when read from a result file.
	Example string
}

// Summary describes one latency distribution with numpy's conventions:
// population standard deviation and linearly interpolated percentiles.
// An empty distribution has 0 for every statistic.
type Summary struct {
	Count  int
	Mean   time.Duration
	Median time.Duration
	Std    time.Duration
	// Samples, sorted ascending; nil when read from a summary-only file,
	// and for a Report's ITL made by Summarize, whose samples (the gaps
	// between the token events of its successful Results, one a token)
	// are left in the Results' Events rather than copied: SortedSamples
	// returns them, Percentile selects from them.
	Samples []time.Duration
	// Percentiles known without samples (read back from a result file),
	// keyed by percentile in [0,100].
	Percentiles map[float64]time.Duration

	gaps *gapSamples // the samples of Summarize's ITL; nil for any other Summary
}

// SortedSamples returns the samples sorted ascending: Samples, or for a
// Report's ITL made by Summarize a new slice of the gaps between the token
// events of its successful Results. It is nil when the samples are not
// known (a summary read from a file).
func (s Summary) SortedSamples() []time.Duration {
	if s.gaps != nil {
		return s.gaps.sorted()
	}
	return s.Samples
}

// Percentile returns the p-th percentile (p in [0,100]) and whether it is
// known: always with samples, otherwise only for percentiles read back.
// For a Report's ITL made by Summarize it is selected from the Results'
// events, exactly, in a few passes over them, and remembered.
func (s Summary) Percentile(p float64) (time.Duration, bool) {
	if s.gaps != nil {
		return s.gaps.percentile(p), true
	}
	if s.Samples != nil || s.Count == 0 {
		return durationPercentile(s.Samples, p), true
	}
	v, ok := s.Percentiles[p]
	return v, ok
}

// durationPercentile is numpy.percentile(x, p) with the default linear
// method over sorted x; 0 for an empty x.
func durationPercentile(sorted []time.Duration, p float64) time.Duration {
	return time.Duration(math.Round(stats.Percentile(sorted, p)))
}

// NoSuccess returns nil when at least one request succeeded, and otherwise
// an error saying that no request was sent or that all failed, with the
// failures grouped by reason ("all 5 requests failed: 5 x HTTP 503").
func (r *Report) NoSuccess() error {
	if r.Completed > 0 {
		return nil
	}
	if r.Failed == 0 {
		return fmt.Errorf("servingbench: no request of %d was sent", r.NumPrompts)
	}
	reasons := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		reasons[i] = fmt.Sprintf("%d x %s", e.Count, e.Reason)
	}
	return fmt.Errorf("servingbench: all %d requests failed: %s", r.Failed, strings.Join(reasons, "; "))
}
