package servingbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// The result file's keys of a run of conversations (Report.Conversations):
// WriteJSON writes them after vLLM's and the reasoning keys. None is
// vLLM's (its multi-turn script writes no result file of this shape):
//
//   - conversations, started_conversations, completed_conversations,
//     max_active_conversations (0: no bound), replay_replies (true or
//     false) and turns_not_sent ({reason: count});
//   - mean_conversation_duration_ms, median_conversation_duration_ms and
//     p99_conversation_duration_ms;
//   - prefix_cache_queries, prefix_cache_hits, prefix_cache_hit_rate and
//     prefix_cache_source, when the server's counters were read;
//   - per_turn: an array with an object a turn number: turn, completed,
//     failed, total_input_tokens, total_output_tokens, mean_input_tokens,
//     mean_output_tokens, and mean_X_ms, median_X_ms and p99_X_ms for X in
//     ttft, tpot, itl and e2el, as vLLM names the run's own;
//   - with JSONOptions.Detailed, two per-request arrays aligned with
//     vLLM's (input_lens, ttfts, start_times ...), after them and the
//     reasoning ones: conversation_ids, each request's Conversation.ID
//     (null when the Report's IDs do not name it), and turns, its 1-based
//     turn number. With vLLM's arrays they are all PerTurn needs to
//     recompute per_turn from the file alone; the server's prefix cache
//     is counted over the run, not per request, so no per-request cached
//     tokens are written.
var conversationKeys = []string{
	"conversations", "started_conversations", "completed_conversations", "max_active_conversations", "replay_replies", "turns_not_sent",
	"mean_conversation_duration_ms", "median_conversation_duration_ms", "p99_conversation_duration_ms",
	"prefix_cache_queries", "prefix_cache_hits", "prefix_cache_hit_rate", "prefix_cache_source", "per_turn",
	"conversation_ids", "turns",
}

func init() {
	for _, k := range conversationKeys {
		resultFileKeys[k] = true
	}
}

// writeConversations writes c's keys.
func writeConversations(o *pyObject, c *ConversationReport) {
	o.int("conversations", c.Conversations)
	o.int("started_conversations", c.Started)
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
		to.int("total_output_tokens", t.TotalOutputTokens)
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

// writeConversationDetail writes the per-request arrays conversation_ids
// and turns, in the order of results (writeDetail's).
func writeConversationDetail(o *pyObject, results []*Result, ids []string) {
	var convs, turns pyArray
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Conversation >= 0 && r.Conversation < len(ids) {
			convs.str(ids[r.Conversation])
		} else {
			convs.raw([]byte("null"))
		}
		turns.int(r.Turn)
	}
	o.raw("conversation_ids", convs.bytes())
	o.raw("turns", turns.bytes())
}

// conversations reads a run of conversations' keys into r, nil without
// the conversations key; results are the Results rebuilt from the
// per-request arrays, whose Turn and Conversation it sets from turns and
// conversation_ids. The summaries have no samples: per_turn's means,
// medians and P99s are read, and each Summary's Count is its turn's
// completed (the duration's: completed_conversations) or, with the
// per-request arrays, exact. A request's Conversation is the position of
// its conversation among the file's (a new one at each turn 1), which is
// its index in Config.Conversations unless a conversation that started
// sent no turn; IDs lists their IDs.
func (d *fileDecoder) conversations(r *Report, results []*Result) {
	if _, ok := d.fields["conversations"]; !ok {
		return
	}
	c := &ConversationReport{
		Conversations: d.int("conversations"),
		Started:       d.int("started_conversations"),
		Completed:     d.int("completed_conversations"),
		MaxActive:     d.int("max_active_conversations"),
		Turns:         r.NumPrompts,
	}
	d.decode("replay_replies", &c.ReplayReplies)
	var notSent map[string]int
	if d.decode("turns_not_sent", &notSent) {
		c.NotSent = groupErrors(notSent, nil)
	}
	c.Duration = d.summaryMS("conversation_duration", c.Completed)
	if _, ok := d.fields["prefix_cache_queries"]; ok {
		c.PrefixCache = &PrefixCacheUse{Queries: int64(d.int("prefix_cache_queries")),
			Hits: int64(d.int("prefix_cache_hits")), Source: d.str("prefix_cache_source")}
	}
	var turns []map[string]json.RawMessage
	d.decode("per_turn", &turns)
	for i, raw := range turns {
		td := &fileDecoder{fields: raw}
		t := TurnSummary{Turn: td.int("turn"), Completed: td.int("completed"), Failed: td.int("failed"),
			TotalInputTokens: td.int("total_input_tokens"), TotalOutputTokens: td.int("total_output_tokens")}
		if _, ok := raw["total_output_tokens"]; !ok { // before the key was written
			t.TotalOutputTokens = int(math.Round(td.float("mean_output_tokens") * float64(t.Completed)))
		}
		t.TTFT = td.summaryMS("ttft", t.Completed)
		t.TPOT = td.summaryMS("tpot", t.Completed)
		t.ITL = td.summaryMS("itl", t.Completed)
		t.E2EL = td.summaryMS("e2el", t.Completed)
		if fe, ok := td.err.(*ResultFileError); ok {
			d.fail("per_turn", fmt.Errorf("entry %d: %s: %w", i, fe.Field, fe.Err))
			return
		}
		c.PerTurn = append(c.PerTurn, t)
	}
	c.IDs = d.conversationDetail(results)
	if c.IDs != nil {
		exact := PerTurn(results)
		for i := range c.PerTurn {
			if i < len(exact) && exact[i].Turn == c.PerTurn[i].Turn {
				c.PerTurn[i].TTFT.Count, c.PerTurn[i].TPOT.Count = exact[i].TTFT.Count, exact[i].TPOT.Count
				c.PerTurn[i].ITL.Count, c.PerTurn[i].E2EL.Count = exact[i].ITL.Count, exact[i].E2EL.Count
			}
		}
	}
	r.Conversations = c
}

// summaryMS reads mean_NAME_ms, median_NAME_ms and p99_NAME_ms into a
// Summary of count samples (the zero Summary when the file has no
// mean_NAME_ms).
func (d *fileDecoder) summaryMS(name string, count int) Summary {
	var s Summary
	if _, ok := d.fields["mean_"+name+"_ms"]; !ok {
		return s
	}
	s.Count = count
	s.Mean = millis(d.float("mean_" + name + "_ms"))
	s.Median = millis(d.float("median_" + name + "_ms"))
	if p99, ok := d.num("p99_" + name + "_ms"); ok {
		s.Percentiles = map[float64]time.Duration{99: millis(p99)}
	}
	return s
}

// conversationDetail sets each result's Turn and Conversation from the
// arrays turns and conversation_ids, and returns the IDs of the
// conversations in order; nil when the file has neither array or no
// Results.
func (d *fileDecoder) conversationDetail(results []*Result) []string {
	var ids []*string
	var turns []int
	hasIDs, hasTurns := d.decode("conversation_ids", &ids), d.decode("turns", &turns)
	if !hasIDs && !hasTurns || results == nil {
		return nil
	}
	if !hasIDs || !hasTurns {
		d.fail("turns", errors.New("conversation_ids and turns come together"))
		return nil
	}
	for _, a := range []struct {
		key string
		n   int
	}{{"conversation_ids", len(ids)}, {"turns", len(turns)}} {
		if a.n != len(results) {
			d.fail(a.key, fmt.Errorf("has %d entries, the per-request arrays have %d", a.n, len(results)))
			return nil
		}
	}
	out := []string{}
	for i, res := range results {
		if turns[i] < 1 {
			d.fail("turns", fmt.Errorf("entry %d: want a turn number >= 1, got %d", i, turns[i]))
			return nil
		}
		if turns[i] == 1 || len(out) == 0 {
			id := ""
			if ids[i] != nil {
				id = *ids[i]
			}
			out = append(out, id)
		}
		res.Turn, res.Conversation = turns[i], len(out)-1
	}
	return out
}
