// Package gate is servingbench's regression gate: it compares two go test
// -bench outputs metric by metric, as benchstat does, and decides which
// changes fail a CI job. It imports neither testing nor testify, so that
// the servingbench command ("servingbench compare OLD NEW", whose flags
// are parsed in cmd/servingbench) links neither.
//
// Files: compare.go reads and compares (CompareOptions, CompareFiles,
// CompareBaseline); comparison.go holds the outcome (Comparison, Row,
// Verdict, WriteTable, RegressionError); sides.go which build and server
// an input measured (the side keys, Side, ServerNote, and the reading of
// "# server-id:" lines); units.go the units benchtest.Run reports
// (LatencyUnit, the Unit constants) and their direction (Better,
// UnitBetter); errors.go the errors a caller branches on (OptionError,
// NoMatchError, PooledError).
//
// CompareBaseline and CompareFiles decide as follows:
//
//   - results are read with golang.org/x/perf/benchfmt (a malformed line is
//     an error naming the file and line) and matched by file configuration,
//     full benchmark name (sub-benchmark keys and GOMAXPROCS included) and
//     unit; CompareOptions.Ignore drops keys such as cpu or /gomaxprocs
//     from the match, CompareOptions.Filter selects results;
//   - the side keys, label (SERVINGBENCH_LABEL) and server-id (the
//     server's fingerprint, from a "server-id:" line or the line benchfmt
//     ignores "# server-id: ID DESCRIPTION" that benchtest.Main always
//     prints), say which build and server an input measured. They are not
//     matched unless CompareOptions.Match names them, so the old and new
//     files of two labelled builds compare as they are; the Comparison
//     keeps each input's sides (OldSides, NewSides, and each Row's), and
//     WriteTable prints them before the tables;
//   - within one input, results of one benchmark and unit that differ only
//     in an unmatched side key (two labels, or two servers) are never
//     pooled into one sample, as benchstat would: they are a *PooledError
//     naming the input, the benchmark, each label and server with its
//     description and first line, and the fix;
//   - old and new results of identical file configuration and the same
//     label (or both unlabelled) from different servers are compared,
//     with a ServerNote in Comparison.Notes naming both servers, printed
//     before the tables;
//   - each metric's samples are summarized by their median with a
//     confidence interval and compared with the Mann-Whitney U test
//     (golang.org/x/perf/benchmath, no distributional assumption);
//   - a change is significant when p < Alpha (default 0.05), and counts
//     when the medians moved by more than MinChange (default 5%);
//   - a counting change is a Regression when it goes in the unit's worse
//     direction: up for latencies, ns/op, B/op, allocs/op, failures and
//     sla-violations, down for rates (units ending in /s). UnitBetter lists
//     the rules; unit metadata lines (Unit x better=higher) and
//     CompareOptions.Better take precedence; changes in units of unknown
//     direction are shown but never fail.
//
// Too few samples never give a verdict: benchmath's warnings (need >= 4
// samples to detect a difference at alpha 0.05, >= 6 for a confidence
// interval) are kept in Comparison.Warnings. WriteTable prints a
// benchstat-style table with units scaled by golang.org/x/perf/benchunit
// and regressions marked; Comparison.Err returns a *RegressionError listing
// every regression, for a CI job to fail on. A Filter or Ignore that does
// not parse, or a Match that names no side key, is an *OptionError, inputs without a metric in common a
// *NoMatchError: both carry what a command line needs to say it in its own
// flags' words, as does a *PooledError.
//
// # Concurrency
//
// The functions of this package are safe for concurrent use; a
// Comparison's methods do not modify it.
package gate
