package benchtest

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
)

// Run runs the scenario sc against the target once per b.Loop iteration
// and reports the metrics of the last iteration's run (see ReportMetrics);
// it returns that run's Report for further assertions.
//
// The scenario is resized by SERVINGBENCH_NUM_PROMPTS,
// SERVINGBENCH_INPUT_LEN and SERVINGBENCH_OUTPUT_LEN when they are set
// (ScaleFromEnv, scenarios.Scenario.Scaled); a bad value, or a length the
// scenario's dataset does not have, fails b before any request is sent.
//
// The target is WithTarget's, else the file's (Main's WithTarget), else
// the environment's (TargetFromEnv), which without SERVINGBENCH_BASE_URL
// is the embedded simulated server. The label is likewise WithLabel's,
// else Main's, else SERVINGBENCH_LABEL's. The report's Metadata holds the
// label, the server's identity ("server", "server_id"; see Main), the
// scenario's String ("scenario") and the run's seed ("seed"). A Run whose
// target or label is not the one Main printed logs, once, that its result
// lines carry the printed configuration, unless its name says otherwise
// (a sub-benchmark label=LABEL or model=MODEL). The client (completions, or chat for the openai-chat backend) gets the
// scenario's sampling options and MaxConcurrency and is shared by the
// iterations.
//
// Each run draws fresh prompts. The k-th run of a benchmark in the
// process (k from 0, counted per b.Name() over every b.Loop iteration of
// every -count repetition) makes its requests, with the target's
// tokenizer (or WithTokenizer's), and its arrival times from the scenario
// with Seed + k: the runs are independent samples, as benchstat assumes,
// rather than one prompt set resent to a server whose prefix cache then
// answers it. The rule depends only on the run's number, so two processes
// run with the same -count and -benchtime (an F16 and a Q8_0 build of a
// model, one after the other) send the same prompt sets in the same
// order. (Under a -benchtime duration the number of runs depends on the
// machine's speed; use -benchtime=1x.) Two benchmarks of one scenario
// draw the same prompt sets, each from Seed. WithPinnedSeed keeps every
// run on the scenario's Seed. The requests are made before the run, outside the
// timed servingbench.Run; the seed used is the report's Metadata["seed"].
//
// Each iteration is a whole run. Under -benchtime=1x (recommended, with
// -count=6 or more and -timeout 0) there is exactly one; under a duration
// such as the default 1s, b.Loop repeats a short scenario until the time
// has passed, the earlier runs then warming the server's caches and the
// connection pool, and only the last run is reported: one result line is
// one run, as vLLM compares single runs and benchstat wants one sample per
// -count.
//
// Failures are never silent. Run fails b (b.Fatal) when the target or
// scenario is invalid, when every request of a run failed, and when a run
// had any failed request, listing the failures grouped by reason; the
// benchmark then prints no result line, so benchstat sees one sample
// fewer for it (and servingbench compare fails on a benchmark missing
// from one side). WithFailureBudget(n) lets up to n requests a run fail;
// an SLA (WithSLA) with a failed or failed_rate limit decides instead,
// in its mode: SLAEnforce fails b on too many failures, SLAReport counts
// the violation in sla-violations and keeps the result line. The failed
// metric reports the count either way.
//
// With WithSLA, the report is checked after the loop: SLAEnforce fails b
// listing every violation, SLAReport logs them and reports
// sla-violations.
//
// On a real server whose GET /metrics exposes prefix-cache counters
// (llama.cpp with --metrics, vLLM; see target.Target.PrefixCache), Run
// reads them before and after each run of a dataset whose prompts share
// no prefix (random without a prefix length, BurstGPT) and warns when the
// server served more than 10% of the run's prompt tokens from its cache
// (the warm-up request's repeat aside): the prompts were cached before,
// and TTFT measured the cache.
//
// Run prints nothing while the benchmark runs: the one-time notices
// (simulated server in use, default tokenizer) and the report's warnings
// go through b.Log, which go test prints after the result line.
func Run(b *testing.B, sc scenarios.Scenario, opts ...Option) *servingbench.Report {
	b.Helper()
	s := newSettings(opts)
	if s.hasSearch {
		b.Fatal("benchtest: WithSearch configures Capacity's search; Run makes one run at the scenario's load")
	}
	bn := newBench(b, sc, s)
	if s.conv != nil || bn.sc.Conversations != nil {
		return runConversations(b, bn, s) // conversation.go
	}
	sc = bn.sc
	// The first run's requests, made before the loop so that a bad
	// scenario fails before anything is sent.
	seed := runSeed(sc, peekRun(b.Name()), s.pinnedSeed)
	cfg, err := prepareRun(b.Context(), sc, seed, bn.tok)
	if err != nil {
		b.Fatal(err)
	}
	if note, err := checkFileLimit(bn.e, cfg.Requests, cfg.Arrival, sc.MaxConcurrency); err != nil {
		b.Fatal(err)
	} else if note != "" {
		b.Log(note)
	}
	client, err := bn.e.client(sc, bn.tok, s.editClient)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	cfg = bn.config(cfg, client, s)

	l := &runLoop{bench: bn, pinned: s.pinnedSeed, failures: s.failureCheck(), cfg: cfg, seed: seed}
	var rep *servingbench.Report
	for b.Loop() {
		b.StopTimer()
		rep = l.run(b)
		b.StartTimer()
	}

	ReportMetrics(b, rep)
	for _, line := range l.unjudged {
		b.Log(line)
	}
	for _, w := range rep.Warnings {
		b.Logf("warning: %v", w)
	}
	if s.hasSLA {
		switch s.slaMode {
		case SLAReport:
			ReportSLA(b, rep, s.sla)
		default:
			RequireSLA(b, rep, s.sla)
		}
	}
	return rep
}

// bench is what the runs of one Run or Capacity share: the target, the
// scenario resized by the environment, the tokenizer and the metadata
// every report carries.
type bench struct {
	e     *endpoint
	sc    scenarios.Scenario
	tok   servingbench.Tokenizer
	tokID string
	meta  map[string]string // label and server identity
}

// newBench resolves the target and label of a benchmark (its options,
// else Main's, else the environment's), logs the target's one-time
// notices, checks the label against Main's configuration lines, resizes
// sc by the environment and picks the tokenizer. It fails b on a bad
// target, scale or failure budget.
func newBench(b *testing.B, sc scenarios.Scenario, s settings) *bench {
	b.Helper()
	if s.hasBudget && s.failureBudget < 0 {
		b.Fatalf("benchtest: WithFailureBudget(%d): the budget must be >= 0", s.failureBudget)
	}
	file := currentFile()
	t, label := file.target, file.label
	if s.hasTarget {
		t = s.target
	}
	if s.hasLabel {
		label = s.label
	}
	var e *endpoint
	var err error
	if s.hasServer {
		e, err = serverEndpoint(s.server)
	} else {
		e, err = resolve(t)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range e.takeNotes() {
		b.Log(line)
	}
	checkLabel(b, e, label)
	if sc, err = scaled(sc); err != nil {
		b.Fatal(err)
	}
	bn := &bench{e: e, sc: sc, tok: s.tok, tokID: s.tokID, meta: e.metadata(label)}
	if bn.tok == nil {
		var note string
		bn.tok, bn.tokID, note = e.tokenizer()
		if note != "" {
			b.Log(note)
		}
	}
	return bn
}

// config returns cfg, a run's requests, arrival and limits, with the
// client and the fields every run of bn shares.
func (bn *bench) config(cfg servingbench.Config, client servingbench.Client, s settings) servingbench.Config {
	cfg.Client = client
	cfg.Goodput = s.goodput
	cfg.Backend = bn.e.target.Backend
	cfg.Model = bn.e.target.Model
	cfg.TokenizerID = bn.tokID
	cfg.ServerMetrics = bn.e.serverMetrics()
	return cfg
}

// exec makes one run of cfg, the requests of sc drawn with seed: the
// report's metadata set, the simulated server's records dropped, the
// prefix cache watched. It times only servingbench.Run: call it with b's
// timer stopped. The failures of the report are not checked.
func (bn *bench) exec(b *testing.B, cfg servingbench.Config, sc scenarios.Scenario, seed uint64) (*servingbench.Report, error) {
	b.Helper()
	cfg.Metadata = maps.Clone(bn.meta)
	cfg.Metadata["scenario"] = sc.String()
	cfg.Metadata["seed"] = strconv.FormatUint(seed, 10)
	if err := shardConfig(&cfg, seed); err != nil { // shard.go
		return nil, err
	}
	if bn.e.sim != nil && bn.e.ownsSim {
		bn.e.sim.Reset() // nobody reads the simulated server's records
	}
	watch, note := watchPrefixCache(b.Context(), bn.e, sc)
	if note != "" {
		b.Log(note)
	}
	b.StartTimer()
	rep, err := servingbench.Run(b.Context(), cfg)
	b.StopTimer()
	if err != nil {
		return nil, connError(err, bn.e.target)
	}
	var warmup *servingbench.Request
	if cfg.Warmup {
		warmup = &cfg.Requests[0]
	}
	if w := watch.warning(b.Context(), sc, seed, warmup); w != nil {
		rep.Warnings = append(rep.Warnings, w)
	}
	return rep, nil
}

// runLoop is what the runs of one Run share.
type runLoop struct {
	*bench
	pinned   bool
	failures failureCheck
	cfg      servingbench.Config // the requests of seed
	seed     uint64
	// unjudged lists the failures of runs before the last that the SLA,
	// which judges only the last, decides on; pending is the last run's.
	unjudged []string
	pending  string
}

// run makes one run, the benchmark's next: its requests drawn with the
// run's seed, the prefix cache watched, the failures checked (b.Fatal).
// Call it with b's timer stopped; it times only servingbench.Run.
func (l *runLoop) run(b *testing.B) *servingbench.Report {
	b.Helper()
	if seed := runSeed(l.sc, nextRun(b.Name()), l.pinned); seed != l.seed {
		next, err := prepareRun(b.Context(), l.sc, seed, l.tok)
		if err != nil {
			b.Fatal(err)
		}
		l.seed, l.cfg.Requests, l.cfg.Arrival = seed, next.Requests, next.Arrival
	}
	rep, err := l.exec(b, l.cfg, l.sc, l.seed)
	if err != nil {
		b.Fatal(err)
	}
	if err := noSuccess(rep, l.seed); err != nil {
		b.Fatal(err)
	}
	if err := l.failures.check(rep, l.seed); err != nil {
		b.Fatal(err)
	}
	if !l.failures.byBudget() {
		if l.pending != "" {
			l.unjudged = append(l.unjudged, l.pending)
		}
		l.pending = unjudgedFailures(rep, l.seed)
	}
	return rep
}

// prepareRun makes the requests and arrival process of sc drawn with seed
// into a Config with the scenario's MaxConcurrency and Warmup.
func prepareRun(ctx context.Context, sc scenarios.Scenario, seed uint64, tok servingbench.Tokenizer) (servingbench.Config, error) {
	sc.Seed = seed
	reqs, arrival, err := sc.Prepare(ctx, tok)
	if err != nil {
		return servingbench.Config{}, err
	}
	return servingbench.Config{Requests: reqs, Arrival: arrival, MaxConcurrency: sc.MaxConcurrency, Warmup: sc.Warmup}, nil
}

// ReportMetrics reports r's metrics on b, with these units (see
// gate.LatencyUnit and the gate.Unit constants):
//
//   - ttft, tpot, itl, e2el: mean, median and p99 in nanoseconds
//     (ttft-mean-ns, ttft-median-ns, ttft-p99-ns, ...);
//   - req/s, out-tok/s and tok/s: request, output token and total token
//     throughput;
//   - goodput-req/s, only when r has goodput SLOs;
//   - failed: failed requests;
//   - for a run that saw reasoning output (Report.ReasoningRequests > 0):
//     ttfo, the time to the first answer token, mean, median and p99 in
//     nanoseconds (ttfo-mean-ns, ...), and reasoning-tok/req and
//     answer-tok/req, the reasoning and answer tokens a request;
//   - the server's own figures when its /metrics was scraped (see
//     reportServerMetrics);
//   - for a run with kernel receive timestamps (Report.ClientLag), the
//     client lag's p99 and max in nanoseconds, client-lag-p99-ns and
//     client-lag-max-ns;
//
// and hides the built-in ns/op, meaningless when an iteration is a whole
// run. Call it after the b.Loop loop: the first b.Loop call deletes
// metrics reported before it. Run calls it; call it yourself when you run
// servingbench.Run in your own benchmark.
func ReportMetrics(b *testing.B, r *servingbench.Report) {
	b.Helper()
	reasoning := r.ReasoningRequests > 0
	for _, m := range servingbench.LatencyMetrics() {
		if !m.VLLM && !(reasoning && m.Key == "ttfo") {
			continue
		}
		s := m.Of(r)
		b.ReportMetric(float64(s.Mean), gate.LatencyUnit(m.Key, "mean"))
		b.ReportMetric(float64(s.Median), gate.LatencyUnit(m.Key, "median"))
		p99, _ := s.Percentile(99)
		b.ReportMetric(float64(p99), gate.LatencyUnit(m.Key, "p99"))
	}
	b.ReportMetric(r.RequestThroughput, gate.UnitRequestThroughput)
	b.ReportMetric(r.OutputThroughput, gate.UnitOutputThroughput)
	b.ReportMetric(r.TotalTokenThroughput, gate.UnitTotalThroughput)
	if !r.GoodputSLO.IsZero() {
		b.ReportMetric(r.Goodput, gate.UnitGoodput)
	}
	b.ReportMetric(float64(r.Failed), gate.UnitFailed)
	if reasoning {
		b.ReportMetric(r.MeanReasoningTokens(), gate.UnitReasoningTokens)
		b.ReportMetric(r.MeanAnswerTokens(), gate.UnitAnswerTokens)
	}
	reportServerMetrics(b, r)
	reportClientLag(b, r) // clientlag.go
	b.ReportMetric(0, "ns/op")
}

// Sweep runs each scenario as a sub-benchmark of b through Run, with the
// same options, and returns their reports in order (nil for a
// sub-benchmark that failed or was not selected by -bench). Each
// sub-benchmark is named by the key=value pairs in which the scenarios'
// Strings differ, so that a rate sweep gives rate=1, rate=4, rate=16 and
// benchstat -col /rate puts the rates side by side:
//
//	func BenchmarkChatRates(b *testing.B) {
//		benchtest.Sweep(b, scenarios.RateSweep(scenarios.Chat(), 1, 4, 16))
//	}
//
// A key a scenario lacks is named key=none (concurrency=none: no limit);
// a single scenario is named scenario=NAME, or by its String without a
// Name.
func Sweep(b *testing.B, scs []scenarios.Scenario, opts ...Option) []*servingbench.Report {
	b.Helper()
	reps := make([]*servingbench.Report, len(scs))
	for i, name := range SweepNames(scs) {
		b.Run(name, func(b *testing.B) { reps[i] = Run(b, scs[i], opts...) })
	}
	return reps
}

// SweepNames returns the sub-benchmark names Sweep gives scs: the
// key=value pairs of each scenario's String whose values are not the same
// in every scenario, joined by "/", in the order the keys first appear.
func SweepNames(scs []scenarios.Scenario) []string {
	all := make([]map[string]string, len(scs))
	var keys []string
	seen := map[string]bool{}
	for i, sc := range scs {
		all[i] = map[string]string{}
		for _, p := range strings.Split(sc.String(), "/") {
			k, v, _ := strings.Cut(p, "=")
			all[i][k] = v
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var varying []string
	for _, k := range keys {
		v0, ok0 := all[0][k]
		for _, m := range all[1:] {
			if v, ok := m[k]; ok != ok0 || v != v0 {
				varying = append(varying, k)
				break
			}
		}
	}
	names := make([]string, len(scs))
	for i, sc := range scs {
		if len(varying) == 0 {
			names[i] = sc.String()
			if sc.Name != "" {
				names[i] = "scenario=" + sc.Name
			}
			continue
		}
		parts := make([]string, len(varying))
		for j, k := range varying {
			v, ok := all[i][k]
			if !ok {
				v = "none"
			}
			parts[j] = k + "=" + v
		}
		names[i] = strings.Join(parts, "/")
	}
	return names
}

// envTarget is TargetFromEnv(os.Getenv), read once per process.
var envTarget = sync.OnceValue(func() Target { return TargetFromEnv(nil) })

// takeNotes returns e's one-line notices the first time it is called in
// the process, nil afterwards.
func (e *endpoint) takeNotes() []string {
	var notes []string
	e.noticeOnce.Do(func() { notes = e.notes })
	return notes
}
