package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/benchtest/gate"
)

// runCompare is "servingbench compare [flags] OLD NEW": it compares two
// benchmark files with the regression gate (benchtest/gate), prints the
// table to stdout and returns an error wrapping the *gate.RegressionError
// when a metric regressed, so that the command exits 1. -h prints the
// usage to stderr and succeeds; a bad command line is a usageError (exit
// status 2) naming the flag and the value given. args excludes
// "compare".
//
// The side keys label and server-id (which build and server a file
// measured) are not matched unless -match names them, so that two
// labelled builds compare without -ignore; the table follows a line per
// side and a note when both files have the same label (or none) but come
// from different servers. A file that holds results of one benchmark from
// several builds or servers (a *gate.PooledError) is refused before any
// table, as a usageError too (exit status 2): the inputs, not the code
// under test, must change, and a CI job can tell it from a regression.
func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once, by main
	alpha := fs.Float64("alpha", 0.05, "consider a change significant if p < `α`")
	threshold := fs.String("threshold", "5%", "minimum relative `change` that counts, as 5% or 0.05")
	confidence := fs.Float64("confidence", 0.95, "confidence `level` of the printed ranges")
	filter := fs.String("filter", "", "use only benchmarks matching benchstat filter `query`")
	ignore := fs.String("ignore", "", "comma-separated configuration `keys` to ignore when matching (cpu,/gomaxprocs)")
	match := fs.String("match", "", "comma-separated side `keys` to match OLD against NEW by, label and/or server-id (ignored by default)")
	usage := func() {
		fmt.Fprintf(stderr, "usage: servingbench compare [flags] OLD NEW\n\n"+
			"Compares two go test -bench outputs metric by metric (Mann-Whitney U test) and\n"+
			"fails on significant regressions larger than the threshold. Results match by\n"+
			"configuration and benchmark name; label and server-id lines (which build and\n"+
			"server a file measured) are shown but not matched unless -match names them.\n"+
			"Exit status 0: no regression; 1: a regression or an unreadable file; 2: a bad\n"+
			"command line, or a file pooling one benchmark's results from several builds\n"+
			"or servers.\n\n")
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return nil
		}
		return flagParseError("compare", err, args)
	}
	if fs.NArg() != 2 {
		return usageError{fmt.Errorf("compare: want 2 files OLD NEW, got %d (see servingbench compare -h)", fs.NArg())}
	}
	minChange, err := parseThreshold(*threshold)
	if err != nil {
		return usageError{err}
	}
	if !(*alpha > 0 && *alpha < 1) {
		return usageError{fmt.Errorf("compare: -alpha must be in (0,1), got %s", fs.Lookup("alpha").Value)}
	}
	if !(*confidence > 0 && *confidence < 1) {
		return usageError{fmt.Errorf("compare: -confidence must be in (0,1), got %s", fs.Lookup("confidence").Value)}
	}
	opt := gate.CompareOptions{Alpha: *alpha, MinChange: minChange, Confidence: *confidence, Filter: *filter}
	if *ignore != "" {
		opt.Ignore = strings.Split(*ignore, ",")
	}
	if *match != "" {
		for k := range strings.SplitSeq(*match, ",") {
			opt.Match = append(opt.Match, strings.TrimSpace(k))
		}
	}
	c, err := gate.CompareFiles(fs.Arg(0), fs.Arg(1), opt)
	if err != nil {
		return compareError(err)
	}
	if err := c.WriteTable(stdout); err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		return compareError(err)
	}
	return nil
}

// compareError puts the gate's error in the command's words: flags instead
// of CompareOptions fields, "compare:" instead of the package name.
func compareError(err error) error {
	var oe *gate.OptionError
	if errors.As(err, &oe) {
		return usageError{fmt.Errorf("compare: -%s %q: %w", strings.ToLower(oe.Field), oe.Value, oe.Err)}
	}
	var nm *gate.NoMatchError
	if errors.As(err, &nm) {
		return &wrappedError{"compare: " + nm.Message("-ignore and -filter"), err}
	}
	var pe *gate.PooledError
	if errors.As(err, &pe) {
		return usageError{&wrappedError{"compare: " + pe.Message(func(key string) string { return "-match " + key }), err}}
	}
	return &wrappedError{"compare: " + strings.TrimPrefix(err.Error(), "gate: "), err}
}

// wrappedError rewords err's message and keeps err for errors.As.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }

// parseThreshold reads "5%" or "0.05"; 0 is taken as the smallest change.
func parseThreshold(s string) (float64, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	if pct {
		num += "e-2"
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("compare: -threshold %q: want a change >= 0 such as 5%% or 0.05", s)
	}
	if v == 0 {
		v = math.SmallestNonzeroFloat64
	}
	return v, nil
}
