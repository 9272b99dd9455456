package servingbench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TextOptions selects what WriteText prints. The zero value prints what
// vLLM prints by default.
type TextOptions struct {
	// Metrics are the latency sections to print, any of "ttft", "tpot",
	// "itl" and "e2el"; they always print in that order. Nil or empty means
	// vLLM's default ttft, tpot, itl.
	Metrics []string
	// Percentiles are printed, in the order given, as P<p> lines of every
	// section; each in [0,100]. Nil or empty means {99}.
	Percentiles []float64
}

var (
	defaultTextMetrics = defaultLatencyKeys()
	defaultPercentiles = []float64{99}
)

// maxReasonLines bounds the error reasons WriteText lists one a line.
const maxReasonLines = 10

// WriteText prints r as vLLM v0.9.1's benchmark_serving.py does, byte for
// byte (the Python format "{:<40} {:<10}" pads values with trailing spaces):
// the " Serving Benchmark Result " block with its totals and throughputs,
// "Request goodput (req/s):" when r.GoodputSLO is set, and one section a
// selected metric with Mean, Median and P<p> lines in milliseconds.
//
// Lines v0.9.1 lacks follow, inside the block, only when they carry
// information: for a run that saw reasoning output (r.ReasoningRequests >
// 0) a "Time to First Output Token" section (TTFO, the first answer token),
// a "Client-side Queueing" section (vLLM bench serve's name) when r.Queue
// has samples, for a reasoning run a "Reasoning" section (the requests
// that reasoned and those that gave no answer token, total and mean
// reasoning and answer tokens a successful request, the sources of the
// split), for a run of conversations its sections (conversation_text.go),
// then a "Run Details" section with the failed
// requests and their reasons (most frequent first, at most 10 lines), the
// requests resent on a new connection (Report.Resent), the streams that
// ended without [DONE] (Report.NoDone), the maximum request concurrency,
// a ramp-up's strategy and rates (Report.Ramp; "Ramp-up RPS reached:"
// too when the run was cut short), the peak output token throughput and
// concurrent requests (formatted as vLLM bench serve does), the sources of
// the token counts and "Partial: yes (cancelled)", then for a run with
// kernel receive timestamps a "Client Lag" section (Report.ClientLag: the
// source of the event times, the lag's P50, P99 and Max, and the warning
// of a lag P99 above ClientLagThreshold), then the server's own
// metrics when they were scraped (Report.ServerMetrics: a "Server
// Metrics" section, see serverMetricsText). A percentile a
// summary-only Report does not know prints as "n/a".
func WriteText(w io.Writer, r *Report, opt TextOptions) error {
	metrics, percentiles, err := opt.resolve()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(centre(" Serving Benchmark Result ", '=') + "\n")
	intLine(&b, "Successful requests:", r.Completed)
	floatLine(&b, "Benchmark duration (s):", r.Duration.Seconds())
	intLine(&b, "Total input tokens:", r.TotalInputTokens)
	intLine(&b, "Total generated tokens:", r.TotalOutputTokens)
	floatLine(&b, "Request throughput (req/s):", r.RequestThroughput)
	if !r.GoodputSLO.IsZero() {
		floatLine(&b, "Request goodput (req/s):", r.Goodput)
	}
	floatLine(&b, "Output token throughput (tok/s):", r.OutputThroughput)
	floatLine(&b, "Total Token throughput (tok/s):", r.TotalTokenThroughput)
	for _, m := range latencyMetrics {
		if m.VLLM && slices.Contains(metrics, m.Key) || !m.VLLM && m.Of(r).Count > 0 {
			section(&b, m.Header, m.Name, m.Of(r), percentiles)
		}
	}
	reasoning(&b, r)
	conversations(&b, r) // conversation_text.go
	details(&b, r)
	clientLagText(&b, r) // textreport_lag.go
	serverMetricsText(&b, r)
	b.WriteString(strings.Repeat("=", 50) + "\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// resolve applies the defaults and validates the options.
func (o TextOptions) resolve() (metrics []string, percentiles []float64, err error) {
	metrics, percentiles = o.Metrics, o.Percentiles
	if len(metrics) == 0 {
		metrics = defaultTextMetrics
	}
	for _, m := range metrics {
		if lm, ok := latencyMetric(m); !ok || !lm.VLLM {
			return nil, nil, fmt.Errorf("servingbench: TextOptions.Metrics: unknown metric %q (want ttft, tpot, itl or e2el)", m)
		}
	}
	percentiles, err = resolvePercentiles("TextOptions", percentiles)
	return metrics, percentiles, err
}

// resolvePercentiles applies the default {99} and checks the range.
func resolvePercentiles(owner string, ps []float64) ([]float64, error) {
	if len(ps) == 0 {
		return defaultPercentiles, nil
	}
	for _, p := range ps {
		if !(p >= 0 && p <= 100) {
			return nil, fmt.Errorf("servingbench: %s.Percentiles: %v is not in [0,100]", owner, p)
		}
	}
	return ps, nil
}

// section prints one "-" rule and the Mean, Median and P<p> lines.
func section(b *strings.Builder, header, name string, s Summary, percentiles []float64) {
	b.WriteString(centre(header, '-') + "\n")
	floatLine(b, "Mean "+name+" (ms):", durationMS(s.Mean))
	floatLine(b, "Median "+name+" (ms):", durationMS(s.Median))
	for _, p := range percentiles {
		label := "P" + percentileWord(p) + " " + name + " (ms):"
		if v, ok := s.Percentile(p); ok {
			floatLine(b, label, durationMS(v))
		} else {
			valueLine(b, label, "n/a")
		}
	}
}

// reasoning prints the reasoning counts under a "Reasoning" rule, for a
// run that saw reasoning output.
func reasoning(b *strings.Builder, r *Report) {
	if r.ReasoningRequests == 0 {
		return
	}
	b.WriteString(centre("Reasoning", '-') + "\n")
	intLine(b, "Requests with reasoning:", r.ReasoningRequests)
	if r.ReasoningOnly > 0 {
		intLine(b, "Requests without an answer token:", r.ReasoningOnly)
	}
	intLine(b, "Total reasoning tokens:", r.TotalReasoningTokens)
	intLine(b, "Total answer tokens:", r.TotalAnswerTokens)
	floatLine(b, "Mean reasoning tokens:", r.MeanReasoningTokens())
	floatLine(b, "Mean answer tokens:", r.MeanAnswerTokens())
	if len(r.ReasoningSources) > 0 {
		valueLine(b, "Reasoning token counts from:", sourcesText(r.ReasoningSources))
	}
}

// details prints the lines vLLM v0.9.1 lacks, under a "Run Details" rule,
// when there is any.
func details(b *strings.Builder, r *Report) {
	var d strings.Builder
	if r.Failed > 0 {
		intLine(&d, "Failed requests:", r.Failed)
		for i, e := range r.Errors {
			if i == maxReasonLines-1 && len(r.Errors) > maxReasonLines {
				rest := 0
				for _, e := range r.Errors[i:] {
					rest += e.Count
				}
				intLine(&d, fmt.Sprintf("  (%d other reasons):", len(r.Errors)-i), rest)
				break
			}
			intLine(&d, "  "+shortReason(e.Reason)+":", e.Count)
		}
	}
	if r.Resent > 0 {
		intLine(&d, "Resent on a new connection:", r.Resent)
	}
	if r.NoDone > 0 {
		intLine(&d, "Streams ended without [DONE]:", r.NoDone)
	}
	if r.MaxConcurrency > 0 {
		intLine(&d, "Maximum request concurrency:", r.MaxConcurrency)
	}
	if r.Ramp != nil {
		valueLine(&d, "Ramp-up strategy:", r.Ramp.Strategy.String())
		valueLine(&d, "Ramp-up RPS:", rpsNumber(r.Ramp.Start)+" to "+rpsNumber(r.Ramp.End))
		if n := len(r.RPSChanges); r.Partial && n > 0 {
			intLine(&d, "Ramp-up RPS reached:", r.RPSChanges[n-1].RPS)
		}
	}
	if r.PeakOutputThroughput > 0 {
		floatLine(&d, "Peak output token throughput (tok/s):", r.PeakOutputThroughput)
	}
	if r.PeakConcurrency > 0 {
		floatLine(&d, "Peak concurrent requests:", float64(r.PeakConcurrency))
	}
	if len(r.InputSources) > 0 {
		valueLine(&d, "Input token counts from:", sourcesText(r.InputSources))
	}
	if len(r.OutputSources) > 0 {
		valueLine(&d, "Output token counts from:", sourcesText(r.OutputSources))
	}
	if r.Partial {
		valueLine(&d, "Partial:", "yes (cancelled)")
	}
	if d.Len() > 0 {
		b.WriteString(centre("Run Details", '-') + "\n")
		b.WriteString(d.String())
	}
}

// shortReason keeps a reason on one line of reasonable length.
func shortReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const maxRunes = 60
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes-3]) + "..."
	}
	return s
}

// sourcesText is "usage" for a single source, else "usage 600, tokenizer
// 40" in CountSource order.
func sourcesText(m map[CountSource]int) string {
	keys := make([]CountSource, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 1 {
		return keys[0].String()
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func durationMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// centre is Python's "{s:{c}^{n}}".format with n = 50: extra padding goes
// to the right.
func centre(s string, fill byte) string {
	pad := 50 - utf8.RuneCountInString(s)
	if pad <= 0 {
		return s
	}
	left := pad / 2
	return strings.Repeat(string(fill), left) + s + strings.Repeat(string(fill), pad-left)
}

// valueLine is Python's "{:<40} {:<10}".format(label, value).
func valueLine(b *strings.Builder, label, value string) {
	b.WriteString(padRight(label, 40))
	b.WriteByte(' ')
	b.WriteString(padRight(value, 10))
	b.WriteByte('\n')
}

func intLine(b *strings.Builder, label string, v int) { valueLine(b, label, strconv.Itoa(v)) }

// floatLine is Python's "{:<40} {:<10.2f}".format(label, v).
func floatLine(b *strings.Builder, label string, v float64) { valueLine(b, label, pyFixed2(v)) }

// padRight left-justifies s in width code points, never truncating.
func padRight(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// pyFixed2 is Python's format(v, ".2f"), including "nan" and "inf".
func pyFixed2(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// percentileWord is vLLM's p_word: str(int(p)) if int(p) == p else str(p).
func percentileWord(p float64) string {
	if p == math.Trunc(p) && math.Abs(p) < 1e15 {
		return strconv.FormatInt(int64(p), 10)
	}
	return pyRepr(p)
}

// pyRepr is Python's repr of a float (also what json.dump writes): the
// shortest round-tripping digits, positional for exponents in [-4, 16)
// with at least one decimal ("8.0"), scientific otherwise ("1e-05",
// "1.5e+16"); "nan", "inf" and "-inf" for the non-finite values.
func pyRepr(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp)
}
