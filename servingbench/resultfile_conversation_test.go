package servingbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conversationReport is a run of three conversations built by hand: "a"
// with three turns, "b" whose second turn failed (its third never sent)
// and "c" with one turn; the server's prefix cache served 30 of 80
// prompt tokens.
func conversationReport() *Report {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	events := func(sent int, ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = at(m).Sub(at(sent))
		}
		return out
	}
	turn := func(index, conv, k, sent, in int, ev ...int) *Result {
		res := &Result{Index: index, Conversation: conv, Turn: k, Scheduled: at(sent), SlotAcquired: at(sent), Sent: at(sent),
			Events: events(sent, ev...), InputTokens: in, InputSource: SourceUsage, OutputTokens: len(ev), OutputSource: SourceUsage}
		res.Done = res.LastEvent().Add(time.Millisecond)
		return res
	}
	failed := &Result{Index: 4, Conversation: 1, Turn: 2, Scheduled: at(400), SlotAcquired: at(400), Sent: at(400),
		Done: at(430), InputTokens: 25, InputSource: SourceTokenizer, Err: errors.New("HTTP 503: overloaded")}
	results := []*Result{
		turn(0, 0, 1, 0, 10, 40, 50, 61),
		turn(1, 0, 2, 300, 20, 320, 333),
		turn(2, 0, 3, 600, 31, 625, 637, 650, 662),
		turn(3, 1, 1, 100, 12, 155, 170),
		failed,
		turn(6, 2, 1, 200, 9, 233, 244, 256),
	}
	rep := Summarize(t0, at(700), results, SLO{})
	rep.Date, rep.Backend, rep.Model, rep.TokenizerID = t0, "openai-chat", "Qwen/Qwen3-0.6B", "Qwen/Qwen3-0.6B"
	rep.NumPrompts, rep.RequestRate, rep.Burstiness, rep.MaxConcurrency = 7, 2, 1, 2
	rep.Conversations = &ConversationReport{Conversations: 3, Started: 3, Completed: 2, Turns: 7,
		IDs: []string{"a", "b\u00e9 <&>", "c"}, MaxActive: 2, ReplayReplies: true,
		NotSent:     []ErrorCount{{Reason: "an earlier turn failed (HTTP 503)", Count: 1}},
		Duration:    summarize([]time.Duration{results[2].Done.Sub(results[0].Sent), results[5].Done.Sub(results[5].Sent)}),
		PerTurn:     PerTurn(results),
		PrefixCache: &PrefixCacheUse{Queries: 80, Hits: 30, Source: "servingtest"}}
	return rep
}

// A run of conversations' file: the golden (vLLM's keys, then the
// conversation keys and, with Detailed, conversation_ids and turns after
// vLLM's arrays), read back into the same text block, the conversation
// section included; recomputing per_turn from the per-request arrays read
// back gives the saved summaries exactly.
func TestWriteJSONConversations(t *testing.T) {
	rep := conversationReport()
	out := writeJSON(t, rep, JSONOptions{Detailed: true})
	checkGolden(t, "conversation.json", out)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	assert.Equal(t, []any{"a", "a", "a", "b\u00e9 <&>", "b\u00e9 <&>", "c"}, m["conversation_ids"])
	assert.Equal(t, []any{1.0, 2.0, 3.0, 1.0, 2.0, 1.0}, m["turns"])
	assert.Equal(t, []any{10.0, 20.0, 31.0, 12.0, 25.0, 9.0}, m["input_lens"], "vLLM's arrays unchanged, aligned")
	assert.Equal(t, 3.0, m["started_conversations"])
	turns := m["per_turn"].([]any)
	require.Len(t, turns, 3)
	assert.Equal(t, 8.0, turns[0].(map[string]any)["total_output_tokens"], "turn 1: 3 + 2 + 3 tokens")
	assert.Equal(t, 1.0, turns[1].(map[string]any)["failed"])

	back, err := ReadJSON(bytes.NewReader(out))
	require.NoError(t, err)
	var first, again bytes.Buffer
	require.NoError(t, WriteText(&first, rep, TextOptions{}))
	require.NoError(t, WriteText(&again, back, TextOptions{}))
	assert.Contains(t, first.String(), "Per-turn TTFT (ms)")
	assert.Equal(t, first.String(), again.String(), "the text block of the file read back")

	c := back.Conversations
	require.NotNil(t, c)
	assert.Equal(t, []string{"a", "b\u00e9 <&>", "c"}, c.IDs)
	assert.Equal(t, 7, c.Turns)
	assert.Equal(t, *rep.Conversations.PrefixCache, *c.PrefixCache)
	for i, res := range back.Results {
		assert.Equal(t, rep.Results[i].Turn, res.Turn, "request %d: Turn", i)
		assert.Equal(t, rep.Results[i].Conversation, res.Conversation, "request %d: Conversation", i)
	}
	// Recomputed from the arrays alone, per_turn is the saved one: every
	// count, total and statistic to the nanosecond, and the exact counts
	// of samples ReadJSON gives the saved summaries.
	recomputed := PerTurn(back.Results)
	require.Len(t, recomputed, len(c.PerTurn))
	for i, saved := range c.PerTurn {
		got := recomputed[i]
		assert.Equal(t, saved.Turn, got.Turn)
		assert.Equal(t, [4]int{saved.Completed, saved.Failed, saved.TotalInputTokens, saved.TotalOutputTokens},
			[4]int{got.Completed, got.Failed, got.TotalInputTokens, got.TotalOutputTokens}, "turn %d: counts", saved.Turn)
		for _, tm := range turnMetrics {
			s, g := tm.of(&saved), tm.of(&got)
			sp, _ := s.Percentile(99)
			gp, _ := g.Percentile(99)
			assert.Equal(t, [4]time.Duration{s.Mean, s.Median, sp, time.Duration(s.Count)},
				[4]time.Duration{g.Mean, g.Median, gp, time.Duration(g.Count)}, "turn %d: %s mean, median, P99, count", saved.Turn, tm.name)
		}
	}
	// And the file written again from what was read is the same file.
	assert.Equal(t, string(out), string(writeJSON(t, back, JSONOptions{Detailed: true})), "written, read and written again")

	// Without Detailed no per-request array; a run of requests has none
	// of the keys.
	summary := writeJSON(t, rep, JSONOptions{})
	assert.NotContains(t, string(summary), `"turns"`)
	assert.NotContains(t, string(summary), `"conversation_ids"`)
	back, err = ReadJSON(bytes.NewReader(summary))
	require.NoError(t, err)
	again.Reset()
	require.NoError(t, WriteText(&again, back, TextOptions{}))
	assert.Equal(t, first.String(), again.String(), "the text block of the summary file read back")
	plain := string(writeJSON(t, fullReport(), JSONOptions{Detailed: true}))
	for _, k := range []string{"conversations", "per_turn", "conversation_ids", "turns"} {
		assert.NotContains(t, plain, `"`+k+`"`, "a run of requests' file has no %s", k)
	}
}

// Conversation arrays that do not fit the per-request ones are errors
// naming the key.
func TestReadJSONConversationArrays(t *testing.T) {
	out := string(writeJSON(t, conversationReport(), JSONOptions{Detailed: true}))
	for _, tt := range []struct{ old, new, field string }{
		{`"turns": [1, 2, 3, 1, 2, 1]`, `"turns": [1, 2, 3, 1, 2]`, "turns"},
		{`"turns": [1, 2, 3, 1, 2, 1]`, `"turns": [1, 2, 0, 1, 2, 1]`, "turns"},
		{`"conversation_ids": [`, `"conversation_idz": [`, "turns"},
		{`"per_turn": [{"turn": 1`, `"per_turn": [{"turn": 1.5`, "per_turn"},
	} {
		bad := bytes.Replace([]byte(out), []byte(tt.old), []byte(tt.new), 1)
		require.NotEqual(t, out, string(bad), "%s not in the file", tt.old)
		_, err := ReadJSON(bytes.NewReader(bad))
		var fe *ResultFileError
		require.ErrorAs(t, err, &fe, "%s", tt.new)
		assert.Equal(t, tt.field, fe.Field, "%s: %v", tt.new, err)
	}
}
