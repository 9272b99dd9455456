// Package benchtest brings servingbench into go test: benchmarks of an LLM
// serving endpoint whose metrics benchstat reads, and SLA assertions that read
// like the rest of a testify suite. It is testing.B and testify glue only:
// the regression gate that fails CI on statistically significant
// regressions is package benchtest/gate.
//
// # Benchmarks
//
// Run runs a scenario (scenarios.Scenario) once per b.Loop iteration
// against the target and reports the last run's metrics with
// b.ReportMetric (ReportMetrics): TTFT, TPOT, ITL and E2EL mean, median
// and p99 in nanoseconds with a -ns suffix (ttft-p99-ns, tpot-mean-ns; see
// gate.LatencyUnit), which benchstat shows as seconds with an SI prefix;
// throughputs as req/s, out-tok/s, tok/s and, with WithGoodput,
// goodput-req/s; failed requests as failed. The built-in ns/op is hidden.
// Run returns the Report for further assertions. A benchmark file is as
// short as
//
//	func TestMain(m *testing.M) { benchtest.Main(m) }
//
//	func BenchmarkSeed(b *testing.B) { benchtest.Run(b, scenarios.SeedRandom256()) }
//
// Sweeps are sub-benchmarks named key=value (rate=8, concurrency=64):
// Sweep names them from the scenarios' differences (SweepNames), so that
// benchstat -col /rate puts the rates side by side.
//
// One iteration is a whole scenario, often seconds long, so run benchmarks
// with a fixed iteration count and enough repetitions for the statistics:
//
//	go test -run '^$' -bench . -benchtime=1x -count=6 -timeout 0 > new.txt
//
// -benchtime=1x runs the scenario once per repetition. Under the default
// -benchtime=1s, b.Loop repeats a short scenario until a second has
// passed; Run then reports the last run only (the earlier ones warm the
// server and the connections), so that a result line is always one run,
// as vLLM compares single runs and benchstat wants one sample per -count.
// -count=6 gives six samples, the fewest for which benchmath gives a 95%
// confidence interval of the median and the Mann-Whitney U test can reach
// p < 0.05; ten is better. -timeout 0 lifts go test's default 10-minute
// limit, which a sweep of long scenarios exceeds.
//
// Each run draws fresh prompts: the k-th run of a benchmark in the process
// (k from 0, counted per benchmark name over every b.Loop iteration and
// -count repetition) prepares the scenario with Seed + k, before the
// timed run, and the report's Metadata["seed"] says which. The runs are
// then independent samples, as benchstat's statistics assume, and a
// server's prefix cache (vLLM's, llama.cpp's prompt caches) cannot answer
// run 2 from run 1's prompts. The rule depends on the run's number only,
// so two processes with the same -count and -benchtime, against an F16
// and a Q8_0 build, send the same prompt sets in the same order.
// WithPinnedSeed keeps every run on the scenario's own Seed. Two
// benchmarks of one scenario in one process draw the same prompt sets
// (each counts its own runs): give them different Seeds when the server
// caches prompts. On a real
// server whose GET /metrics has prefix-cache counters (llama.cpp's
// llama-server with --metrics, vLLM), Run reads them around each run of a
// dataset whose prompts share no prefix (random without a prefix length,
// BurstGPT) and warns when the server served more than 10% of the run's
// prompt tokens from its cache: TTFT then measured the cache.
//
// Report metrics after the b.Loop loop: the first b.Loop call resets the
// timer, which deletes metrics reported before it. Print nothing while a
// benchmark runs: go test merges stderr into stdout and the text would land
// inside the result line. Run logs through b.Log, which go test prints
// after the result line.
//
// # Capacity
//
// Capacity runs a capacity search (package servingbench/capacity) once
// per b.Loop iteration: the largest request rate, or maximum concurrency,
// at which every limit of an SLA holds, bracketed by doubling and
// bisected. It reports the capacity as capacity-req/s or
// capacity-concurrency, which the regression gate treats as higher is
// better, and the metrics of the passing run at the capacity, so that
// benchstat -col model compares how much load two builds carry at the
// same latency and servingbench compare fails CI when a build loses
// capacity:
//
//	func BenchmarkCapacity(b *testing.B) {
//		sla := servingbench.MustParseSLA("ttft.p99<=500ms tpot.p99<=50ms")
//		benchtest.Capacity(b, scenarios.SeedRandom256(scenarios.WithNumPrompts(100)), sla,
//			benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency}))
//	}
//
// Each point runs the scenario's NumPrompts requests at its load, with
// fresh prompts; failed requests make a point fail (an SLA without a
// failed limit gets failed<=0) but not the benchmark, and a capacity of 0
// is reported as 0. The search's points, verdicts and the limit that
// bounded it are logged after the result line. WithSearch sets the
// search's dimension, start, bounds, resolution and time budget.
//
// WithServer benchmarks a servingtest server the caller started, on any
// listener: with an in-memory servingtest.NewListener, Run and Capacity
// run inside a testing/synctest bubble on its fake clock, so that a test
// can check a capacity known exactly (servingtest.FixedService) in no real
// time.
//
// # Targets
//
// The target is a Target: WithTarget's (given to Run, or to Main for the
// whole file), else the environment's (TargetFromEnv:
// SERVINGBENCH_BASE_URL, SERVINGBENCH_BACKEND, SERVINGBENCH_MODEL,
// SERVINGBENCH_TOKENIZER, OPENAI_API_KEY; for an https server and
// gateways, SERVINGBENCH_CA_CERT, SERVINGBENCH_CLIENT_CERT and
// SERVINGBENCH_CLIENT_KEY, the PEM files of mutual TLS, and
// SERVINGBENCH_INSECURE; SERVINGBENCH_HEADERS and SERVINGBENCH_EXTRA_BODY,
// JSON objects of headers and body members for every request, as the
// CLI's --header and --extra-body; proxies from HTTP_PROXY, HTTPS_PROXY
// and NO_PROXY). The backend defaults to
// "openai" (DefaultBackend), the generic OpenAI completions client that
// current vLLM's "vllm bench serve" defaults to: it speaks as "vllm"
// does, and the backend line names what was used rather than a server it
// may not be. Without SERVINGBENCH_BASE_URL the target is the embedded
// simulated server (servingtest), so go test -bench works on any machine:
// SERVINGBENCH_SIM picks its profile (fp16, the default, and w8a8: a
// simulated 7B model's FP16 and W8A8 builds; zero: no model cost) and
// SERVINGBENCH_SIM_SPEED its time scale (default 10, the CLI's
// --sim-speed default). Targets are resolved by servingbench/target, with
// the CLI's defaults: without SERVINGBENCH_TOKENIZER the model's
// tokenizer, else the built-in Qwen3 one, which the simulated server
// counts prompt tokens with too. One line says the simulated server is in
// use, once per process. Its figures are simulated, not measurements of
// any hardware.
//
// Main, called from TestMain, prints the file's target's identity as
// benchfmt configuration lines before the benchmarks (model, backend,
// server: what the server says it is; label: SERVINGBENCH_LABEL or
// WithLabel; server-id: the server's fingerprint, for a real server
// without a label), so that results of different targets stay apart in
// benchstat and can be compared, by label or by model:
//
//	SERVINGBENCH_LABEL=f16 go test -run '^$' -bench . -benchtime=1x -count=6 > f16.txt
//	SERVINGBENCH_LABEL=q8_0 go test -run '^$' -bench . -benchtime=1x -count=6 > q8.txt
//	benchstat -col label f16.txt q8.txt
//
//	SERVINGBENCH_SIM=fp16 go test -run '^$' -bench . -benchtime=1x -count=6 > fp16.txt
//	SERVINGBENCH_SIM=w8a8 go test -run '^$' -bench . -benchtime=1x -count=6 > w8a8.txt
//	benchstat -col model fp16.txt w8a8.txt
//
// Label two builds that answer to one model name (two llama.cpp servers of
// one model, as F16 and as Q8_0): benchstat -col label then puts them side
// by side. Without labels their server-id lines differ, so benchstat
// keeps them apart rather than pooling their samples. A plain benchstat f16.txt q8.txt prints one table per
// configuration; -ignore label compares them by file instead, and
// servingbench compare, which matches OLD against NEW regardless of label
// and server-id, compares them as they are. Benchmarks of explicit
// targets (WithTarget given to Run) are named after them instead,
// b.Run("model="+t.Model, ...), for benchstat -col /model. The API key is
// sent as a bearer token and never printed.
//
// # Scale
//
// SERVINGBENCH_NUM_PROMPTS, SERVINGBENCH_INPUT_LEN and
// SERVINGBENCH_OUTPUT_LEN resize every scenario Run runs
// (scenarios.Scenario.Scaled, with the dataset's own length parameters),
// so that the seed scenario, whose 640 prompts of 256 tokens asking for
// 128 take minutes a run on a CPU server, keeps its shape on a slow one:
//
//	SERVINGBENCH_NUM_PROMPTS=16 SERVINGBENCH_INPUT_LEN=64 SERVINGBENCH_OUTPUT_LEN=32 go test -run '^$' -bench . -benchtime=1x -count=6
//
// Each must be a whole number >= 1; a bad value, or a length the
// scenario's dataset lacks (ShareGPT has no input length), fails the
// benchmark before any request, naming the variable. Main prints the
// scale as a line benchfmt ignores; the report's Metadata["scenario"] is
// the scaled scenario.
//
// # Failed requests
//
// Failures are never silent: a run with failed requests fails the
// benchmark (b.Fatal), listing them grouped by reason with the run's
// seed, and reports nothing. A failing benchmark prints no result line,
// so benchstat sees one sample fewer for it (n=5 of -count=6), or none.
// WithFailureBudget(n) accepts up to n failed requests a run. An SLA with a
// failed or failed_rate limit ("failed<=3", "failed_rate<=0.01") decides
// instead, in its mode: SLAEnforce fails the benchmark listing the
// violation, SLAReport keeps the result line and counts it in
// sla-violations. Every result line reports the failed metric. In a
// capacity search (Capacity), failed requests are data: they fail the
// point, by the SLA's failed limit (failed<=0 when it has none), not the
// benchmark.
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
// The regression gate over two go test -bench outputs is package
// benchtest/gate (CompareFiles, CompareBaseline, Comparison.WriteTable),
// which imports neither testing nor testify, so that the servingbench
// command ("servingbench compare OLD NEW") links neither; the units Run
// reports and their better direction (gate.LatencyUnit, gate.UnitBetter)
// live there too. CompareBaseline and CompareFiles here are deprecated
// forwarders to the gate's.
//
// # Concurrency
//
// The functions of this package are safe for concurrent use.
package benchtest
