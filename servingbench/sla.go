package servingbench

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SLA is a set of limits a whole run must meet: bounds on latency
// statistics, minimum throughputs and maximum failures. Where an SLO (see
// SLO) judges single requests for goodput, an SLA judges a Report.
//
// The text form, read by ParseSLA and written by String, is a list of
// limits separated by spaces or commas:
//
//	ttft.p99<=500ms tpot.mean<=50ms goodput>=10 failed<=0
//
// The zero SLA has no limits and every Report meets it.
type SLA struct {
	Limits []Limit
}

// Metric names what a Limit bounds.
type Metric string

// Latency metrics take a statistic (ttft.p99); the others do not.
const (
	MetricTTFT  Metric = "ttft"  // Report.TTFT
	MetricTPOT  Metric = "tpot"  // Report.TPOT
	MetricITL   Metric = "itl"   // Report.ITL
	MetricE2EL  Metric = "e2el"  // Report.E2EL
	MetricQueue Metric = "queue" // Report.Queue
	MetricTTFO  Metric = "ttfo"  // Report.TTFO, reasoning models

	MetricThroughput       Metric = "throughput"        // Report.RequestThroughput, req/s
	MetricOutputThroughput Metric = "output_throughput" // Report.OutputThroughput, tok/s
	MetricTotalThroughput  Metric = "total_throughput"  // Report.TotalTokenThroughput, tok/s
	MetricGoodput          Metric = "goodput"           // Report.Goodput, req/s; needs Report.GoodputSLO
	MetricFailed           Metric = "failed"            // Report.Failed, a count
	MetricFailedRate       Metric = "failed_rate"       // Failed / (Completed + Failed), a fraction
)

// IsLatency reports whether m is a latency distribution, bounded through a
// statistic and a time.Duration.
func (m Metric) IsLatency() bool {
	_, ok := latencyMetricSLA(m)
	return ok
}

func (m Metric) known() bool {
	switch m {
	case MetricThroughput, MetricOutputThroughput, MetricTotalThroughput,
		MetricGoodput, MetricFailed, MetricFailedRate:
		return true
	}
	return m.IsLatency()
}

// unit is the unit a non-latency metric is printed with.
func (m Metric) unit() string {
	switch m {
	case MetricThroughput, MetricGoodput:
		return " req/s"
	case MetricOutputThroughput, MetricTotalThroughput:
		return " tok/s"
	}
	return ""
}

// Op is the comparison a Limit makes.
type Op int

const (
	// AtMost (<=) holds when the measured value is <= the limit.
	AtMost Op = iota
	// AtLeast (>=) holds when the measured value is >= the limit.
	AtLeast
)

func (o Op) String() string {
	switch o {
	case AtMost:
		return "<="
	case AtLeast:
		return ">="
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

func (o Op) holds(measured, limit float64) bool {
	if o == AtLeast {
		return measured >= limit
	}
	return measured <= limit
}

// Limit bounds one metric of a Report.
type Limit struct {
	Metric Metric
	// Stat selects the statistic of a latency metric: "mean", "median",
	// "std" (population) or "pNN" for the NN-th percentile with NN in
	// [0,100] ("p99", "p99.9"). Empty for the other metrics.
	Stat string
	Op   Op
	// Duration is the bound of a latency metric.
	Duration time.Duration
	// Value is the bound of the other metrics: requests or tokens per
	// second, a failure count, or a failure fraction in [0,1].
	Value float64
}

// Name returns the metric and statistic as written in an SLA: "ttft.p99",
// "goodput".
func (l Limit) Name() string {
	if l.Stat == "" {
		return string(l.Metric)
	}
	return string(l.Metric) + "." + l.Stat
}

// String returns the limit in ParseSLA's syntax: "ttft.p99<=500ms".
func (l Limit) String() string {
	return l.Name() + l.Op.String() + l.formatLimit()
}

func (l Limit) formatLimit() string {
	if l.Metric.IsLatency() {
		return l.Duration.String()
	}
	return strconv.FormatFloat(l.Value, 'g', -1, 64)
}

// validate reports what is wrong with l, naming the field.
func (l Limit) validate() error {
	switch {
	case !l.Metric.known():
		return fmt.Errorf("unknown Metric %q", l.Metric)
	case l.Op != AtMost && l.Op != AtLeast:
		return fmt.Errorf("%s: Op must be AtMost or AtLeast, got %v", l.Name(), l.Op)
	case l.Metric.IsLatency():
		if _, err := parseStat(l.Stat); err != nil {
			return fmt.Errorf("%s: Stat: %v", l.Name(), err)
		}
		if l.Duration < 0 {
			return fmt.Errorf("%s: Duration must be >= 0, got %v", l.Name(), l.Duration)
		}
	case l.Stat != "":
		return fmt.Errorf("%s: Stat must be empty for %s, got %q", l.Name(), l.Metric, l.Stat)
	case l.Value < 0 || math.IsNaN(l.Value):
		return fmt.Errorf("%s: Value must be >= 0, got %v", l.Name(), l.Value)
	case l.Metric == MetricFailedRate && l.Value > 1:
		return fmt.Errorf("%s: Value is a fraction in [0,1], got %v", l.Name(), l.Value)
	}
	return nil
}

// String returns the SLA in ParseSLA's syntax, limits separated by one
// space; ParseSLA(s.String()) gives s back.
func (s SLA) String() string {
	parts := make([]string, len(s.Limits))
	for i, l := range s.Limits {
		parts[i] = l.String()
	}
	return strings.Join(parts, " ")
}

var (
	slaSeparators = regexp.MustCompile(`\s*(<=|>=)\s*`)
	slaToken      = regexp.MustCompile(`^([^<>=]*)(<=|>=)(.*)$`)
)

// ParseSLA parses limits separated by spaces or commas. Each limit is
// NAME OP VALUE (spaces around OP are allowed) where
//
//   - NAME is a latency metric and statistic, METRIC.STAT, with METRIC one of
//     ttft, tpot, itl, e2el, queue, ttfo and STAT one of mean, median, std, pNN
//     (p99, p99.9); VALUE is a duration with a unit (ns, us, µs, ms, s;
//     Go's time.ParseDuration syntax: "500ms", "1.5s");
//   - or throughput (req/s), output_throughput (tok/s), total_throughput
//     (tok/s), goodput (req/s): VALUE is a plain number;
//   - or failed (a count) or failed_rate (a fraction): VALUE is a number or
//     a percentage; failed<=1% is failed_rate<=0.01;
//
// and OP is <= or >=. Errors name the bad token and say what was expected.
func ParseSLA(text string) (SLA, error) {
	text = slaSeparators.ReplaceAllString(text, "$1")
	var sla SLA
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || unicode.IsSpace(r)
	}) {
		l, err := parseLimit(tok)
		if err != nil {
			return SLA{}, fmt.Errorf("servingbench: SLA limit %q: %w", tok, err)
		}
		sla.Limits = append(sla.Limits, l)
	}
	return sla, nil
}

// MustParseSLA is ParseSLA that panics on error, for tests and package
// variables.
func MustParseSLA(text string) SLA {
	s, err := ParseSLA(text)
	if err != nil {
		panic(err)
	}
	return s
}

func parseLimit(tok string) (Limit, error) {
	m := slaToken.FindStringSubmatch(tok)
	if m == nil {
		if strings.ContainsAny(tok, "<>=") {
			return Limit{}, errors.New("want operator <= or >=")
		}
		return Limit{}, errors.New("want NAME<=VALUE or NAME>=VALUE, e.g. ttft.p99<=500ms")
	}
	name, op, value := m[1], m[2], m[3]
	var l Limit
	if op == ">=" {
		l.Op = AtLeast
	}
	metric, stat, hasStat := strings.Cut(name, ".")
	l.Metric = Metric(metric)
	switch {
	case name == "":
		return Limit{}, errors.New("missing metric name before " + op)
	case !l.Metric.known():
		return Limit{}, fmt.Errorf("unknown metric %q, want one of ttft, tpot, itl, e2el, queue, ttfo, "+
			"throughput, output_throughput, total_throughput, goodput, failed, failed_rate", metric)
	case l.Metric.IsLatency() && !hasStat:
		return Limit{}, fmt.Errorf("latency metric %q needs a statistic: %s.mean, .median, .std or .pNN", metric, metric)
	case !l.Metric.IsLatency() && hasStat:
		return Limit{}, fmt.Errorf("metric %q takes no statistic, got %q", metric, stat)
	case value == "":
		return Limit{}, errors.New("missing value after " + op)
	}
	if l.Metric.IsLatency() {
		if _, err := parseStat(stat); err != nil {
			return Limit{}, err
		}
		l.Stat = stat
		d, err := parseSLADuration(value)
		if err != nil {
			return Limit{}, err
		}
		l.Duration = d
		return l, nil
	}
	v, err := parseSLAValue(l.Metric, value)
	if err != nil {
		return Limit{}, err
	}
	if l.Metric == MetricFailed && strings.HasSuffix(value, "%") {
		l.Metric = MetricFailedRate
	}
	l.Value = v
	return l, l.validate()
}

// parseStat returns the percentile of a "pNN" statistic, or -1 for mean,
// median and std.
func parseStat(stat string) (float64, error) {
	switch stat {
	case "mean", "median", "std":
		return -1, nil
	}
	if rest, ok := strings.CutPrefix(stat, "p"); ok && rest != "" {
		p, err := strconv.ParseFloat(rest, 64)
		if err == nil && p >= 0 && p <= 100 {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown statistic %q, want mean, median, std or pNN with NN in [0,100] (p99, p99.9)", stat)
}

func parseSLADuration(value string) (time.Duration, error) {
	if _, err := strconv.ParseFloat(value, 64); err == nil {
		return 0, fmt.Errorf("value %q needs a unit: ns, us, µs, ms or s", value)
	}
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("value %q is not a duration >= 0 such as 500ms or 1.5s", value)
	}
	return d, nil
}

func parseSLAValue(m Metric, value string) (float64, error) {
	num, percent := strings.CutSuffix(value, "%")
	if percent && m != MetricFailed && m != MetricFailedRate {
		return 0, fmt.Errorf("value %q: a percentage is only valid for failed and failed_rate", value)
	}
	if percent {
		num += "e-2" // 0.1% parses exactly as 0.001
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("value %q is not a number >= 0", value)
	}
	if m == MetricFailed && !percent && v != math.Trunc(v) {
		return 0, fmt.Errorf("value %q: failed is a count; use failed_rate or a percentage for a fraction", value)
	}
	return v, nil
}

// Violation is one limit a Report does not meet.
type Violation struct {
	Limit Limit
	// Duration (latency metrics) or Value (the others) is the measured
	// value; both are zero when Unknown is set.
	Duration time.Duration
	Value    float64
	// Unknown, when not empty, says why the metric could not be measured:
	// a percentile missing from a summary file, goodput without SLOs, an
	// empty distribution, an invalid limit. An unknown value violates.
	Unknown string
}

// String describes the violation: "ttft.p99 = 612.3ms, want <= 500ms".
func (v Violation) String() string {
	want := ", want " + v.Limit.Op.String() + " "
	if v.Unknown != "" {
		return v.Limit.Name() + " unknown: " + v.Unknown
	}
	if v.Limit.Metric.IsLatency() {
		return v.Limit.Name() + " = " + round4Digits(v.Duration).String() + want + v.Limit.Duration.String()
	}
	u := v.Limit.Metric.unit()
	return v.Limit.Name() + " = " + strconv.FormatFloat(v.Value, 'g', 4, 64) + u + want + v.Limit.formatLimit() + u
}

// round4Digits keeps 4 significant digits: 612.3ms.
func round4Digits(d time.Duration) time.Duration {
	m := time.Duration(1)
	for a := d.Abs(); a >= 10000*m; m *= 10 {
	}
	return d.Round(m)
}

// SLAError is the error Check returns; it lists every violation.
type SLAError struct {
	Violations []Violation
}

func (e *SLAError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "servingbench: SLA not met, %d violation", len(e.Violations))
	if len(e.Violations) != 1 {
		b.WriteString("s")
	}
	b.WriteString(":")
	for _, v := range e.Violations {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return b.String()
}

// Check returns nil when r meets every limit, else an *SLAError listing
// every violation.
func (s SLA) Check(r *Report) error {
	if v := s.Violations(r); len(v) > 0 {
		return &SLAError{Violations: v}
	}
	return nil
}

// Violations returns the limits r does not meet, in the SLA's order. A
// limit whose metric is unknown for r (see Violation.Unknown) is a
// violation; a nil r violates every limit.
func (s SLA) Violations(r *Report) []Violation {
	var out []Violation
	for _, l := range s.Limits {
		v := Violation{Limit: l}
		if err := l.validate(); err != nil {
			v.Unknown = "invalid limit: " + err.Error()
			out = append(out, v)
			continue
		}
		if r == nil {
			v.Unknown = "no report"
			out = append(out, v)
			continue
		}
		if l.Metric.IsLatency() {
			v.Duration, v.Unknown = latencyStat(r, l)
			if v.Unknown != "" || !l.Op.holds(float64(v.Duration), float64(l.Duration)) {
				out = append(out, v)
			}
			continue
		}
		v.Value, v.Unknown = reportValue(r, l.Metric)
		if v.Unknown != "" || !l.Op.holds(v.Value, l.Value) {
			out = append(out, v)
		}
	}
	return out
}

func latencyStat(r *Report, l Limit) (time.Duration, string) {
	var s Summary
	if m, ok := latencyMetricSLA(l.Metric); ok {
		s = m.Of(r)
	}
	if s.Count == 0 && len(s.Samples) == 0 && len(s.Percentiles) == 0 && s.Mean == 0 && s.Median == 0 {
		return 0, "no samples"
	}
	switch l.Stat {
	case "mean":
		return s.Mean, ""
	case "median":
		return s.Median, ""
	case "std":
		return s.Std, ""
	}
	p, _ := parseStat(l.Stat)
	d, ok := s.Percentile(p)
	if !ok {
		return 0, "the report has no samples and no " + l.Stat
	}
	return d, ""
}

func reportValue(r *Report, m Metric) (float64, string) {
	switch m {
	case MetricThroughput:
		return r.RequestThroughput, ""
	case MetricOutputThroughput:
		return r.OutputThroughput, ""
	case MetricTotalThroughput:
		return r.TotalTokenThroughput, ""
	case MetricGoodput:
		if r.GoodputSLO.IsZero() {
			return 0, "the report has no goodput SLO (set Config.Goodput)"
		}
		return r.Goodput, ""
	case MetricFailed:
		return float64(r.Failed), ""
	case MetricFailedRate:
		if n := r.Completed + r.Failed; n > 0 {
			return float64(r.Failed) / float64(n), ""
		}
		return 0, ""
	}
	return 0, "unknown metric"
}
