package servingbench

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/servingbench/servingbench/internal/stats"
)

// Summarize computes a Report's metrics from measured requests, with the
// definitions of vLLM's benchmark_serving.py (calculate_metrics):
//
//   - Duration is end - start; throughputs are per second of Duration
//     (0 when Duration is not positive).
//   - A request succeeded when Result.OK(); Completed and Failed count
//     them. Token totals, sources and every latency distribution are over
//     successful requests only.
//   - TPOT is summarised over requests with more than one output token; ITL
//     pools the gaps of all successful requests; Queue is over successful
//     requests whose Scheduled time is set.
//   - Reasoning models: TTFO is over successful requests with an answer
//     token, and only when some successful request Reasoned; the
//     reasoning totals and sources are as Report documents them.
//   - Goodput counts successful requests that meet every set field of slo
//     (SLO.Good) per second; it is computed only when slo is not zero.
//   - PeakOutputThroughput is the largest number of output tokens in a
//     1-second bucket counted from start. Like vLLM bench serve, a token is
//     counted at its event's time; a request's OutputTokens are spread
//     evenly over its events (one token an event when the count is 0), so
//     the buckets add up to TotalOutputTokens when chunks carry several
//     tokens. PeakConcurrency is the largest number of successful requests
//     in flight (Sent to last token event) during any 1-second bucket.
//   - ClientLag counts the successful requests by the source of their
//     event times (Result.Arrival) and summarises the Lags of those with
//     kernel times: P50, P99 and Max over every token event, exactly;
//     a P99 above ClientLagThreshold adds its warning.
//   - Errors groups failures by reason: the Reason() of the first error in
//     Err's chain that has such a method, else Err.Error(); most frequent
//     first, ties by reason.
//
// Identity fields (Date, Backend, Model, ...) are left for the caller. Nil
// entries of results are skipped; results is kept as Report.Results, and
// the ITL's samples are read from its Events when a percentile is asked
// for (Summary.Percentile), not copied.
func Summarize(start, end time.Time, results []*Result, slo SLO) *Report {
	rep := &Report{
		Duration:      end.Sub(start),
		InputSources:  map[CountSource]int{},
		OutputSources: map[CountSource]int{},
		GoodputSLO:    slo,
		Results:       results,
	}
	// Presized: slack beyond the samples would stay with the Report.
	ttft := make([]time.Duration, 0, len(results))
	tpot := make([]time.Duration, 0, len(results))
	e2el := make([]time.Duration, 0, len(results))
	queue := make([]time.Duration, 0, len(results))
	var ttfo []time.Duration
	good := 0
	reasons := map[string]int{}
	examples := map[string]string{}
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Resent {
			rep.Resent++
		}
		if !r.OK() {
			rep.Failed++
			reason := resultReason(r)
			if reasons[reason] == 0 && r.Err != nil {
				examples[reason] = r.Err.Error()
			}
			reasons[reason]++
			continue
		}
		rep.Completed++
		if r.NoDone {
			rep.NoDone++
		}
		rep.TotalInputTokens += r.InputTokens
		rep.TotalOutputTokens += r.OutputTokens
		rep.InputSources[r.InputSource]++
		rep.OutputSources[r.OutputSource]++
		ttft = append(ttft, r.TTFT())
		e2el = append(e2el, r.E2EL())
		if r.OutputTokens > 1 {
			tpot = append(tpot, r.TPOT())
		}
		if !r.Scheduled.IsZero() {
			queue = append(queue, r.QueueDelay())
		}
		ttfo = rep.addReasoning(r, ttfo)
		if !slo.IsZero() && slo.Good(r) {
			good++
		}
	}
	rep.TTFT = summarize(ttft)
	rep.TPOT = summarize(tpot)
	rep.ITL = summarizeGaps(results)
	rep.E2EL = summarize(e2el)
	rep.Queue = summarize(queue)
	if rep.ReasoningRequests > 0 {
		rep.TTFO = summarize(ttfo)
	}
	rep.Errors = groupErrors(reasons, examples)

	if secs := rep.Duration.Seconds(); secs > 0 {
		rep.RequestThroughput = float64(rep.Completed) / secs
		rep.OutputThroughput = float64(rep.TotalOutputTokens) / secs
		rep.TotalTokenThroughput = float64(rep.TotalInputTokens+rep.TotalOutputTokens) / secs
		if !slo.IsZero() {
			rep.Goodput = float64(good) / secs
		}
	}
	rep.PeakOutputThroughput, rep.PeakConcurrency = peaks(start, end, results)
	rep.ClientLag = summarizeClientLag(results) // summarize_lag.go
	rep.Warnings = append(rep.failureWarnings(), rep.connectionWarnings()...)
	if w := rep.ClientLag.Warning(); w != nil {
		rep.Warnings = append(rep.Warnings, w)
	}
	return rep
}

// addReasoning adds the successful request r to the reasoning counts and
// returns ttfo with its TTFO appended when it had an answer token.
func (rep *Report) addReasoning(r *Result, ttfo []time.Duration) []time.Duration {
	noAnswer := r.FirstAnswer >= len(r.Events)
	if r.Reasoned() {
		rep.ReasoningRequests++
		if noAnswer {
			rep.ReasoningOnly++
		}
	}
	rep.TotalReasoningTokens += r.ReasoningTokens
	rep.TotalAnswerTokens += r.answerTokens()
	if r.ReasoningSource != SourceNone {
		if rep.ReasoningSources == nil {
			rep.ReasoningSources = map[CountSource]int{}
		}
		rep.ReasoningSources[r.ReasoningSource]++
	}
	if noAnswer {
		return ttfo
	}
	return append(ttfo, r.TTFO())
}

// maxFailureWarnings bounds the reasons failureWarnings quotes.
const maxFailureWarnings = 3

// failureWarnings quotes the first error of the most frequent failure
// reasons, so that the server's own words ("request (4200 tokens) exceeds
// the available context size") reach the user beside the grouped count
// ("HTTP 400: 4").
func (r *Report) failureWarnings() []error {
	var ws []error
	for _, e := range r.Errors[:min(len(r.Errors), maxFailureWarnings)] {
		if e.Example == "" || e.Example == e.Reason {
			continue
		}
		ws = append(ws, fmt.Errorf("servingbench: %s failed with %s; the first: %s",
			countText(e.Count), e.Reason, shortExample(e.Example)))
	}
	return ws
}

// shortExample keeps an error message on one line of at most 300 runes.
func shortExample(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const maxRunes = 300
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes-3]) + "..."
	}
	return s
}

// connectionWarnings explains Resent and NoDone, when not zero.
func (r *Report) connectionWarnings() []error {
	var ws []error
	if r.Resent > 0 {
		ws = append(ws, fmt.Errorf("servingbench: %s resent on a new connection because the server had closed "+
			"the pooled keep-alive connection before answering (not a server failure); TTFT counts from the first "+
			"send, and from then on every request opened its own connection", requestsText(r.Resent)))
	}
	if r.NoDone > 0 {
		ws = append(ws, fmt.Errorf("servingbench: %d of %d successful streams ended without data: [DONE] after "+
			"their finish_reason or usage; counted as complete, as vLLM counts them (OpenAIConfig.RequireDone, "+
			"--require-done, makes them failures)", r.NoDone, r.Completed))
	}
	return ws
}

// requestsText is "1 request was" or "N requests were".
func requestsText(n int) string {
	if n == 1 {
		return "1 request was"
	}
	return fmt.Sprintf("%d requests were", n)
}

// summarize sorts samples in place and describes them. Empty samples give
// the zero Summary with nil Samples.
func summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	return Summary{
		Count:   len(samples),
		Mean:    durationFromNS(stats.Mean(samples)),
		Median:  durationFromNS(stats.Median(samples)),
		Std:     durationFromNS(stats.Std(samples)),
		Samples: samples,
	}
}

func durationFromNS(ns float64) time.Duration { return time.Duration(math.Round(ns)) }

// resultReason is the grouping key of a failed request.
func resultReason(r *Result) string {
	if r.Err == nil {
		return "no token events"
	}
	return ErrorReason(r.Err)
}

// groupErrors orders reason counts most frequent first, ties by reason,
// each with its example message.
func groupErrors(reasons map[string]int, examples map[string]string) []ErrorCount {
	if len(reasons) == 0 {
		return nil
	}
	out := make([]ErrorCount, 0, len(reasons))
	for reason, n := range reasons {
		out = append(out, ErrorCount{Reason: reason, Count: n, Example: examples[reason]})
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	return out
}

// peaks returns the largest output tokens and the largest number of
// successful requests in flight over 1-second buckets from start; buckets
// past end are ignored.
func peaks(start, end time.Time, results []*Result) (tokensPerSecond float64, concurrency int) {
	n := 1
	if d := end.Sub(start); d > 0 {
		n = int(math.Ceil(d.Seconds())) + 1
	}
	tokens := make([]float64, n)
	inFlight := make([]int, n)
	bucket := func(t time.Time) float64 { return t.Sub(start).Seconds() }
	for _, r := range results {
		if r == nil || !r.OK() {
			continue
		}
		w := 1.0
		if r.OutputTokens > 0 {
			w = float64(r.OutputTokens) / float64(len(r.Events))
		}
		for _, ev := range r.Events {
			if b := bucket(r.Sent.Add(ev)); b >= 0 && int(b) < n {
				tokens[int(b)] += w
			}
		}
		// Like vLLM: seconds int(sent) up to ceil(last event), exclusive,
		// and at least the bucket the request started in.
		first := max(int(math.Floor(bucket(r.Sent))), 0)
		last := max(int(math.Ceil(bucket(r.LastEvent()))), first+1)
		for s := first; s < min(last, n); s++ {
			inFlight[s]++
		}
	}
	return slices.Max(tokens), slices.Max(inFlight)
}

// countText is "1 request" or "N requests".
func countText(n int) string {
	if n == 1 {
		return "1 request"
	}
	return fmt.Sprintf("%d requests", n)
}
