package benchtest

import (
	"context"
	"maps"
	"strconv"
	"testing"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
)

// ConversationSource makes a run's conversations: n of them (the
// scenario's NumPrompts) drawn with seed, their lengths counted with tok.
// It has the shape of the Conversations method of package scenarios'
// conversation datasets, so such a dataset's method value is one.
type ConversationSource func(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error)

// ConversationOptions are the runner's conversation settings
// (servingbench.Config's MaxActiveConversations and ReplayReplies).
type ConversationOptions struct {
	// MaxActive bounds the conversations in progress; 0: no bound.
	MaxActive int
	// ReplayReplies sends the dataset's replies in the history instead of
	// the generated text.
	ReplayReplies bool
	// RenderChat renders the history for the completions and native
	// non-chat backends; nil means the tokenizer's chat template when it
	// has one (servingbench.ChatTemplater), else the contents joined with
	// "\n".
	RenderChat func([]servingbench.Message) (string, error)
}

// WithConversations makes Run send multi-turn conversations from src in
// place of the scenario's requests (a scenario with Conversations, such
// as scenarios.ChatAssistant, needs no option: Run sends them, bounded by
// its MaxActiveConversations unless opt.MaxActive is set): the scenario gives their number
// (NumPrompts), arrival (RequestRate, Burstiness or a ramp), MaxConcurrency,
// Warmup and seed. The client keeps the generated text, which the history
// carries.
//
// A run of conversations reports no metrics of its own benchmark:
// Run reports them on sub-benchmarks, "turn=all" with Run's usual metrics
// over every turn and the conversations' (conv-duration-mean-ns,
// conv-duration-median-ns, conv-duration-p99-ns, completed-conv, and
// prefix-hit-ratio when the server's /metrics has prefix-cache counters),
// then "turn=1", "turn=2", ... with each turn number's TTFT, TPOT, ITL and
// E2EL (mean, median, p99 in ns), in-tok/req, out-tok/req and failed. So
// benchstat shows one table a unit with a row a turn, and
// `benchstat -col /turn` puts the turns side by side; names such as
// ttft-turn3-p99-ns would give a table for each turn of each statistic.
// Each -count iteration is one run (-count=N gives N independent samples
// of every sub-benchmark); -benchtime has no effect.
func WithConversations(src ConversationSource, opt ConversationOptions) Option {
	return func(s *settings) { s.conv, s.convOpt = src, opt }
}

// runConversations is Run for WithConversations. The parent benchmark
// makes the first run; the sub-benchmark turn=all makes one more run for
// each further -count iteration (b.Loop makes testing call its body
// once an iteration), and turn=K reports turn K of the run of its
// iteration, so every line of a sub-benchmark is an independent sample,
// the lines of one iteration come from one run.
func runConversations(b *testing.B, bn *bench, s settings) *servingbench.Report {
	b.Helper()
	parent := b.Name()
	user := s.editClient
	client, err := bn.e.client(bn.sc, bn.tok, func(c *servingbench.OpenAIConfig) {
		if user != nil {
			user(c)
		}
		c.KeepText = true // the history carries the generated text
	})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	reps := []*servingbench.Report{convRun(b, bn, s, client, parent)}
	calls := 0
	b.Run("turn=all", func(b *testing.B) {
		if calls > 0 {
			reps = append(reps, convRun(b, bn, s, client, parent))
		}
		rep := reps[calls]
		calls++
		for b.Loop() {
		}
		ReportMetrics(b, rep)
		reportConversations(b, rep.Conversations)
		if s.hasSLA && s.slaMode == SLAReport {
			ReportSLA(b, rep, s.sla)
		}
	})
	turns := 0
	for _, rep := range reps {
		turns = max(turns, len(rep.Conversations.PerTurn))
	}
	for k := 1; k <= turns; k++ {
		j := 0
		b.Run("turn="+strconv.Itoa(k), func(b *testing.B) {
			if j >= len(reps) {
				b.Skip("benchtest: no run of this -count iteration (turn=all failed)")
			}
			rep := reps[j]
			j++
			if k > len(rep.Conversations.PerTurn) {
				b.Skipf("benchtest: no conversation of this run reached turn %d", k)
			}
			for b.Loop() {
			}
			reportTurn(b, &rep.Conversations.PerTurn[k-1])
		})
	}
	return reps[len(reps)-1]
}

// convRun makes one run of conversations, the benchmark parent's next:
// the conversations drawn with the run's seed, the failures checked
// (b.Fatal), the SLA required unless it is only reported.
func convRun(b *testing.B, bn *bench, s settings, client servingbench.Client, parent string) *servingbench.Report {
	b.Helper()
	sc := bn.sc
	seed := runSeed(sc, nextRun(parent), s.pinnedSeed)
	sc.Seed = seed
	var convs []servingbench.Conversation
	var arrival servingbench.Arrival
	var err error
	active := s.convOpt.MaxActive
	if s.conv != nil {
		convs, err = s.conv(b.Context(), bn.tok, sc.NumPrompts, seed)
		arrival = conversationArrival(sc)
	} else {
		convs, arrival, err = sc.PrepareConversations(b.Context(), bn.tok)
		if active == 0 {
			active = sc.MaxActiveConversations
		}
	}
	if err != nil {
		b.Fatalf("benchtest: making the conversations of %s: %v", sc, err)
	}
	cfg := bn.config(servingbench.Config{
		Conversations: convs, Arrival: arrival, MaxConcurrency: sc.MaxConcurrency, Warmup: sc.Warmup,
		MaxActiveConversations: active, ReplayReplies: s.convOpt.ReplayReplies, RenderChat: s.convOpt.RenderChat,
	}, client, s)
	if cfg.RenderChat == nil && !bn.e.tg.Backend.SendsMessages() {
		// Completions and native prompt APIs get the history rendered with
		// the model's chat template when the tokenizer has one.
		if ct, ok := bn.tok.(servingbench.ChatTemplater); ok {
			cfg.RenderChat = ct.ApplyChatTemplate
		}
	}
	cfg.PrefixCache = func(ctx context.Context) (servingbench.PrefixCacheUse, bool) {
		p, ok := bn.e.tg.PrefixCache(ctx)
		return servingbench.PrefixCacheUse{Queries: p.Queries, Hits: p.Hits, Source: p.Source}, ok
	}
	cfg.Metadata = maps.Clone(bn.meta)
	cfg.Metadata["scenario"] = sc.String()
	cfg.Metadata["seed"] = strconv.FormatUint(seed, 10)
	if bn.e.sim != nil && bn.e.ownsSim {
		bn.e.sim.Reset()
	}
	rep, err := servingbench.Run(b.Context(), cfg)
	if err != nil {
		b.Fatal(connError(err, bn.e.target))
	}
	if err := noSuccess(rep, seed); err != nil {
		b.Fatal(err)
	}
	if err := s.failureCheck().check(rep, seed); err != nil {
		b.Fatal(err)
	}
	for _, w := range rep.Warnings {
		b.Logf("warning: %v", w)
	}
	if s.hasSLA && s.slaMode != SLAReport {
		RequireSLA(b, rep, s.sla)
	}
	return rep
}

// conversationArrival is the scenario's arrival process for the
// conversations' first turns, as Scenario.Prepare makes it for requests.
func conversationArrival(sc scenarios.Scenario) servingbench.Arrival {
	if sc.RampEndRPS != 0 {
		return servingbench.Ramp{Strategy: sc.RampStrategy, Start: sc.RampStartRPS, End: sc.RampEndRPS, Burstiness: sc.Burstiness, Seed: sc.Seed}
	}
	return servingbench.Gamma{Rate: sc.RequestRate, Burstiness: sc.Burstiness, Seed: sc.Seed}
}

// reportConversations reports the conversations' own metrics.
func reportConversations(b *testing.B, c *servingbench.ConversationReport) {
	p99, _ := c.Duration.Percentile(99)
	b.ReportMetric(float64(c.Duration.Mean), gate.LatencyUnit("conv-duration", "mean"))
	b.ReportMetric(float64(c.Duration.Median), gate.LatencyUnit("conv-duration", "median"))
	b.ReportMetric(float64(p99), gate.LatencyUnit("conv-duration", "p99"))
	b.ReportMetric(float64(c.Completed), gate.UnitCompletedConversations)
	if c.PrefixCache != nil {
		b.ReportMetric(c.PrefixCache.HitRate(), gate.UnitPrefixHitRatio)
	}
}

// reportTurn reports one turn number's metrics.
func reportTurn(b *testing.B, t *servingbench.TurnSummary) {
	for _, m := range []struct {
		key string
		s   servingbench.Summary
	}{{"ttft", t.TTFT}, {"tpot", t.TPOT}, {"itl", t.ITL}, {"e2el", t.E2EL}} {
		p99, _ := m.s.Percentile(99)
		b.ReportMetric(float64(m.s.Mean), gate.LatencyUnit(m.key, "mean"))
		b.ReportMetric(float64(m.s.Median), gate.LatencyUnit(m.key, "median"))
		b.ReportMetric(float64(p99), gate.LatencyUnit(m.key, "p99"))
	}
	b.ReportMetric(t.MeanInputTokens(), gate.UnitInputTokens)
	b.ReportMetric(t.MeanOutputTokens(), gate.UnitOutputTokens)
	b.ReportMetric(float64(t.Failed), gate.UnitFailed)
	b.ReportMetric(0, "ns/op")
}
