package benchtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// Capacity runs a capacity search (capacity.Search) of the scenario sc
// against the target once per b.Loop iteration: the largest load at which
// every limit of sla holds. It reports the last search's capacity as
// capacity-req/s (a request-rate search, the default) or
// capacity-concurrency (a max-concurrency search; see WithSearch), which
// the regression gate (gate.UnitBetter, servingbench compare) treats as
// higher is better, and the metrics of its best point, the passing run at
// the capacity, as Run reports a run's (ReportMetrics: ttft-p99-ns, req/s,
// failed, ...). It returns the last search's result, whose Points hold
// every run's report and verdict.
//
//	func BenchmarkCapacity(b *testing.B) {
//		sla := servingbench.MustParseSLA("ttft.p99<=500ms tpot.p99<=50ms")
//		benchtest.Capacity(b, scenarios.SeedRandom256(scenarios.WithNumPrompts(100)), sla)
//	}
//
// The target, label, scale (SERVINGBENCH_NUM_PROMPTS, ...), tokenizer and
// client are Run's, by Run's rules, and so are the benchfmt configuration
// lines Main prints: benchstat -col model (or -col label) compares the
// capacities of two builds. WithTarget, WithServer, WithLabel,
// WithTokenizer, WithClientConfig, WithPinnedSeed, WithGoodput (for a
// goodput limit) and WithFailureBudget apply; WithSearch configures the
// search; WithSLA does not apply (sla judges every point) and fails b.
//
// Each point of the search is a run of sc at one load. A request-rate
// search sets the scenario's RequestRate (a Gamma process of its
// Burstiness) and keeps its MaxConcurrency as the fixed bound on requests
// in flight; a max-concurrency search sets MaxConcurrency and keeps
// RequestRate (0: every request at once). The scenario's own value on the
// searched dimension is not used; the search starts at WithSearch's Start
// (default 1). Every point runs the scenario's NumPrompts requests, which
// must be enough for the statistics sla bounds (capacity.MinRequests:
// 100 for a p99, 10 for a p90): fewer fail b before any request is sent.
// A concurrency search goes up to NumPrompts at most.
//
// Each run, every point and every repeat of a point near a limit, draws
// fresh prompts by Run's rule: the k-th run of the benchmark in the
// process uses the scenario's Seed + k, so that a server's prefix cache
// cannot answer a point from an earlier point's prompts (WithPinnedSeed
// keeps every run on Seed). The report's Metadata["scenario"] is the
// point's scenario, its rate or concurrency set.
//
// Failed requests are data: a point where requests fail is a load the
// server does not carry, and its verdict is sla's. When sla bounds no
// failures (no failed or failed_rate limit), Capacity adds failed<=0, or
// failed<=n with WithFailureBudget(n) (which adds its limit to any sla;
// the SLA's own limits still apply), so that survivors' latencies never
// pass a load that dropped requests; the result's SLA is the one judged.
// Capacity does not fail b on failed requests, except when no request
// succeeded in any run of the search: a target that answers nothing has
// no capacity to measure, and b fails listing the first run's failures.
//
// When no load passes, the capacity is 0 and reported as 0, a
// measurement rather than a failure, with no other metric (there is no
// passing point); the log says which limit the lowest load tried
// violated and by how much. When the highest load tried passed (Max, or a
// search stopped by MaxPoints or Budget before a load failed), the
// capacity is a lower bound, logged as "at least": a benchstat comparison
// of two such capacities compares the bounds. After the result line, the
// search is logged in a few lines (go test keeps 10 lines of a
// benchmark's log): the capacity and the SLA judged, the first failing
// point with the limits it violated and by how much, the loads tried in
// order with their verdicts, and the points whose repeats disagreed; the
// reports' warnings follow. The result's WriteText prints the whole table
// of measured values.
//
// A search is several runs (up to MaxPoints loads, 20 by default, each
// repeated up to twice near a limit): size the scenario for it, bound it
// with WithSearch's MaxPoints and Budget, and run with -benchtime=1x
// -timeout 0. A target or scenario that is invalid, a search
// configuration capacity.Search rejects and a run servingbench.Run cannot
// make fail b, as in Run.
func Capacity(b *testing.B, sc scenarios.Scenario, sla servingbench.SLA, opts ...Option) *capacity.SearchResult {
	b.Helper()
	s := newSettings(opts)
	if s.hasSLA {
		b.Fatal("benchtest: Capacity: WithSLA does not apply: the search judges every point on Capacity's sla argument")
	}
	if len(sla.Limits) == 0 {
		b.Fatal("benchtest: Capacity: the SLA has no limits: every load would pass")
	}
	if err := checkSearch(s.search); err != nil {
		b.Fatal(err)
	}
	if sc.RampEndRPS != 0 {
		b.Fatalf("benchtest: Capacity: scenario %s ramps its rate up, and the search sets the load itself: give it the scenario without the ramp", sc)
	}
	bn := newBench(b, sc, s)
	c := &capacityLoop{bench: bn, name: b.Name(), pinned: s.pinnedSeed}
	cfg := s.search
	cfg.SLA = judgedSLA(sla, s)
	cfg.Requests = bn.sc.NumPrompts
	if need := capacity.MinRequests(cfg.SLA, cfg.TailRequests); bn.sc.NumPrompts >= 1 && bn.sc.NumPrompts < need {
		b.Fatalf("benchtest: Capacity: every point runs the scenario's NumPrompts requests, and %s has %d, fewer than the %d the percentiles of SLA %q are judged on (capacity.MinRequests: 100 for a p99, 10 for a p90): raise its NumPrompts (SERVINGBENCH_NUM_PROMPTS resizes it)",
			bn.sc, bn.sc.NumPrompts, need, sla)
	}
	peak := bn.sc.MaxConcurrency
	if cfg.Dimension == capacity.MaxConcurrency {
		cfg.Base.Rate = bn.sc.RequestRate
		if peak = int(cfg.Max); peak == 0 {
			peak = bn.sc.NumPrompts
		}
	} else {
		cfg.Base.Concurrency = bn.sc.MaxConcurrency
	}

	// The first point's requests, made before the loop so that a bad
	// scenario fails before anything is sent.
	start := cfg.Start
	if start == 0 {
		start = 1
	}
	first := c.scenario(cfg.Dimension.With(cfg.Base, start))
	prep, err := prepareRun(b.Context(), first, runSeed(bn.sc, peekRun(c.name), c.pinned), bn.tok)
	if err != nil {
		b.Fatal(err)
	}
	if note, err := checkFileLimit(bn.e, prep.Requests, prep.Arrival, peak); err != nil {
		b.Fatal(err)
	} else if note != "" {
		b.Log(note)
	}
	pool := bn.sc
	pool.MaxConcurrency = peak
	client, err := bn.e.client(pool, bn.tok, s.editClient)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	c.cfg = bn.config(servingbench.Config{Warmup: bn.sc.Warmup}, client, s)
	cfg.Run = func(ctx context.Context, load capacity.Load) (*servingbench.Report, error) {
		return c.run(b, load)
	}

	var res *capacity.SearchResult
	for b.Loop() {
		b.StopTimer()
		res, err = capacity.Search(b.Context(), cfg)
		if err != nil {
			b.Fatalf("benchtest: Capacity of %s: %v", bn.sc, err)
		}
		if err := c.noSuccess(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}

	b.ReportMetric(res.Capacity, CapacityUnit(res.Dimension))
	if best := res.Best(); best != nil {
		ReportMetrics(b, best.Report())
	} else {
		b.ReportMetric(0, "ns/op")
	}
	b.Log(strings.Join(capacityLog(res), "\n"))
	for _, p := range res.Points {
		for i, t := range p.Trials {
			for _, w := range t.Report.Warnings {
				b.Logf("warning: %s=%v, run %d of the point: %v", res.Dimension, p.Value, i+1, w)
			}
		}
	}
	return res
}

// CapacityUnit is the unit Capacity reports a capacity of dimension d in:
// gate.UnitCapacityRate ("capacity-req/s") or gate.UnitCapacityConcurrency
// ("capacity-concurrency").
func CapacityUnit(d capacity.Dimension) string {
	if d == capacity.MaxConcurrency {
		return gate.UnitCapacityConcurrency
	}
	return gate.UnitCapacityRate
}

// WithSearch configures Capacity's search with the fields of cfg that
// describe it, each as capacity.SearchConfig documents, a zero field
// keeping its default: Dimension (capacity.RequestRate, the default, or
// capacity.MaxConcurrency), Start, Min, Max, Resolution, TailRequests,
// MaxPoints, Budget, Noise, Repeats and the OnRun and OnPoint callbacks.
// Capacity sets the others from its arguments, and a cfg that sets one
// fails the benchmark: SLA (Capacity's sla), Run (the target), Base (the
// scenario's MaxConcurrency in a request-rate search, its RequestRate in
// a max-concurrency search) and Requests (the scenario's NumPrompts). A
// later WithSearch replaces an earlier one; Run fails on it.
func WithSearch(cfg capacity.SearchConfig) Option {
	return func(s *settings) { s.search, s.hasSearch = cfg, true }
}

// checkSearch rejects a WithSearch configuration that sets what Capacity
// sets.
func checkSearch(cfg capacity.SearchConfig) error {
	var set []string
	if len(cfg.SLA.Limits) > 0 {
		set = append(set, "SLA (Capacity's sla argument)")
	}
	if cfg.Run != nil {
		set = append(set, "Run (Capacity runs the scenario against the target)")
	}
	if cfg.Base != (capacity.Load{}) {
		set = append(set, "Base (set the scenario's MaxConcurrency for a request-rate search, its RequestRate for a max-concurrency search)")
	}
	if cfg.Requests != 0 {
		set = append(set, "Requests (the scenario's NumPrompts are the requests of every point)")
	}
	if len(set) > 0 {
		return errors.New("benchtest: WithSearch: Capacity sets SearchConfig." + strings.Join(set, ", SearchConfig.") + "; leave it zero")
	}
	return nil
}

// judgedSLA is the SLA Capacity judges points on: sla, with failed<=n
// added for WithFailureBudget(n), else failed<=0 when sla bounds no
// failures.
func judgedSLA(sla servingbench.SLA, s settings) servingbench.SLA {
	if !s.hasBudget && slaJudgesFailures(sla) {
		return sla
	}
	limit := servingbench.Limit{Metric: servingbench.MetricFailed, Op: servingbench.AtMost}
	if s.hasBudget {
		limit.Value = float64(s.failureBudget)
	}
	return servingbench.SLA{Limits: append(slices.Clone(sla.Limits), limit)}
}

// capacityLoop is what the runs of one Capacity share.
type capacityLoop struct {
	*bench
	name   string
	pinned bool
	cfg    servingbench.Config // the client and what every run shares
	// runs counts the runs of the current search, served those with a
	// successful request, and failures is the first run's report.
	runs, served int
	failures     *servingbench.Report
	firstSeed    uint64
}

// scenario returns the scenario of a point: the benchmark's with the
// point's rate or concurrency.
func (c *capacityLoop) scenario(load capacity.Load) scenarios.Scenario {
	sc := c.sc
	sc.RequestRate, sc.MaxConcurrency = load.Rate, load.Concurrency
	return sc
}

// run is the search's Runner: one run of the scenario at load, with the
// benchmark's next seed. Its failed requests are data.
func (c *capacityLoop) run(b *testing.B, load capacity.Load) (*servingbench.Report, error) {
	b.Helper()
	sc := c.scenario(load)
	seed := runSeed(c.sc, nextRun(c.name), c.pinned)
	prep, err := prepareRun(b.Context(), sc, seed, c.tok)
	if err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.Requests, cfg.Arrival, cfg.MaxConcurrency = prep.Requests, prep.Arrival, prep.MaxConcurrency
	rep, err := c.exec(b, cfg, sc, seed)
	if err != nil {
		return nil, err
	}
	if c.runs == 0 {
		c.served, c.failures, c.firstSeed = 0, rep, seed
	}
	c.runs++
	if rep.Completed > 0 {
		c.served++
	}
	return rep, nil
}

// noSuccess returns an error when no run of the search just made had a
// successful request, and starts counting the next search's runs.
func (c *capacityLoop) noSuccess() error {
	runs, served := c.runs, c.served
	c.runs = 0
	if runs == 0 || served > 0 {
		return nil
	}
	r := c.failures
	return fmt.Errorf("benchtest: Capacity: no request succeeded in any of the search's %d runs: the target answers nothing, which is no capacity; the first run, with seed %d, had %d failed requests:%s",
		runs, c.firstSeed, r.Failed, failureReasons(r))
}
