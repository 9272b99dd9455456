package gate

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// Verdict is the outcome of comparing one metric.
type Verdict int

const (
	// Same: no significant change, or one smaller than MinChange.
	Same Verdict = iota
	// Improvement: a significant change larger than MinChange in the
	// better direction.
	Improvement
	// Regression: a significant change larger than MinChange in the worse
	// direction.
	Regression
	// Changed: a significant change larger than MinChange in a unit
	// whose direction is unknown; never a failure.
	Changed
)

func (v Verdict) String() string {
	switch v {
	case Same:
		return "~"
	case Improvement:
		return "improvement"
	case Regression:
		return "REGRESSION"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Estimate is the center of one sample with its confidence interval, in
// the row's TidyUnit.
type Estimate struct {
	Center, Lo, Hi float64
	// Confidence is the interval's actual level (>= the one asked).
	Confidence float64
	N          int
}

// PctRange formats the half-width of the interval relative to the center,
// as benchstat does: "2%", or "∞" when there are too few samples.
func (e Estimate) PctRange() string {
	return benchmath.Summary{Center: e.Center, Lo: e.Lo, Hi: e.Hi}.PctRangeString()
}

// Row compares one metric of one benchmark.
type Row struct {
	// Config is the file configuration the row's results share, one
	// "key: value" line each ("goos: linux"), in file order.
	Config []string
	// Benchmark is the full name without the "Benchmark" prefix,
	// sub-benchmark keys and GOMAXPROCS suffix included: "Serving/rate=8-4".
	Benchmark string
	// Unit is the unit as written in the files ("ttft-p99-ns"); TidyUnit is
	// benchfmt's base unit ("ttft-p99-sec") in which Old and New are given.
	Unit, TidyUnit string
	Better         Better
	// Old and New are the medians with confidence intervals (or the
	// exact values for units with assume=exact metadata).
	Old, New Estimate
	// Delta is (New.Center - Old.Center) / Old.Center; ±Inf when only the
	// old center is 0.
	Delta float64
	// P is the Mann-Whitney U test's p-value; the change is significant
	// when P < Alpha.
	P       float64
	Verdict Verdict
	// Warnings are benchmath's notes, e.g. too few samples.
	Warnings []error
	// OldSide and NewSide are the build and server the old and new samples
	// come from (zero when the inputs name none); side keys that are not
	// matched (CompareOptions.Match) may differ between them.
	OldSide, NewSide Side
}

// Comparison is the outcome of CompareBaseline.
type Comparison struct {
	Rows []Row
	// OldSides and NewSides are the builds and servers each input's
	// results (those Filter keeps) come from, in order of first
	// appearance: one Side each, the zero Side for an input without label
	// or server-id lines.
	OldSides, NewSides []Side
	// Notes are what a reader must know before reading the rows: old and
	// new results of identical configuration and label, or both
	// unlabelled, from different servers (see ServerNote). One note per
	// pair of sides.
	Notes []ServerNote
	// Warnings are diagnostics that are not failures: too few samples,
	// benchmarks present in one input only.
	Warnings []error

	opt CompareOptions
}

// Regressions returns the rows whose Verdict is Regression.
func (c *Comparison) Regressions() []Row {
	var out []Row
	for _, r := range c.Rows {
		if r.Verdict == Regression {
			out = append(out, r)
		}
	}
	return out
}

// Err returns nil when there is no regression, else a *RegressionError
// listing every one.
func (c *Comparison) Err() error {
	if r := c.Regressions(); len(r) > 0 {
		return &RegressionError{Regressions: r, Alpha: c.opt.Alpha, MinChange: c.opt.MinChange}
	}
	return nil
}

// RegressionError lists the significant regressions of a Comparison.
type RegressionError struct {
	Regressions      []Row
	Alpha, MinChange float64
}

func (e *RegressionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gate: %d regression", len(e.Regressions))
	if len(e.Regressions) != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " (p < %v, change > %v%%):", e.Alpha, 100*e.MinChange)
	for _, r := range e.Regressions {
		fmt.Fprintf(&b, "\n\t%s %s: %s (%s -> %s, %s, p=%.3f n=%s)", r.Benchmark, r.Unit, formatDelta(r.Delta),
			formatValue(r.Old.Center, r.TidyUnit), formatValue(r.New.Center, r.TidyUnit), r.Better, r.P, formatN(r.Old.N, r.New.N))
	}
	return b.String()
}

// WriteTable prints the comparison as benchstat does: a table per file
// configuration and unit, with medians scaled by benchunit (-ns units as
// seconds with an SI prefix), ± the confidence interval, the change or "~"
// when it is not significant, the p-value and sample counts, and a verdict
// column marking REGRESSION, improvement or changed (unknown direction).
// When an input names its build or server, the tables follow one line per
// side ("old: q8.txt, label q8_0, server-id 3fa9c2e1b7d0 (...)") and the
// Notes ("note: ..."); Warnings follow the tables.
func (c *Comparison) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	if c.namesSides() {
		for _, s := range c.OldSides {
			fmt.Fprintln(&buf, describeSide("old", c.opt.OldLabel, s))
		}
		for _, s := range c.NewSides {
			fmt.Fprintln(&buf, describeSide("new", c.opt.NewLabel, s))
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintln(&buf, "note: "+n.String())
	}
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	prevConfig := "\x00"
	for _, block := range c.blocks() {
		first := block[0]
		if cfg := strings.Join(first.Config, "\n"); cfg != prevConfig {
			if prevConfig != "\x00" {
				fmt.Fprintln(tw)
			}
			for _, l := range first.Config {
				fmt.Fprintln(tw, l)
			}
			prevConfig = cfg
		} else {
			fmt.Fprintln(tw)
		}
		var centers []float64
		for _, r := range block {
			centers = append(centers, r.Old.Center, r.New.Center)
		}
		scale := benchunit.CommonScale(centers, benchunit.ClassOf(first.TidyUnit))
		fmt.Fprintf(tw, "\t%s\t%s\t\t\n", c.opt.OldLabel, c.opt.NewLabel)
		fmt.Fprintf(tw, "\t%s\t%s\tvs base\t%s\n", first.TidyUnit, first.TidyUnit, first.Better)
		for _, r := range block {
			delta := "~"
			if r.P < c.opt.Alpha {
				delta = formatDelta(r.Delta)
			}
			verdict := r.Verdict.String()
			if r.Verdict == Same {
				verdict = ""
			}
			fmt.Fprintf(tw, "%s\t%s ± %s\t%s ± %s\t%s (p=%.3f n=%s)\t%s\n", r.Benchmark,
				scale.Format(r.Old.Center), r.Old.PctRange(), scale.Format(r.New.Center), r.New.PctRange(),
				delta, r.P, formatN(r.Old.N, r.New.N), verdict)
		}
	}
	if len(c.Warnings) > 0 {
		fmt.Fprintln(tw)
		for _, e := range c.Warnings {
			fmt.Fprintln(tw, "warning: "+e.Error())
		}
	}
	if n := len(c.Regressions()); n > 0 {
		fmt.Fprintf(tw, "\n%d REGRESSION(S): significant (p < %v) and worse by more than %v%%\n", n, c.opt.Alpha, 100*c.opt.MinChange)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Drop the padding tabwriter leaves after an empty last cell; every
	// line ends in a newline.
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// namesSides reports whether either input names a label or server.
func (c *Comparison) namesSides() bool {
	return slices.ContainsFunc(c.OldSides, func(s Side) bool { return !s.IsZero() }) ||
		slices.ContainsFunc(c.NewSides, func(s Side) bool { return !s.IsZero() })
}

// blocks splits the rows into tables by configuration and unit, each in
// order of first appearance.
func (c *Comparison) blocks() [][]Row {
	type blockKey struct{ config, unit string }
	var order []blockKey
	byKey := map[blockKey][]Row{}
	for _, r := range c.Rows {
		k := blockKey{strings.Join(r.Config, "\n"), r.TidyUnit}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	// Keep a configuration's tables together.
	slices.SortStableFunc(order, func(a, b blockKey) int {
		return slices.IndexFunc(order, func(k blockKey) bool { return k.config == a.config }) -
			slices.IndexFunc(order, func(k blockKey) bool { return k.config == b.config })
	})
	out := make([][]Row, len(order))
	for i, k := range order {
		out[i] = byKey[k]
	}
	return out
}

func formatDelta(d float64) string {
	if math.IsInf(d, 0) {
		return fmt.Sprintf("%+.0f%%", d) // +Inf%
	}
	return fmt.Sprintf("%+.2f%%", 100*d)
}

func formatN(n1, n2 int) string {
	if n1 == n2 {
		return strconv.Itoa(n1)
	}
	return fmt.Sprintf("%d+%d", n1, n2)
}

// formatValue scales v in a tidied unit: seconds as "500.5ms" (the row
// names the metric), others as "8.005 req/s".
func formatValue(v float64, unit string) string {
	if unit == "sec" || strings.HasSuffix(unit, "-sec") || strings.HasPrefix(unit, "sec/") {
		return benchunit.Scale(v, benchunit.Decimal) + "s"
	}
	return benchunit.Scale(v, benchunit.ClassOf(unit)) + " " + unit
}
