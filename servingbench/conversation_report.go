package servingbench

import "time"

// ConversationReport is what a run of conversations (Config.Conversations)
// adds to its Report: the conversations' fate, their durations and the
// metrics of each turn number. The Report's own metrics are over every
// turn sent, as if each were a request.
type ConversationReport struct {
	// Conversations is the number in the run, Started how many sent their
	// first turn, Completed how many had every turn succeed.
	Conversations, Started, Completed int
	// IDs holds each conversation's Conversation.ID, by its index in
	// Config.Conversations (Result.Conversation). Read back from a file,
	// it holds the IDs of the conversations with a request in the
	// file's per-request arrays, in their order, and nil without them.
	IDs []string
	// Turns is the number of turns of all conversations (Report.NumPrompts);
	// the turns sent are Report.Completed + Report.Failed.
	Turns int
	// NotSent groups the turns never sent, by reason: "an earlier turn
	// failed (REASON)" (a failed turn ends its conversation, as vLLM's
	// multi-turn benchmark drops it), "run cancelled", "the client kept
	// no generated text ..." or "rendering the history failed" (the
	// client's side, never the server's). Example holds the first
	// message where there is one.
	NotSent []ErrorCount
	// MaxActive is Config.MaxActiveConversations (0: no bound) and
	// ReplayReplies Config.ReplayReplies.
	MaxActive     int
	ReplayReplies bool
	// Duration summarises the completed conversations' durations, from
	// the first turn's Sent to the last turn's Done (think times
	// included).
	Duration Summary
	// PerTurn holds the metrics of turn 1, 2, ... over the conversations
	// that sent that turn, in turn order.
	PerTurn []TurnSummary
	// PrefixCache is the server's prefix-cache use during the run, from
	// its /metrics before and after (Config.PrefixCache); nil when the
	// server exposes no counters or nothing read them.
	PrefixCache *PrefixCacheUse
}

// TurnSummary is the metrics of one turn number, with Summarize's
// definitions, over the turns of that number sent.
type TurnSummary struct {
	// Turn is the 1-based turn number.
	Turn int
	// Completed and Failed count the turns sent.
	Completed, Failed int
	// Token totals over the successful turns.
	TotalInputTokens, TotalOutputTokens int
	TTFT, TPOT, ITL, E2EL               Summary
}

// MeanInputTokens is the mean input tokens of the successful turns, 0
// without one: how the history grows turn by turn.
func (t TurnSummary) MeanInputTokens() float64 { return perCompleted(t.TotalInputTokens, t.Completed) }

// MeanOutputTokens is the mean output tokens of the successful turns.
func (t TurnSummary) MeanOutputTokens() float64 {
	return perCompleted(t.TotalOutputTokens, t.Completed)
}

// PrefixCacheUse is a server's prefix-cache counters over a run, in prompt
// tokens: Queries looked up, Hits served from the cache (target's
// PrefixCacheCounters, the difference of two scrapes).
type PrefixCacheUse struct {
	Queries, Hits int64
	// Source names the metrics read ("vLLM (vllm:prefix_cache_hits_total
	// of vllm:prefix_cache_queries_total)").
	Source string
}

// HitRate is Hits / Queries, 0 when nothing was queried.
func (p PrefixCacheUse) HitRate() float64 {
	if p.Queries <= 0 {
		return 0
	}
	return float64(p.Hits) / float64(p.Queries)
}

// summarize builds the run's ConversationReport; started conversations
// sent their first turn.
func (r *convRun) summarize(started int) *ConversationReport {
	cr := &ConversationReport{Conversations: len(r.cfg.Conversations), Started: started,
		MaxActive: r.cfg.MaxActiveConversations, ReplayReplies: r.cfg.ReplayReplies,
		IDs: make([]string, len(r.cfg.Conversations))}
	var durations []time.Duration
	var sent []*Result
	for i, rs := range r.results {
		cr.IDs[i] = r.cfg.Conversations[i].ID
		n := len(r.cfg.Conversations[i].Turns)
		cr.Turns += n
		ok := len(rs) == n
		for _, res := range rs {
			ok = ok && res.OK()
		}
		sent = append(sent, rs...)
		if ok {
			cr.Completed++
			durations = append(durations, rs[n-1].Done.Sub(rs[0].Sent))
		}
	}
	for i := started; i < len(r.cfg.Conversations); i++ {
		cr.Turns += len(r.cfg.Conversations[i].Turns)
	}
	cr.Duration = summarize(durations)
	cr.PerTurn = PerTurn(sent)
	cr.NotSent = groupErrors(r.notSent, r.example)
	return cr
}

// PerTurn summarises results by their Turn, with Summarize's definitions:
// one TurnSummary for turn 1, 2, ... up to the last turn number any
// result has, in turn order. A conversation's turns are sent in order
// and a failed turn ends it, so every number up to the last has results;
// should one have none, it stops there. Results of no conversation (Turn
// 0) are left out. It is how a run's ConversationReport.PerTurn is made,
// and what a file read back (ReadJSON, whose Results have their Turn)
// recomputes it with.
func PerTurn(results []*Result) []TurnSummary {
	byTurn := map[int][]*Result{}
	for _, res := range results {
		if res != nil && res.Turn > 0 {
			byTurn[res.Turn] = append(byTurn[res.Turn], res)
		}
	}
	var out []TurnSummary
	for k := 1; len(byTurn[k]) > 0; k++ {
		s := Summarize(time.Time{}, time.Time{}, byTurn[k], SLO{})
		out = append(out, TurnSummary{Turn: k, Completed: s.Completed, Failed: s.Failed,
			TotalInputTokens: s.TotalInputTokens, TotalOutputTokens: s.TotalOutputTokens,
			TTFT: s.TTFT, TPOT: s.TPOT, ITL: s.ITL, E2EL: s.E2EL})
	}
	return out
}
