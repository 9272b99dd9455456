package gate

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"
)

// CompareOptions configures CompareBaseline. The zero value uses the
// defaults given with each field.
type CompareOptions struct {
	// Alpha is the significance level: a change counts only when the
	// Mann-Whitney U test's p-value is < Alpha. 0 means 0.05.
	Alpha float64
	// MinChange is the smallest relative change of the medians that
	// counts, as a fraction: 0.05 is 5%. 0 means 0.05; to count every
	// significant change, set a tiny value such as 1e-9.
	MinChange float64
	// Confidence is the level of the confidence intervals printed around
	// the medians. 0 means 0.95.
	Confidence float64
	// Better, when set, gives the direction of a unit (as written in the
	// file, e.g. "ttft-p99-ns"); when it returns BetterUnknown, the file's
	// unit metadata (Unit x better=lower) and then UnitBetter decide.
	Better func(unit string) Better
	// Filter keeps only the results matching a benchstat filter query
	// (golang.org/x/perf/benchproc/syntax), e.g. ".name:Serving". Empty
	// means all.
	Filter string
	// Ignore lists configuration keys not to tell results apart by, as
	// benchstat's -ignore: file configuration keys ("cpu") or
	// sub-benchmark keys ("/gomaxprocs"). By default results match when
	// their file configuration (apart from the side keys, see Match) and
	// full name are equal.
	Ignore []string
	// Match lists side keys, LabelKey ("label") and ServerIDKey
	// ("server-id"), by which to match old against new as by any other
	// configuration key. They name which build and server an input
	// measured, so by default the gate ignores both when matching:
	// "label: q8_0" results compare with "label: f16" ones, and results of
	// two servers with each other (a ServerNote says so). Within one input,
	// results of one benchmark that differ only in an ignored side key are
	// a *PooledError, never pooled into one sample. A matched side key
	// keeps such results apart instead, as benchstat does: Match "label"
	// compares two files that each hold several labelled builds, label by
	// label. Other keys, or a key in Ignore too, are an *OptionError.
	Match []string
	// OldLabel and NewLabel name the inputs in the table and in errors.
	// Empty means "old" and "new"; CompareFiles uses the paths.
	OldLabel, NewLabel string
}

// withDefaults validates opt and fills in the defaults, naming the bad
// field.
func (opt CompareOptions) withDefaults() (CompareOptions, error) {
	switch {
	case opt.Alpha < 0 || opt.Alpha >= 1 || math.IsNaN(opt.Alpha):
		return opt, fmt.Errorf("gate: CompareOptions.Alpha must be in [0,1), got %v", opt.Alpha)
	case opt.MinChange < 0 || math.IsNaN(opt.MinChange) || math.IsInf(opt.MinChange, 0):
		return opt, fmt.Errorf("gate: CompareOptions.MinChange must be >= 0, got %v", opt.MinChange)
	case opt.Confidence < 0 || opt.Confidence >= 1 || math.IsNaN(opt.Confidence):
		return opt, fmt.Errorf("gate: CompareOptions.Confidence must be in [0,1), got %v", opt.Confidence)
	}
	if opt.Alpha == 0 {
		opt.Alpha = 0.05
	}
	if opt.MinChange == 0 {
		opt.MinChange = 0.05
	}
	if opt.Confidence == 0 {
		opt.Confidence = 0.95
	}
	if opt.Filter == "" {
		opt.Filter = "*"
	}
	if opt.OldLabel == "" {
		opt.OldLabel = "old"
	}
	if opt.NewLabel == "" {
		opt.NewLabel = "new"
	}
	return opt, nil
}

// CompareFiles is CompareBaseline on two benchmark files, labelled by
// their paths unless opt sets labels.
func CompareFiles(oldPath, newPath string, opt CompareOptions) (*Comparison, error) {
	if opt.OldLabel == "" {
		opt.OldLabel = oldPath
	}
	if opt.NewLabel == "" {
		opt.NewLabel = newPath
	}
	oldF, err := os.Open(oldPath)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	defer oldF.Close()
	newF, err := os.Open(newPath)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	defer newF.Close()
	return CompareBaseline(oldF, newF, opt)
}

// CompareBaseline reads two inputs in the Go benchmark format (go test
// -bench output, -count many samples per benchmark) and compares every
// metric present in both, matched by file configuration, full benchmark
// name and unit. Each metric's samples are compared with the Mann-Whitney
// U test (benchmath.AssumeNothing; assume=exact unit metadata is honored).
// A row is a Regression when p < Alpha and the medians moved by more than
// MinChange in the unit's worse direction (see UnitBetter).
//
// The side keys (label and server-id, see CompareOptions.Match) are
// ignored when matching unless Match names them; a "# server-id: ID
// DESCRIPTION" line counts as a server-id configuration line. Results of
// one benchmark that one input holds from several labels or servers are a
// *PooledError naming them. Each input's sides are in the Comparison
// (OldSides, NewSides, and per Row), and old and new results of identical
// configuration and label (or none) from different servers give a
// ServerNote.
//
// A malformed line is an error naming the input and line; so is an input
// without results, and two inputs without a metric in common. The
// returned Comparison's Err reports the regressions.
func CompareBaseline(old, new io.Reader, opt CompareOptions) (*Comparison, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	g, err := newGrouper(opt)
	if err != nil {
		return nil, err
	}
	oldSet, err := g.read(old, opt.OldLabel)
	if err != nil {
		return nil, err
	}
	newSet, err := g.read(new, opt.NewLabel)
	if err != nil {
		return nil, err
	}
	for _, set := range []*sampleSet{oldSet, newSet} {
		if err := set.pooled(); err != nil {
			return nil, err
		}
	}
	c := g.compare(oldSet, newSet)
	if len(c.Rows) == 0 {
		return nil, &NoMatchError{OldLabel: opt.OldLabel, NewLabel: opt.NewLabel, Unmatched: c.Warnings}
	}
	return c, nil
}

// grouper reads results into samples keyed by configuration, name and
// unit, with projections shared by both inputs so their keys compare equal.
type grouper struct {
	opt      CompareOptions
	filter   *benchproc.Filter
	configBy *benchproc.Projection
	nameBy   *benchproc.Projection
}

type groupKey struct {
	config, name benchproc.Key
	unit         string // tidied
}

// sampleSet is the samples of one input in order of first appearance.
type sampleSet struct {
	label  string
	order  []groupKey
	values map[groupKey][]float64
	orig   map[groupKey]string // unit as written
	units  benchfmt.UnitMetadataMap
	// sources are the distinct sides of each key's samples with the line
	// of the first (more than one: pooled); sides those of the input.
	sources map[groupKey][]PooledSource
	sides   []Side
	// configs is each key's whole file configuration but the side keys,
	// ignored keys included, as of its first sample (see fileConfig).
	configs map[groupKey]string
}

func newGrouper(opt CompareOptions) (*grouper, error) {
	filter, err := benchproc.NewFilter(opt.Filter)
	if err != nil {
		return nil, &OptionError{Field: "Filter", Value: opt.Filter, Err: err}
	}
	var p benchproc.ProjectionParser
	g := &grouper{opt: opt, filter: filter}
	if g.configBy, err = p.Parse(".config", filter); err != nil {
		return nil, err
	}
	if g.nameBy, err = p.Parse(".fullname", filter); err != nil {
		return nil, err
	}
	if len(opt.Ignore) > 0 {
		if _, err := p.Parse(strings.Join(opt.Ignore, ","), filter); err != nil {
			return nil, &OptionError{Field: "Ignore", Value: strings.Join(opt.Ignore, ","), Err: err}
		}
	}
	for _, k := range opt.Match {
		var err error
		switch {
		case !isSideKey(k):
			err = fmt.Errorf("%q is not a side key: only %s and %s can be matched (other configuration keys are matched unless ignored)", k, LabelKey, ServerIDKey)
		case slices.Contains(opt.Ignore, k):
			err = fmt.Errorf("%q cannot be both matched and ignored", k)
		}
		if err != nil {
			return nil, &OptionError{Field: "Match", Value: strings.Join(opt.Match, ","), Err: err}
		}
	}
	// The side keys not matched leave .config (the parser takes every key
	// a projection names out of it).
	var sides []string
	for _, k := range sideKeys {
		if !slices.Contains(opt.Match, k) && !slices.Contains(opt.Ignore, k) {
			sides = append(sides, k)
		}
	}
	if len(sides) > 0 {
		if _, err := p.Parse(strings.Join(sides, ","), filter); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *grouper) read(r io.Reader, label string) (*sampleSet, error) {
	set := &sampleSet{label: label, values: map[groupKey][]float64{}, orig: map[groupKey]string{},
		sources: map[groupKey][]PooledSource{}, configs: map[groupKey]string{}}
	sr := newServerIDReader(r)
	br := benchfmt.NewReader(sr, label)
	results := 0
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, fmt.Errorf("gate: malformed benchmark line: %w", rec)
		case *benchfmt.Result:
			results++
			if ok, _ := g.filter.Apply(rec); !ok {
				continue
			}
			config, name := g.configBy.Project(rec), g.nameBy.Project(rec)
			side := Side{Label: rec.GetConfig(LabelKey), ServerID: rec.GetConfig(ServerIDKey)}
			_, line := rec.Pos()
			for _, v := range rec.Values {
				// benchfmt leaves a value untidied when tidying does not
				// change it (0 ns/op stays ns/op): tidy again from the
				// original so all samples of a unit share one key.
				origVal, orig := v.Value, v.Unit
				if v.OrigUnit != "" {
					origVal, orig = v.OrigValue, v.OrigUnit
				}
				val, unit := benchunit.Tidy(origVal, orig)
				k := groupKey{config, name, unit}
				if _, seen := set.values[k]; !seen {
					set.order = append(set.order, k)
					set.orig[k] = orig
					set.configs[k] = fileConfig(rec)
				}
				set.values[k] = append(set.values[k], val)
				if !slices.ContainsFunc(set.sources[k], func(s PooledSource) bool { return s.Side == side }) {
					set.sources[k] = append(set.sources[k], PooledSource{side, line})
				}
			}
			if !slices.Contains(set.sides, side) {
				set.sides = append(set.sides, side)
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("gate: reading %s: %w", label, err)
	}
	if results == 0 {
		return nil, fmt.Errorf("gate: %s: no benchmark results", label)
	}
	set.units = br.Units()
	// The descriptions are known once the whole input is read.
	for i, s := range set.sides {
		set.sides[i].Server = sr.descs[s.ServerID]
	}
	for _, src := range set.sources {
		for i, s := range src {
			src[i].Server = sr.descs[s.ServerID]
		}
	}
	return set, nil
}

// fileConfig is r's file configuration but the side keys, sorted, so
// that configurations of the same keys and values compare equal whatever
// their order.
func fileConfig(r *benchfmt.Result) string {
	var kv []string
	for _, c := range r.Config {
		if c.File && !isSideKey(c.Key) {
			kv = append(kv, c.Key+": "+string(c.Value))
		}
	}
	slices.Sort(kv)
	return strings.Join(kv, "\n")
}

// pooled returns a *PooledError when some key's samples come from more
// than one side, naming the first such benchmark and the others.
func (set *sampleSet) pooled() *PooledError {
	var e *PooledError
	for _, k := range set.order {
		src := set.sources[k]
		if len(src) < 2 {
			continue
		}
		name := k.name.StringValues()
		switch {
		case e == nil:
			e = &PooledError{Input: set.label, Benchmark: name, Sources: src}
		case name != e.Benchmark && !slices.Contains(e.Others, name):
			e.Others = append(e.Others, name)
		}
	}
	return e
}

func (g *grouper) compare(old, new *sampleSet) *Comparison {
	c := &Comparison{OldSides: old.sides, NewSides: new.sides, opt: g.opt}
	for _, k := range old.order {
		if _, ok := new.values[k]; !ok {
			c.Warnings = append(c.Warnings, fmt.Errorf("%s %s: only in %s", k.name.StringValues(), old.orig[k], old.label))
			continue
		}
		row := g.compareOne(k, old, new)
		for _, w := range row.Warnings {
			c.Warnings = append(c.Warnings, fmt.Errorf("%s, unit %s: %w", row.Benchmark, row.Unit, w))
		}
		c.Rows = append(c.Rows, row)
		if o, n := row.OldSide, row.NewSide; o.Label == n.Label && o.ServerID != "" && n.ServerID != "" && o.ServerID != n.ServerID &&
			old.configs[k] == new.configs[k] {
			note := ServerNote{OldLabel: old.label, NewLabel: new.label, Old: o, New: n}
			if !slices.Contains(c.Notes, note) {
				c.Notes = append(c.Notes, note)
			}
		}
	}
	for _, k := range new.order {
		if _, ok := old.values[k]; !ok {
			c.Warnings = append(c.Warnings, fmt.Errorf("%s %s: only in %s", k.name.StringValues(), new.orig[k], new.label))
		}
	}
	return c
}

func (g *grouper) compareOne(k groupKey, old, new *sampleSet) Row {
	row := Row{
		Config:    g.configLines(k.config),
		Benchmark: k.name.StringValues(),
		Unit:      new.orig[k],
		TidyUnit:  k.unit,
		OldSide:   old.sources[k][0].Side,
		NewSide:   new.sources[k][0].Side,
	}
	row.Better = g.better(row.Unit, old.units, new.units)
	assume := benchmath.Assumption(benchmath.AssumeNothing)
	for _, m := range []benchfmt.UnitMetadataMap{new.units, old.units} {
		if md := m.Get(k.unit, "assume"); md != nil {
			if md.Value == "exact" {
				assume = benchmath.AssumeExact
			}
			break
		}
	}
	th := &benchmath.Thresholds{CompareAlpha: g.opt.Alpha}
	s1 := benchmath.NewSample(old.values[k], th)
	s2 := benchmath.NewSample(new.values[k], th)
	sum1, sum2 := assume.Summary(s1, g.opt.Confidence), assume.Summary(s2, g.opt.Confidence)
	row.Old = Estimate{sum1.Center, sum1.Lo, sum1.Hi, sum1.Confidence, len(s1.Values)}
	row.New = Estimate{sum2.Center, sum2.Lo, sum2.Hi, sum2.Confidence, len(s2.Values)}
	cmp := assume.Compare(s1, s2)
	row.P = cmp.P
	row.Warnings = dedupe(s1.Warnings, s2.Warnings, sum1.Warnings, sum2.Warnings, cmp.Warnings)
	row.Delta = relChange(row.Old.Center, row.New.Center)
	row.Verdict = verdict(row, g.opt)
	return row
}

func (g *grouper) configLines(k benchproc.Key) []string {
	var out []string
	for _, f := range g.configBy.FlattenedFields() {
		if v := k.Get(f); v != "" {
			out = append(out, f.Name+": "+v)
		}
	}
	return out
}

func (g *grouper) better(unit string, oldUnits, newUnits benchfmt.UnitMetadataMap) Better {
	if g.opt.Better != nil {
		if b := g.opt.Better(unit); b != BetterUnknown {
			return b
		}
	}
	for _, m := range []benchfmt.UnitMetadataMap{newUnits, oldUnits} {
		if md := m.Get(unit, "better"); md != nil {
			switch md.Value {
			case "higher":
				return HigherIsBetter
			case "lower":
				return LowerIsBetter
			}
		}
	}
	return UnitBetter(unit)
}

func relChange(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Copysign(math.Inf(1), new)
	}
	return new/old - 1
}

func verdict(r Row, opt CompareOptions) Verdict {
	if !(r.P < opt.Alpha) || math.Abs(r.Delta) <= opt.MinChange {
		return Same
	}
	switch {
	case r.Better == BetterUnknown:
		return Changed
	case (r.Delta > 0) == (r.Better == HigherIsBetter):
		return Improvement
	}
	return Regression
}

// dedupe joins warning lists, dropping repeated messages.
func dedupe(lists ...[]error) []error {
	var out []error
	seen := map[string]bool{}
	for _, l := range lists {
		for _, e := range l {
			if e != nil && !seen[e.Error()] {
				seen[e.Error()] = true
				out = append(out, e)
			}
		}
	}
	return out
}
