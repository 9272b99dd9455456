package capacity

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// WriteText writes the result for a terminal: the capacity, how the search
// went, a table of the points in the order tried (load, verdict, runs, the
// judged run's value for every limit, request and output throughput), then
// the first failing point (the Limiting one) with the limits it violated
// and by how much, and the points whose runs disagreed.
func (r *SearchResult) WriteText(w io.Writer) error {
	var b strings.Builder
	d := r.Dimension
	unit := ""
	if d == RequestRate {
		unit = " req/s"
	}
	switch {
	case r.Best() == nil:
		fmt.Fprintf(&b, "Capacity (%s): 0 (no load tried met the SLA)\n", d)
	case r.AtLeast:
		fmt.Fprintf(&b, "Capacity (%s): at least %s%s\n", d, formatValue(d, r.Capacity), unit)
	default:
		fmt.Fprintf(&b, "Capacity (%s): %s%s\n", d, formatValue(d, r.Capacity), unit)
	}
	fmt.Fprintf(&b, "SLA: %s\n", r.SLA)
	fmt.Fprintf(&b, "Search: %s, %d points, %d requests a point, %s, stopped: %s\n",
		d, len(r.Points), r.Requests, r.resolutionText(), r.Stop)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := []string{"#", d.String(), "verdict", "runs"}
	for _, l := range r.SLA.Limits {
		if l.Metric.IsLatency() {
			header = append(header, l.Name()+" (ms)")
		} else {
			header = append(header, l.Name())
		}
	}
	header = append(header, "req/s", "out tok/s")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := range r.Points {
		p := &r.Points[i]
		verdict := verdictWord(p.Pass)
		if p.Flipped {
			verdict += " (flipped)"
		}
		row := []string{strconv.Itoa(i + 1), formatValue(d, p.Value), verdict, strconv.Itoa(len(p.Trials))}
		for _, m := range p.Measurements() {
			row = append(row, measurementText(m))
		}
		rep := p.Report()
		row = append(row, strconv.FormatFloat(rep.RequestThroughput, 'f', 2, 64), strconv.FormatFloat(rep.OutputThroughput, 'f', 2, 64))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	if reason := r.Reason(); reason != "" {
		fmt.Fprintf(&b, "First failing point: %s\n", reason)
	}
	for i := range r.Points {
		if p := &r.Points[i]; p.Flipped {
			passes := 0
			for _, t := range p.Trials {
				if t.Pass {
					passes++
				}
			}
			fmt.Fprintf(&b, "Flipped: %s=%s passed %d of %d runs (a value within %g%% of a limit), judged %s\n",
				d, formatValue(d, p.Value), passes, len(p.Trials), 100*r.Noise, verdictWord(p.Pass))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *SearchResult) resolutionText() string {
	if r.Dimension == MaxConcurrency && r.Resolution == 0 {
		return "resolution 1"
	}
	return "resolution " + strconv.FormatFloat(100*r.Resolution, 'g', -1, 64) + "%"
}

// measurementText is a measured value for a table cell: milliseconds for
// a latency, else 4 significant digits; "?" when unknown.
func measurementText(m Measurement) string {
	if m.Unknown != "" {
		return "?"
	}
	if m.Limit.Metric.IsLatency() {
		return msText(time.Duration(m.Value))
	}
	return strconv.FormatFloat(m.Value, 'g', 4, 64)
}

func msText(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// TableOptions select what SweepResult.WriteTable prints; the zero value
// prints p99.
type TableOptions struct {
	// Percentile is printed beside each latency's mean; 0 means 99.
	Percentile float64
}

// WriteTable writes a row per point: its load (rate, concurrency,
// requests), request and output token throughput, the mean and the
// percentile of TTFT, TPOT, ITL and E2EL in milliseconds, the goodput when
// a point had SLOs, and the failed requests. A partial report is marked.
func (s *SweepResult) WriteTable(w io.Writer, opt TableOptions) error {
	p := opt.Percentile
	if p == 0 {
		p = 99
	}
	if math.IsNaN(p) || p < 0 || p > 100 {
		return fmt.Errorf("capacity: TableOptions.Percentile must be in [0,100], got %v", p)
	}
	pw := "p" + strconv.FormatFloat(p, 'g', -1, 64)
	goodput := false
	for _, pt := range s.Points {
		goodput = goodput || !pt.Report.GoodputSLO.IsZero()
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := []string{"rate", "concurrency", "requests", "req/s", "out tok/s"}
	for _, m := range []string{"ttft", "tpot", "itl", "e2el"} {
		header = append(header, m+" mean", m+" "+pw)
	}
	if goodput {
		header = append(header, "goodput")
	}
	header = append(header, "failed")
	rows := s.Points
	if s.Interrupted != nil && s.Interrupted.Report != nil {
		rows = append(rows[:len(rows):len(rows)], *s.Interrupted)
	}
	partial := false
	for _, pt := range rows {
		partial = partial || pt.Report.Partial
	}
	if partial {
		header = append(header, "")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, pt := range rows {
		rep := pt.Report
		concurrency := "-"
		if pt.Load.Concurrency > 0 {
			concurrency = strconv.Itoa(pt.Load.Concurrency)
		}
		row := []string{formatRate(pt.Load.Rate), concurrency, strconv.Itoa(rep.NumPrompts),
			strconv.FormatFloat(rep.RequestThroughput, 'f', 2, 64), strconv.FormatFloat(rep.OutputThroughput, 'f', 2, 64)}
		for _, sum := range []servingbench.Summary{rep.TTFT, rep.TPOT, rep.ITL, rep.E2EL} {
			v, _ := sum.Percentile(p)
			row = append(row, msText(sum.Mean), msText(v))
		}
		if goodput {
			g := "-"
			if !rep.GoodputSLO.IsZero() {
				g = strconv.FormatFloat(rep.Goodput, 'f', 2, 64)
			}
			row = append(row, g)
		}
		row = append(row, strconv.Itoa(rep.Failed))
		if rep.Partial {
			row = append(row, "(partial)")
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
