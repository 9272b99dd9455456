package servingbench

import "time"

// The result file's keys of a run of conversations (Report.Conversations):
// WriteJSON writes them after vLLM's and the reasoning keys. None is
// vLLM's (its multi-turn script writes no result file of this shape):
//
//   - conversations, completed_conversations, max_active_conversations
//     (0: no bound), replay_replies (true or false) and turns_not_sent
//     ({reason: count});
//   - mean_conversation_duration_ms, median_conversation_duration_ms and
//     p99_conversation_duration_ms;
//   - prefix_cache_queries, prefix_cache_hits, prefix_cache_hit_rate and
//     prefix_cache_source, when the server's counters were read;
//   - per_turn: an array with an object a turn number: turn, completed,
//     failed, total_input_tokens, mean_input_tokens, mean_output_tokens,
//     and mean_X_ms, median_X_ms and p99_X_ms for X in ttft, tpot, itl and
//     e2el, as vLLM names the run's own.
var conversationKeys = []string{
	"conversations", "completed_conversations", "max_active_conversations", "replay_replies", "turns_not_sent",
	"mean_conversation_duration_ms", "median_conversation_duration_ms", "p99_conversation_duration_ms",
	"prefix_cache_queries", "prefix_cache_hits", "prefix_cache_hit_rate", "prefix_cache_source", "per_turn",
}

func init() {
	for _, k := range conversationKeys {
		resultFileKeys[k] = true
	}
}

// writeConversations writes c's keys.
func writeConversations(o *pyObject, c *ConversationReport) {
	o.int("conversations", c.Conversations)
	o.int("completed_conversations", c.Completed)
	o.int("max_active_conversations", c.MaxActive)
	if c.ReplayReplies {
		o.raw("replay_replies", []byte("true"))
	} else {
		o.raw("replay_replies", []byte("false"))
	}
	notSent := &pyObject{}
	for _, e := range c.NotSent {
		notSent.int(e.Reason, e.Count)
	}
	o.raw("turns_not_sent", notSent.bytes())
	summaryMS(o, "conversation_duration", c.Duration)
	if p := c.PrefixCache; p != nil {
		o.int("prefix_cache_queries", int(p.Queries))
		o.int("prefix_cache_hits", int(p.Hits))
		o.float("prefix_cache_hit_rate", p.HitRate())
		o.str("prefix_cache_source", p.Source)
	}
	var turns pyArray
	for _, t := range c.PerTurn {
		to := &pyObject{}
		to.int("turn", t.Turn)
		to.int("completed", t.Completed)
		to.int("failed", t.Failed)
		to.int("total_input_tokens", t.TotalInputTokens)
		to.float("mean_input_tokens", t.MeanInputTokens())
		to.float("mean_output_tokens", t.MeanOutputTokens())
		for _, m := range turnMetrics {
			summaryMS(to, m.key, m.of(&t))
		}
		turns.raw(to.bytes())
	}
	o.raw("per_turn", turns.bytes())
}

// summaryMS writes mean_NAME_ms, median_NAME_ms and p99_NAME_ms.
func summaryMS(o *pyObject, name string, s Summary) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p99, _ := s.Percentile(99)
	o.float("mean_"+name+"_ms", ms(s.Mean))
	o.float("median_"+name+"_ms", ms(s.Median))
	o.float("p99_"+name+"_ms", ms(p99))
}
