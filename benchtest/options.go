package benchtest

import (
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// Option configures Run, Sweep and Capacity.
type Option func(*settings)

// SLAMode says what Run does with an SLA the run does not meet.
type SLAMode int

const (
	// SLAEnforce fails the benchmark through RequireSLA, listing every
	// violation. A failed benchmark prints no result line, so its metrics
	// never reach benchstat.
	SLAEnforce SLAMode = iota
	// SLAReport keeps the benchmark passing: each violation is logged and
	// their number reported as the sla-violations metric (ReportSLA), which
	// the regression gate treats as lower is better.
	SLAReport
)

func (m SLAMode) String() string {
	switch m {
	case SLAEnforce:
		return "enforce"
	case SLAReport:
		return "report"
	}
	return "SLAMode(?)"
}

type settings struct {
	target        Target
	hasTarget     bool
	sla           servingbench.SLA
	slaMode       SLAMode
	hasSLA        bool
	goodput       servingbench.SLO
	tok           servingbench.Tokenizer
	tokID         string
	client        []func(*servingbench.OpenAIConfig)
	pinnedSeed    bool
	label         string
	hasLabel      bool
	failureBudget int
	hasBudget     bool
	server        *servingtest.Server
	hasServer     bool
	search        capacity.SearchConfig
	hasSearch     bool
	conv          ConversationSource  // WithConversations
	convOpt       ConversationOptions // WithConversations
}

func newSettings(opts []Option) settings {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithTarget benchmarks t instead of the environment's target
// (TargetFromEnv). Given to Main, t is the file's target, whose identity
// Main prints and which every Run that gives no target of its own
// measures. Given to Run, t's identity does not reach the benchfmt
// configuration Main printed: name the sub-benchmark after it
// (b.Run("model="+t.Model, ...), or label=LABEL with WithLabel) so that
// benchstat -col /model or -col /label can compare targets. It replaces
// an earlier WithServer.
func WithTarget(t Target) Option {
	return func(s *settings) { s.target, s.hasTarget, s.server, s.hasServer = t, true, nil, false }
}

// WithLabel names the build the benchmark measures, "q8_0" or "f16", as
// SERVINGBENCH_LABEL does (EnvLabel): given to Main, it is the file's label,
// printed as the label configuration line, and every Run's that gives
// none; given to Run, that benchmark's, recorded in the report's
// Metadata["label"] (name the sub-benchmark label=LABEL too when it
// differs from the file's: see Main). The label is made one trimmed
// line; WithLabel("") means no label, whatever SERVINGBENCH_LABEL says.
func WithLabel(label string) Option {
	return func(s *settings) { s.label, s.hasLabel = configValue(label), true }
}

// WithSLA checks each run's report against sla after the b.Loop loop, in
// the given mode. A later WithSLA replaces an earlier one. Capacity fails
// on it: its sla argument judges every point of the search.
func WithSLA(sla servingbench.SLA, mode SLAMode) Option {
	return func(s *settings) { s.sla, s.slaMode, s.hasSLA = sla, mode, true }
}

// WithPinnedSeed makes every run of the benchmark draw its prompts (and
// arrival times) with the scenario's own Seed, instead of the default
// Seed + k for the k-th run (see Run). Every run then sends the same
// prompts, which a server with a prefix cache (vLLM's, llama.cpp's slot
// and host prompt caches) may answer from that cache after the first:
// use it to measure that cache, or a server without one.
func WithPinnedSeed() Option {
	return func(s *settings) { s.pinnedSeed = true }
}

// WithFailureBudget lets each run have up to n failed requests: a run with
// more fails the benchmark, listing the failures grouped by reason, as a
// run with any does without a budget (see Run). It replaces the decision
// an SLA with a failed or failed_rate limit would otherwise make; the SLA
// still applies in its own mode. n must be >= 0. Given to Capacity, it
// adds the limit failed<=n to the SLA every point is judged on (see
// Capacity).
func WithFailureBudget(n int) Option {
	return func(s *settings) { s.failureBudget, s.hasBudget = n, true }
}

// WithGoodput sets the per-request objectives of the goodput metric
// (vLLM's --goodput); Run then reports goodput-req/s, and an SLA's
// goodput limit (Capacity's, WithSLA's) can be judged.
func WithGoodput(slo servingbench.SLO) Option {
	return func(s *settings) { s.goodput = slo }
}

// WithTokenizer makes the requests with tok, named id in the report,
// instead of the target's tokenizer (see Target.Tokenizer).
func WithTokenizer(tok servingbench.Tokenizer, id string) Option {
	return func(s *settings) { s.tok, s.tokID = tok, id }
}

// WithClientConfig edits the configuration of the OpenAI-compatible client
// after Run has filled it in from the target and the scenario: timeouts,
// ExtraBody, Endpoint, an HTTPClient. Several edits apply in order.
func WithClientConfig(edit func(*servingbench.OpenAIConfig)) Option {
	return func(s *settings) { s.client = append(s.client, edit) }
}

// editClient applies every WithClientConfig edit.
func (s *settings) editClient(cfg *servingbench.OpenAIConfig) {
	for _, f := range s.client {
		f(cfg)
	}
}
