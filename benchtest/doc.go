// Package benchtest brings servingbench into go test: benchmarks of an LLM
// serving endpoint whose metrics benchstat reads, SLA assertions that read
// like the rest of a testify suite, and a regression gate that fails CI
// only on statistically significant regressions.
//
// # Benchmarks
//
// Run (added with the engine) runs a scenario once per b.Loop iteration
// against the target and reports the run's metrics with b.ReportMetric:
// latency statistics in nanoseconds with a -ns suffix (ttft-p99-ns,
// tpot-mean-ns; see LatencyUnit), which benchstat shows as seconds with an
// SI prefix, throughputs as req/s, out-tok/s, tok/s and goodput-req/s, and
// failed requests; the built-in ns/op is hidden. It returns the Report for
// further assertions. Sweeps are sub-benchmarks named key=value (rate=8,
// concurrency=64) so that benchstat -col /rate works.
//
// One iteration is a whole scenario, often seconds long, so run benchmarks
// with a fixed iteration count and enough repetitions for the statistics:
//
//	go test -run '^$' -bench . -benchtime=1x -count=6 -timeout 0 > new.txt
//
// -benchtime=1x runs the scenario once per repetition (under the default
// -benchtime=1s, b.Loop repeats a short scenario until a second has
// passed). -count=6 gives six samples, the fewest for which benchmath
// gives a 95% confidence interval of the median and the Mann-Whitney U test
// can reach p < 0.05; ten is better. -timeout 0 lifts go test's default
// 10-minute limit, which a sweep of long scenarios exceeds.
//
// Report metrics after the b.Loop loop: the first b.Loop call resets the
// timer, which deletes metrics reported before it. Print nothing while a
// benchmark runs: go test merges stderr into stdout and the text would land
// inside the result line.
//
// # SLA assertions
//
// An SLA (servingbench.SLA, parsed by servingbench.ParseSLA from text
// such as "ttft.p99<=500ms tpot.mean<=50ms goodput>=10 failed<=0") bounds
// a Report's latency statistics, throughputs and failures. AssertSLA and
// RequireSLA check a Report against it through testify: a violated SLA is
// one failure listing every violated limit with its measured value:
//
//	Error:   SLA not met: 2 of 4 limits violated (SLA "ttft.p99<=500ms ..."):
//	             ttft.p99 = 612.3ms, want <= 500ms
//	             goodput = 8.25 req/s, want >= 10 req/s
//
// They take a *testing.T or a *testing.B (RequireSLA only on the test's
// own goroutine). A failing benchmark prints no result line, so its metrics
// never reach benchstat; in benchmarks whose numbers must be kept, use
// ReportSLA instead: it logs each violation and reports their number as
// the sla-violations metric, which the regression gate treats as lower is
// better.
//
// # Regression gate
//
// CompareBaseline, CompareFiles and CompareMain (the body of
// "servingbench compare OLD NEW") compare two go test -bench outputs
// metric by metric, as benchstat does, and decide which changes fail:
//
//   - results are read with golang.org/x/perf/benchfmt (a malformed line is
//     an error naming the file and line) and matched by file configuration,
//     full benchmark name (sub-benchmark keys and GOMAXPROCS included) and
//     unit; CompareOptions.Ignore drops keys such as cpu or /gomaxprocs
//     from the match, CompareOptions.Filter selects results;
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
// every regression, for a CI job to fail on.
//
// # Concurrency
//
// The functions of this package are safe for concurrent use; a
// Comparison's methods do not modify it.
package benchtest
