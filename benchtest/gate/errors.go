package gate

import (
	"errors"
	"fmt"
	"strings"
)

// OptionError reports a CompareOptions field the gate could not use, such
// as a Filter query that does not parse. Field is the field's name
// ("Filter", "Ignore"), Value its value as given (Ignore joined by
// commas), so that a command line can name its own flag instead.
type OptionError struct {
	Field, Value string
	Err          error
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("gate: CompareOptions.%s: %v", e.Field, e.Err)
}

func (e *OptionError) Unwrap() error { return e.Err }

// NoMatchError is CompareBaseline's error when no metric of the old input
// matches one of the new: benchmark names, units or file configuration
// differ. Unmatched lists every metric found in one input only.
type NoMatchError struct {
	OldLabel, NewLabel string
	Unmatched          []error
}

func (e *NoMatchError) Error() string {
	return "gate: " + e.Message("CompareOptions.Ignore and Filter")
}

// Message is the error's text without the package prefix, pointing to
// hint ("CompareOptions.Ignore and Filter", or a command's flags) for
// what to change.
func (e *NoMatchError) Message(hint string) string {
	msg := fmt.Sprintf("no metric of %s matches one of %s: benchmark names, units or "+
		"file configuration differ (see %s)", e.OldLabel, e.NewLabel, hint)
	if l := e.Listed(); l != nil {
		msg += ":\n" + l.Error()
	}
	return msg
}

// Listed joins the first few unmatched metrics into one error, one a line,
// and says how many more there are.
func (e *NoMatchError) Listed() error {
	const show = 6
	w := e.Unmatched
	if len(w) > show {
		w = append(w[:show:show], fmt.Errorf("and %d more", len(e.Unmatched)-show))
	}
	return errors.Join(w...)
}

// PooledError is CompareBaseline's error for an input holding results of
// one benchmark from more than one build or server: samples that share
// their configuration (apart from the side keys CompareOptions.Match does
// not name), full name and unit, but not their label or server-id (from
// a server-id line or a "# server-id:" line). benchstat would pool them
// into one sample; the gate refuses to.
type PooledError struct {
	// Input names the input (CompareOptions.OldLabel or NewLabel).
	Input string
	// Benchmark is the first pooled benchmark's full name ("Seed-2"),
	// Others the names of any further ones.
	Benchmark string
	Others    []string
	// Sources are Benchmark's builds and servers, each with the line of
	// its first result, in input order.
	Sources []PooledSource
}

// PooledSource is one of the builds or servers of a pooled benchmark.
type PooledSource struct {
	Side
	// Line is the input line of its first result.
	Line int
}

func (e *PooledError) Error() string {
	return "gate: " + e.Message(func(key string) string { return fmt.Sprintf("CompareOptions.Match %q", key) })
}

// Message is the error's text without the package prefix; match(key)
// names the way to match by a side key ("-match label" for a command
// line) in the fix it suggests.
func (e *PooledError) Message(match func(key string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s has results from %d builds or servers under otherwise identical configuration; "+
		"the gate does not pool them into one sample:", e.Input, e.Benchmark, len(e.Sources))
	labels := false
	for _, s := range e.Sources {
		fmt.Fprintf(&b, "\n\t%s, from line %d", s.Side, s.Line)
		labels = labels || s.Label != e.Sources[0].Label
	}
	if len(e.Others) > 0 {
		fmt.Fprintf(&b, "\n\t(likewise %s)", strings.Join(e.Others, ", "))
	}
	if labels {
		fmt.Fprintf(&b, "\nkeep one build per file (a go test run each, compared as OLD and NEW), "+
			"or compare the builds label by label (%s)", match(LabelKey))
	} else {
		fmt.Fprintf(&b, "\nkeep one server per file, or give each server its own SERVINGBENCH_LABEL, "+
			"or compare server by server (%s)", match(ServerIDKey))
	}
	return b.String()
}
