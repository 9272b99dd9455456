package htmlreport

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

var nan = math.NaN()

// maxCDFPoints bounds the points of one CDF line: a run of 1000 requests
// of 128 tokens has 127,000 ITL gaps.
const maxCDFPoints = 400

// maxTimelineRequests bounds the requests the timeline draws (the first by
// start time); the page says how many it left out.
const maxTimelineRequests = 1000

// Point is one (x, y) of a chart.
type Point struct{ X, Y float64 }

// CDF is the empirical distribution of values in milliseconds: the sorted
// values against the fraction of values at or below each, (i+1)/n; at most
// maxCDFPoints points, evenly spaced in rank, the first and last always
// kept. N is the number of values.
type CDF struct {
	N      int
	Points []Point
}

func cdf(ms []float64) CDF {
	slices.Sort(ms)
	n := len(ms)
	c := CDF{N: n}
	if n == 0 {
		return c
	}
	step := 1
	if n > maxCDFPoints {
		step = int(math.Ceil(float64(n) / maxCDFPoints))
	}
	for i := 0; i < n; i += step {
		c.Points = append(c.Points, Point{ms[i], float64(i+1) / float64(n)})
	}
	if last := c.Points[len(c.Points)-1]; last.Y != 1 {
		c.Points = append(c.Points, Point{ms[n-1], 1})
	}
	return c
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Metric names the four latency CDFs.
var cdfMetrics = []struct {
	Key, Title string
	Keys       []string // the per-request keys it needs
}{
	{"ttft", "Time to First Token", []string{"ttfts"}},
	{"tpot", "Time per Output Token (excl. 1st token)", []string{"ttfts", "latencies", "output_lens"}},
	{"itl", "Inter-token Latency", []string{"itls"}},
	{"e2el", "End-to-end Latency", []string{"latencies"}},
}

// CDF returns the distribution of metric (ttft, tpot, itl or e2el) over
// the run's successful requests, with vLLM's definitions: TTFT from ttfts,
// TPOT = (latency - ttft) / (output_len - 1) for requests of more than one
// output token, ITL every gap of itls, E2EL from latencies. ok is false
// (and a note added) when the file lacks a key it needs.
func (r *Run) CDF(metric string) (c CDF, ok bool) {
	i := slices.IndexFunc(cdfMetrics, func(m struct {
		Key, Title string
		Keys       []string
	}) bool {
		return m.Key == metric
	})
	if i < 0 || !r.need(cdfMetrics[i].Title+" CDF", cdfMetrics[i].Keys...) {
		return CDF{}, false
	}
	var ms []float64
	for _, res := range r.Report.Results {
		if !res.OK() {
			continue
		}
		switch metric {
		case "ttft":
			ms = append(ms, millis(res.TTFT()))
		case "tpot":
			if res.OutputTokens > 1 {
				ms = append(ms, millis(res.Done.Sub(res.Sent)-res.TTFT())/float64(res.OutputTokens-1))
			}
		case "itl":
			for _, g := range res.AppendITL(nil) {
				ms = append(ms, millis(g))
			}
		case "e2el":
			ms = append(ms, millis(res.Done.Sub(res.Sent)))
		}
	}
	return cdf(ms), true
}

// Span is one request of the timeline, in seconds on the run's clock:
// queued from Queue to Start (Queue == Start without a wait or without
// queue_times), prefill from Start to First (its TTFT), decode from First
// to End (its last token).
type Span struct {
	Index                    int
	Queue, Start, First, End float64
	InputTokens, Output      int
}

// Timeline returns the successful requests' spans, ordered by start, at
// most maxTimelineRequests; shown is how many, of total successful.
func (r *Run) Timeline() (spans []Span, total int, ok bool) {
	if !r.need("Request timeline", "start_times", "ttfts", "latencies") {
		return nil, 0, false
	}
	for _, res := range r.Report.Results {
		if !res.OK() {
			continue
		}
		start := res.Sent.Sub(r.t0).Seconds()
		q := start
		if r.has["queue_times"] && !res.Scheduled.IsZero() {
			q = res.Scheduled.Sub(r.t0).Seconds()
		}
		spans = append(spans, Span{
			Index: res.Index, Queue: q, Start: start,
			First: res.EventTime(0).Sub(r.t0).Seconds(), End: res.Done.Sub(r.t0).Seconds(),
			InputTokens: res.InputTokens, Output: res.OutputTokens,
		})
	}
	slices.SortStableFunc(spans, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	total = len(spans)
	return spans[:min(len(spans), maxTimelineRequests)], total, true
}

// buckets is the number of 1-second buckets of the run, as vLLM bench
// serve and servingbench count peaks: ceil(duration) + 1.
func (r *Run) buckets() int {
	if d := r.Report.Duration; d > 0 {
		return int(math.Ceil(d.Seconds())) + 1
	}
	return 1
}

// Throughput returns, per 1-second bucket from the run's start, the output
// tokens of token events in it and the successful requests active during
// it (in flight at some time in the second: with short requests more
// than --max-concurrency, which bounds those in flight at once; the
// page labels it so), as servingbench computes its peaks (so that their maxima
// are the file's max_output_tokens_per_s and max_concurrent_requests): a
// request's output_lens spread evenly over its events, and a request in
// flight from the second it was sent in up to the ceiling of its last
// event, at least one second.
func (r *Run) Throughput() (tokens, inFlight []float64, ok bool) {
	if !r.need("Output tokens and requests in flight over time", "start_times", "ttfts", "itls", "output_lens") {
		return nil, nil, false
	}
	n := r.buckets()
	tokens = make([]float64, n)
	inFlight = make([]float64, n)
	sec := func(t time.Time) float64 { return t.Sub(r.t0).Seconds() }
	for _, res := range r.Report.Results {
		if !res.OK() {
			continue
		}
		w := 1.0
		if res.OutputTokens > 0 {
			w = float64(res.OutputTokens) / float64(len(res.Events))
		}
		for _, ev := range res.Events {
			if b := sec(res.Sent.Add(ev)); b >= 0 && int(b) < n {
				tokens[int(b)] += w
			}
		}
		first := max(int(math.Floor(sec(res.Sent))), 0)
		last := max(int(math.Ceil(sec(res.LastEvent()))), first+1)
		for s := first; s < min(last, n); s++ {
			inFlight[s]++
		}
	}
	return tokens, inFlight, true
}

// maxReasons bounds the reasons the failures chart stacks; the rest are
// "other".
const maxReasons = 6

// ReasonSeries is the failures of one reason per second.
type ReasonSeries struct {
	Reason string
	Counts []float64
}

// Failures returns the failed requests per 1-second bucket of the second
// they were sent in, one series a reason (the file's error_counts reason
// that begins the request's error, else the error itself), most frequent
// first; nil when nothing failed.
func (r *Run) Failures() (series []ReasonSeries, ok bool) {
	if r.Report.Failed == 0 {
		return nil, true
	}
	if !r.need("Failures over time", "start_times", "errors") {
		return nil, false
	}
	var known []string
	for _, e := range r.Report.Errors {
		known = append(known, e.Reason)
	}
	// Longest first, so that "HTTP 503" is not taken for "HTTP 5".
	slices.SortFunc(known, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	n := r.buckets()
	byReason := map[string][]float64{}
	totals := map[string]int{}
	for _, res := range r.Report.Results {
		if res.OK() {
			continue
		}
		reason := "no token events"
		if res.Err != nil {
			reason = reasonOf(res.Err.Error(), known)
		}
		if byReason[reason] == nil {
			byReason[reason] = make([]float64, n)
		}
		b := min(max(int(res.Sent.Sub(r.t0).Seconds()), 0), n-1)
		byReason[reason][b]++
		totals[reason]++
	}
	reasons := slices.Collect(maps.Keys(byReason))
	slices.SortFunc(reasons, func(a, b string) int {
		if c := cmp.Compare(totals[b], totals[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for i, reason := range reasons {
		if i < maxReasons {
			series = append(series, ReasonSeries{reason, byReason[reason]})
			continue
		}
		if i == maxReasons {
			series = append(series, ReasonSeries{"other", make([]float64, n)})
		}
		for b, v := range byReason[reason] {
			series[maxReasons].Counts[b] += v
		}
	}
	return series, true
}

// reasonOf is the reason of known that msg is or begins with ("HTTP 503"
// for "HTTP 503: body"), else msg cut to 80 bytes.
func reasonOf(msg string, known []string) string {
	for _, k := range known {
		if msg == k || strings.HasPrefix(msg, k+":") || strings.HasPrefix(msg, k+" ") {
			return k
		}
	}
	if len(msg) > 80 {
		msg = strings.ToValidUTF8(msg[:80], "") + "…"
	}
	return msg
}

// summaryRow is one row of the summary table: a label and one formatted
// value a run ("" when the run does not have it).
type summaryRow struct {
	Metric, Unit string
	Values       []string
}

// summaryRows is the seed's comparison table (request, output and total
// token throughput, then mean, median and each percentile of TTFT, TPOT,
// ITL and E2EL), with the run's counts before it.
func summaryRows(runs []*Run) []summaryRow {
	var rows []summaryRow
	add := func(metric, unit string, f func(r *servingbench.Report) string) {
		row := summaryRow{Metric: metric, Unit: unit}
		for _, r := range runs {
			row.Values = append(row.Values, f(r.Report))
		}
		rows = append(rows, row)
	}
	num := func(v float64) string { return fmtFloat(v) }
	add("successful requests", "", func(r *servingbench.Report) string { return fmtInt(r.Completed) })
	add("failed requests", "", func(r *servingbench.Report) string { return fmtInt(r.Failed) })
	add("benchmark duration", "s", func(r *servingbench.Report) string { return num(r.Duration.Seconds()) })
	add("total input tokens", "", func(r *servingbench.Report) string { return fmtInt(r.TotalInputTokens) })
	add("total generated tokens", "", func(r *servingbench.Report) string { return fmtInt(r.TotalOutputTokens) })
	add("request throughput", "req/s", func(r *servingbench.Report) string { return num(r.RequestThroughput) })
	if slices.ContainsFunc(runs, func(r *Run) bool { return !r.Report.GoodputSLO.IsZero() }) {
		add("request goodput", "req/s", func(r *servingbench.Report) string {
			if r.GoodputSLO.IsZero() {
				return ""
			}
			return num(r.Goodput)
		})
	}
	add("output token throughput", "tok/s", func(r *servingbench.Report) string { return num(r.OutputThroughput) })
	add("total token throughput", "tok/s", func(r *servingbench.Report) string { return num(r.TotalTokenThroughput) })
	add("peak output token throughput", "tok/s", func(r *servingbench.Report) string { return num(r.PeakOutputThroughput) })
	add("peak concurrent requests", "", func(r *servingbench.Report) string { return fmtInt(r.PeakConcurrency) })
	pcts := map[float64]bool{}
	for _, r := range runs {
		for _, s := range []servingbench.Summary{r.Report.TTFT, r.Report.TPOT, r.Report.ITL, r.Report.E2EL} {
			for p := range s.Percentiles {
				pcts[p] = true
			}
		}
	}
	for _, m := range []struct {
		name string
		of   func(r *servingbench.Report) servingbench.Summary
	}{
		{"TTFT", func(r *servingbench.Report) servingbench.Summary { return r.TTFT }},
		{"TPOT", func(r *servingbench.Report) servingbench.Summary { return r.TPOT }},
		{"ITL", func(r *servingbench.Report) servingbench.Summary { return r.ITL }},
		{"E2EL", func(r *servingbench.Report) servingbench.Summary { return r.E2EL }},
	} {
		known := func(r *servingbench.Report) bool { s := m.of(r); return s.Count > 0 || s.Mean != 0 }
		if !slices.ContainsFunc(runs, func(r *Run) bool { return known(r.Report) }) {
			continue
		}
		add("mean "+m.name, "ms", func(r *servingbench.Report) string {
			if !known(r) {
				return ""
			}
			return num(millis(m.of(r).Mean))
		})
		add("median "+m.name, "ms", func(r *servingbench.Report) string {
			if !known(r) {
				return ""
			}
			return num(millis(m.of(r).Median))
		})
		for _, p := range slices.Sorted(maps.Keys(pcts)) {
			add("P"+pctWord(p)+" "+m.name, "ms", func(r *servingbench.Report) string {
				v, ok := m.of(r).Percentiles[p]
				if !ok || !known(r) {
					return ""
				}
				return num(millis(v))
			})
		}
	}
	return rows
}
