package gate

import (
	"strings"
)

// Units benchtest.Run and benchtest.Capacity report through
// testing.B.ReportMetric. Latencies are in nanoseconds with a -ns suffix,
// which benchstat rescales to seconds with an SI prefix (see LatencyUnit).
const (
	UnitRequestThroughput = "req/s"          // successful requests per second
	UnitOutputThroughput  = "out-tok/s"      // output tokens per second
	UnitTotalThroughput   = "tok/s"          // input plus output tokens per second
	UnitGoodput           = "goodput-req/s"  // requests meeting the goodput SLOs per second
	UnitFailed            = "failed"         // failed requests per run
	UnitSLAViolations     = "sla-violations" // see ReportSLA

	// Reasoning models: the reasoning and the answer tokens a successful
	// request (per request, not per second: more reasoning is neither
	// better nor worse, so the gate reports changes and never judges them).
	UnitReasoningTokens = "reasoning-tok/req"
	UnitAnswerTokens    = "answer-tok/req"

	// The capacity benchtest.Capacity found: the largest request rate, or
	// maximum concurrency, at which every limit of an SLA held; 0 when
	// none did. Higher is better.
	UnitCapacityRate        = "capacity-req/s"
	UnitCapacityConcurrency = "capacity-concurrency"

	// Conversations (benchtest.WithConversations): the input and output
	// tokens of a turn number's successful turns (reported, never
	// judged: the history's growth is the workload's), the conversations
	// that completed every turn and the share of the prompt tokens the
	// server's prefix cache served (reported, never judged either).
	UnitInputTokens            = "in-tok/req"
	UnitOutputTokens           = "out-tok/req"
	UnitCompletedConversations = "completed-conv"
	UnitPrefixHitRatio         = "prefix-hit-ratio"
)

// LatencyUnit returns the unit of a latency statistic in nanoseconds:
// LatencyUnit("ttft", "p99") = "ttft-p99-ns".
func LatencyUnit(metric, stat string) string {
	return metric + "-" + stat + "-ns"
}

// Better says which direction of a unit's values is an improvement.
type Better int

const (
	// BetterUnknown: changes are reported but never judged.
	BetterUnknown Better = 0
	// LowerIsBetter: latencies, costs, failures.
	LowerIsBetter Better = -1
	// HigherIsBetter: throughputs.
	HigherIsBetter Better = 1
)

func (b Better) String() string {
	switch b {
	case LowerIsBetter:
		return "lower is better"
	case HigherIsBetter:
		return "higher is better"
	}
	return "direction unknown"
}

// UnitBetter returns the direction the gate knows for a benchmark unit,
// given as written by ReportMetric or as tidied by benchfmt ("ns" becomes
// "sec"):
//
//   - any unit ending in /s is a rate: higher is better (req/s, tok/s,
//     out-tok/s, goodput-req/s, capacity-req/s, MB/s);
//   - capacity-concurrency, the concurrency capacity: higher is better;
//   - a time, with or without /op, the time unit last after a dash:
//     lower is better (ttft-p99-ns, ttft-p99-sec, ns/op, sec/op, ns);
//   - B/op, allocs/op and other sizes per op: lower is better;
//   - failures: sla-violations, any unit ending in -violations, failed,
//     and units starting with failed- or failed/: lower is better;
//   - anything else is BetterUnknown.
//
// A unit metadata line in the benchmark file (Unit x better=higher) and
// CompareOptions.Better take precedence over UnitBetter.
func UnitBetter(unit string) Better {
	unit = strings.TrimSpace(unit)
	if unit == "" {
		return BetterUnknown
	}
	if strings.HasSuffix(unit, "/s") || unit == UnitCapacityConcurrency {
		return HigherIsBetter
	}
	if unit == UnitFailed || strings.HasPrefix(unit, "failed-") || strings.HasPrefix(unit, "failed/") ||
		unit == "violations" || strings.HasSuffix(unit, "-violations") {
		return LowerIsBetter
	}
	num, perOp := strings.CutSuffix(unit, "/op")
	last := num
	if i := strings.LastIndex(num, "-"); i >= 0 {
		last = num[i+1:]
	}
	switch last {
	case "ns", "us", "µs", "ms", "sec", "s":
		return LowerIsBetter
	case "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", "bytes", "allocs":
		if perOp {
			return LowerIsBetter
		}
	}
	return BetterUnknown
}
