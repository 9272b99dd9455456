package benchtest

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchunit"
)

// WriteTable prints the comparison as benchstat does: a table per file
// configuration and unit, with medians scaled by benchunit (-ns units as
// seconds with an SI prefix), ± the confidence interval, the change or "~"
// when it is not significant, the p-value and sample counts, and a verdict
// column marking REGRESSION, improvement or changed (unknown direction).
// Warnings follow the tables.
func (c *Comparison) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
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
