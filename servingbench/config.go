package servingbench

import (
	"context"
	"time"

	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// Config describes one benchmark run. The zero value of every optional
// field is documented and useful; Run validates the whole Config before it
// sends a request and names the bad field in its error.
type Config struct {
	// Client sends the requests. Required.
	Client Client
	// Requests are sent in order of their scheduled arrival. Required, at
	// least one, unless Conversations is set.
	Requests []Request
	// Conversations, when set instead of Requests, are multi-turn
	// conversations (conversation_run.go): the arrival process starts
	// each one's first turn, and every later turn is sent its Think after
	// the previous turn's response ended, with the whole history as
	// Request.Messages.
	Conversations []Conversation
	// MaxActiveConversations bounds the conversations in progress, each
	// holding its place from its first turn's send to its last turn's
	// end (vLLM's benchmark_serving_multi_turn.py
	// --max-active-conversations); 0 means no bound. A first turn that
	// waits for a place counts the wait in its QueueDelay, as one waiting
	// for a concurrency slot does. MaxConcurrency still bounds the
	// requests in flight.
	MaxActiveConversations int
	// ReplayReplies makes the history of a conversation carry each
	// earlier turn's Turn.Reply (the dataset's reply) instead of the text
	// the server generated, so that every server sees the same prompts.
	// By default the history carries the generated text, which the
	// client must keep (OpenAIConfig.KeepText).
	ReplayReplies bool
	// RenderChat renders a turn's history as Request.Prompt, which the
	// completions and native non-chat APIs send (the chat APIs send the
	// messages): the model's chat template. Nil renders the messages'
	// contents joined with "\n", which is no chat template.
	RenderChat func([]Message) (string, error)
	// PrefixCache, when set, reads the server's prefix-cache counters
	// (target.Target.PrefixCache); a run of conversations calls it after
	// the warm-up and after the last turn and reports the difference
	// (ConversationReport.PrefixCache) when both reads succeed.
	PrefixCache func(context.Context) (PrefixCacheUse, bool)
	// Arrival schedules the requests. Nil means all at t=0 (request rate inf).
	Arrival Arrival
	// MaxConcurrency bounds the requests in flight; 0 means no bound.
	MaxConcurrency int
	// Warmup sends Requests[0] once, untimed, before the run (vLLM v0.9.1
	// always does this). A failed warm-up aborts the run with an error.
	Warmup bool
	// ReadyCheck, when its Timeout is set, waits for the server to answer
	// Requests[0] before anything else (WaitReady: vllm bench serve's
	// --ready-check-timeout-sec); the request that succeeded is the
	// warm-up, so Warmup sends no other. A server not ready in time aborts
	// the run with an error.
	ReadyCheck ReadyCheck
	// Warmups sends Requests[0] this many times more, untimed, after the
	// warm-up, at most MaxConcurrency at once (vllm bench serve's
	// --num-warmups). Every one failing aborts the run with an error; some
	// failing is a warning (Report.Warnings).
	Warmups int
	// NoPrewarm turns off the connections a Prewarmer client opens before
	// the run. By default Run opens, after the warm-up, one for each
	// request scheduled in the run's first second, at most MaxConcurrency
	// (64 when it is 0) and at most 256, so that the first requests do not
	// pay for connection set-up inside their TTFT; later requests open
	// their own. A prewarm that fails is a warning, except for a TLS
	// failure (*TLSError), which every request would meet: it aborts the
	// run with an error.
	NoPrewarm bool
	// Goodput holds the SLOs for the goodput metric; the zero value means
	// goodput is not computed.
	Goodput SLO
	// OnResult, when set, is called once per finished request, from the
	// request's goroutine: it must be safe for concurrent use and quick.
	OnResult func(*Result)
	// OnStart, when set, is called once, with the report's Date, when the
	// run starts dispatching: after the ready check, the warm-ups and the
	// prewarm, before the first request (a progress display starts its
	// clock there, as the block's duration does).
	OnStart func(start time.Time)
	// ServerMetrics, when set, scrapes the server's Prometheus page right
	// before the first request is dispatched (after the warm-ups and the
	// prewarm, which it does not count), every Interval during the run,
	// and after its last request; Report.ServerMetrics summarises it (see
	// servermetrics.Summary). Scrapes that fail never fail the run.
	ServerMetrics *servermetrics.Scraper

	// Shard, when its Count is more than 1, dispatches only this shard's
	// part of the schedule: request (or conversation) i when i mod Count
	// == Index (see Shard). Every shard is given the same Requests and
	// Arrival. Its report counts its own requests only, and records the
	// shard (Report.Shard) for Merge.
	Shard Shard
	// StartAt, when set, is the wall-clock time the run's schedule counts
	// from: after the warm-ups and the prewarm, Run waits until then to
	// dispatch (so that shards on several machines start together), and
	// the report's Date and Duration count from it. A run ready only after
	// StartAt still counts its offsets from StartAt and warns by how much
	// it was late. The server's metrics (ServerMetrics) are scraped
	// right after the wait, so their window opens just after StartAt.
	StartAt time.Time
	// Seed is the seed the caller generated Requests and Arrival with;
	// Run does not use it, it records it (ShardInfo.Seed) so that Merge
	// refuses shards of different seeds.
	Seed int64

	// Identity, copied into the Report.
	Backend     string
	Model       string
	TokenizerID string
	Metadata    map[string]string
}

// SLO is a set of per-request service-level objectives in vLLM's goodput
// sense: a request is good when each set value is >= the request's metric.
// A zero field is not checked.
type SLO struct {
	TTFT time.Duration
	TPOT time.Duration
	E2EL time.Duration
}

// IsZero reports whether no objective is set.
func (s SLO) IsZero() bool { return s == SLO{} }
