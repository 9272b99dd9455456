package servingbench_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scheduleReport is TestConversationSchedule's run, whose every time is
// known exactly.
func scheduleReport(t *testing.T) *servingbench.Report {
	srv := newBubbleServer(t, servingtest.Model{DecodeBase: 10 * time.Millisecond})
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	convs := testConversations(3, 2, 2, ms(100))
	convs[1].Turns[1].Think = ms(200)
	return runConv(t, t.Context(), srv, convs, false, func(c *servingbench.Config) {
		c.MaxActiveConversations = 2
		c.Arrival = servingbench.Trace{0, ms(3), ms(6)}
	})
}

// The text block of a run of conversations (input tokens: the system
// prompt's 3 words and the user message's 6, then the reply's 2 and the
// next user message's 6; the P99 of 140, 140 and 247ms is 244.86ms): v0.9.1's lines unchanged,
// then the Conversations section and the per-turn tables, before Run
// Details.
func TestConversationText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep := scheduleReport(t)
		var b bytes.Buffer
		require.NoError(t, servingbench.WriteText(&b, rep, servingbench.TextOptions{}))
		text := b.String()
		start := strings.Index(text, "------------------Conversations-------------------")
		end := strings.Index(text, "-------------------Run Details--------------------")
		require.True(t, start > 0 && end > start, "%s", text)
		assert.True(t, strings.HasPrefix(text, "============ Serving Benchmark Result ============\n"+
			"Successful requests:                     6         \n"))
		assert.Equal(t, `------------------Conversations-------------------
Conversations:                           3         
Completed conversations:                 3         
Max active conversations:                2         
Mean conversation duration (s):          0.18      
Median conversation duration (s):        0.14      
P99 conversation duration (s):           0.24      
---------------------Per Turn---------------------
Turn           OK     Failed    Mean in   Mean out
1               3          0       9.00       2.00
2               3          0      17.00       2.00
----------------Per-turn TTFT (ms)----------------
Turn         Mean     Median        P99
1           12.33      10.00      16.86
2           10.00      10.00      10.00
----------------Per-turn TPOT (ms)----------------
Turn         Mean     Median        P99
1           10.00      10.00      10.00
2           10.00      10.00      10.00
----------------Per-turn ITL (ms)-----------------
Turn         Mean     Median        P99
1           10.00      10.00      10.00
2           10.00      10.00      10.00
----------------Per-turn E2EL (ms)----------------
Turn         Mean     Median        P99
1           22.33      20.00      26.86
2           20.00      20.00      20.00
`, text[start:end])
	})
}

// The result file's new keys, read back with encoding/json.
func TestConversationJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep := scheduleReport(t)
		var b bytes.Buffer
		require.NoError(t, servingbench.WriteJSON(&b, rep, servingbench.JSONOptions{}))
		var f map[string]any
		require.NoError(t, json.Unmarshal(b.Bytes(), &f))
		assert.Equal(t, 3.0, f["conversations"])
		assert.Equal(t, 3.0, f["completed_conversations"])
		assert.Equal(t, 2.0, f["max_active_conversations"])
		assert.Equal(t, false, f["replay_replies"])
		assert.Equal(t, map[string]any{}, f["turns_not_sent"])
		assert.Equal(t, 140.0, f["median_conversation_duration_ms"])
		assert.NotContains(t, f, "prefix_cache_hit_rate")
		turns := f["per_turn"].([]any)
		require.Len(t, turns, 2)
		t1 := turns[0].(map[string]any)
		assert.Equal(t, 1.0, t1["turn"])
		assert.Equal(t, 27.0, t1["total_input_tokens"], "3 x (system 3 + user 6)")
		assert.Equal(t, 10.0, t1["median_ttft_ms"])
		assert.InDelta(t, 12.333333, t1["mean_ttft_ms"], 1e-6)
		assert.Equal(t, 20.0, turns[1].(map[string]any)["mean_e2el_ms"])
		for _, k := range []string{"mean_tpot_ms", "p99_itl_ms", "median_e2el_ms", "mean_output_tokens", "failed", "completed"} {
			assert.Contains(t, t1, k)
		}
		// The run's own keys are vLLM's, over every turn.
		assert.Equal(t, 6.0, f["completed"])
		assert.Equal(t, 6.0, f["num_prompts"])
	})
}

// The exact schedule run's detailed file read back: the same text block,
// the conversation section included, each request's conversation and
// turn, and per_turn recomputed from the arrays equal to the saved one.
func TestConversationJSONReadBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep := scheduleReport(t)
		var b bytes.Buffer
		require.NoError(t, servingbench.WriteJSON(&b, rep, servingbench.JSONOptions{Detailed: true}))
		back, err := servingbench.ReadJSON(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		var first, again bytes.Buffer
		require.NoError(t, servingbench.WriteText(&first, rep, servingbench.TextOptions{}))
		require.NoError(t, servingbench.WriteText(&again, back, servingbench.TextOptions{}))
		assert.Equal(t, first.String(), again.String())
		require.NotNil(t, back.Conversations)
		assert.Equal(t, rep.Conversations.IDs, back.Conversations.IDs, "every conversation sent a turn")
		require.Len(t, back.Results, len(rep.Results))
		for i, res := range back.Results {
			assert.Equal(t, [2]int{rep.Results[i].Conversation, rep.Results[i].Turn}, [2]int{res.Conversation, res.Turn}, "request %d", i)
		}
		recomputed := servingbench.PerTurn(back.Results)
		require.Len(t, recomputed, len(back.Conversations.PerTurn))
		for i, saved := range back.Conversations.PerTurn {
			got := recomputed[i]
			assert.Equal(t, saved.TotalInputTokens, got.TotalInputTokens, "turn %d", saved.Turn)
			for _, pair := range [][2]servingbench.Summary{{saved.TTFT, got.TTFT}, {saved.TPOT, got.TPOT}, {saved.ITL, got.ITL}, {saved.E2EL, got.E2EL}} {
				sp, _ := pair[0].Percentile(99)
				gp, _ := pair[1].Percentile(99)
				assert.Equal(t, []time.Duration{pair[0].Mean, pair[0].Median, sp}, []time.Duration{pair[1].Mean, pair[1].Median, gp}, "turn %d", saved.Turn)
				assert.Equal(t, pair[0].Count, pair[1].Count, "turn %d", saved.Turn)
			}
		}
	})
}
