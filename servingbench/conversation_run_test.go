package servingbench_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servermetrics"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/servingbench/servingbench/servingbench/target"
)

// Conversations in the runner, against the simulated server in synctest
// bubbles, where every time is exact. The semantics are those of vLLM's
// benchmarks/multi_turn/benchmark_serving_multi_turn.py (vllm-project/vllm
// at 00d3953): each turn sends the whole history, the assistant messages
// being the text generated for the earlier turns (send_turn replaces the
// dataset's answer by the server's content), and a failed turn drops its
// conversation (client_main's active_convs.pop).

// testConversations are n conversations of turns turns, with a system
// prompt, user messages of a few words and maxTokens output tokens a turn.
func testConversations(n, turns, maxTokens int, think time.Duration) []servingbench.Conversation {
	convs := make([]servingbench.Conversation, n)
	for i := range convs {
		c := servingbench.Conversation{ID: fmt.Sprintf("c%d", i), System: "you are terse"}
		for k := range turns {
			user := fmt.Sprintf("question %d of conversation %d please", k+1, i)
			t := servingbench.Turn{User: user, UserTokens: len(strings.Fields(user)), MaxTokens: maxTokens,
				Reply: fmt.Sprintf("recorded reply %d", k+1)}
			if k > 0 {
				t.Think = think
			}
			c.Turns = append(c.Turns, t)
		}
		convs[i] = c
	}
	return convs
}

// runConv runs convs through a chat client (KeepText unless noText) on
// srv, with edit applied to the run's Config.
func runConv(t *testing.T, ctx context.Context, srv *servingtest.Server, convs []servingbench.Conversation, noText bool, edit func(*servingbench.Config)) *servingbench.Report {
	t.Helper()
	oc := bubbleConfig(srv)
	oc.IgnoreEOS, oc.KeepText = true, !noText
	client, err := servingbench.NewChat(oc)
	require.NoError(t, err)
	cfg := servingbench.Config{Client: client, Conversations: convs, NoPrewarm: true}
	if edit != nil {
		edit(&cfg)
	}
	rep, err := servingbench.Run(ctx, cfg)
	require.NoError(t, err)
	return rep
}

// byTurn indexes a report's results by conversation and turn.
func byTurn(rep *servingbench.Report) map[[2]int]*servingbench.Result {
	m := map[[2]int]*servingbench.Result{}
	for _, r := range rep.Results {
		m[[2]int{r.Conversation, r.Turn}] = r
	}
	return m
}

// The history sent at turn k is the system prompt, the user messages of
// turns 1..k-1 each followed by the reply the server generated for it, and
// turn k's user message; with ReplayReplies the dataset's replies.
func TestConversationHistory(t *testing.T) {
	for _, replay := range []bool{false, true} {
		t.Run(fmt.Sprintf("replay=%v", replay), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newBubbleServer(t, servingtest.Model{DecodeBase: time.Millisecond})
				convs := testConversations(2, 3, 4, 0)
				rep := runConv(t, t.Context(), srv, convs, false, func(c *servingbench.Config) { c.ReplayReplies = replay })
				require.Equal(t, 6, rep.Completed)
				require.Equal(t, 0, rep.Failed)
				res := byTurn(rep)
				byPrompt := map[string]servingtest.Record{}
				for _, rec := range srv.Truth() {
					byPrompt[rec.Messages[len(rec.Messages)-1].Content] = rec
				}
				for i, c := range convs {
					want := []servingbench.Message{{Role: "system", Content: c.System}}
					for k, turn := range c.Turns {
						want = append(want, servingbench.Message{Role: "user", Content: turn.User})
						rec, ok := byPrompt[turn.User]
						require.True(t, ok, "conversation %d turn %d not received", i, k+1)
						assert.Equal(t, want, rec.Messages, "conversation %d turn %d", i, k+1)
						r := res[[2]int{i, k + 1}]
						require.NotNil(t, r)
						assert.Equal(t, 4, r.OutputTokens)
						assert.Equal(t, 4, servingtest.CountWords(r.Text), "the generated text is kept")
						assert.Equal(t, rec.PromptTokens, r.InputTokens, "usage's prompt tokens")
						reply := r.Text
						if replay {
							reply = turn.Reply
						}
						want = append(want, servingbench.Message{Role: "assistant", Content: reply})
					}
				}
				cr := rep.Conversations
				require.NotNil(t, cr)
				assert.Equal(t, 2, cr.Completed)
				assert.Equal(t, 6, cr.Turns)
				assert.Empty(t, cr.NotSent)
				assert.Equal(t, replay, cr.ReplayReplies)
				assert.Equal(t, 6, rep.NumPrompts)
			})
		})
	}
}

// With the simulated prefix cache on, turn k prefills only what turn k-1's
// prompt did not hold (its reply and turn k's user message): the measured
// TTFT is the server's truth exactly, one step of (new tokens x
// PrefillPerToken + DecodeBase + DecodePerSeq). With it off, each turn
// prefills the whole history and TTFT grows with it. The per-turn
// summaries and the prefix-cache counters read from /metrics agree.
func TestConversationPrefixCacheTTFT(t *testing.T) {
	model := servingtest.Model{PrefillPerToken: time.Millisecond, DecodeBase: 10 * time.Millisecond, DecodePerSeq: time.Millisecond}
	for _, cache := range []int{0, 1 << 16} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := model
				m.PrefixCacheTokens = cache
				srv := newBubbleServer(t, m)
				tgt, err := target.Open(target.Spec{BaseURL: srv.URL, Backend: "openai-chat", Model: srv.Model().Name, HTTPClient: srv.Client()})
				require.NoError(t, err)
				defer tgt.Close()
				convs := testConversations(1, 4, 8, 50*time.Millisecond)
				rep := runConv(t, t.Context(), srv, convs, false, func(c *servingbench.Config) {
					c.PrefixCache = func(ctx context.Context) (servingbench.PrefixCacheUse, bool) {
						p, ok := tgt.PrefixCache(ctx)
						return servingbench.PrefixCacheUse{Queries: p.Queries, Hits: p.Hits, Source: p.Source}, ok
					}
				})
				require.Equal(t, 4, rep.Completed)
				truth := srv.Truth()
				require.Len(t, truth, 4)
				res := byTurn(rep)
				var hits, queries int
				prevPrompt, prevTTFT := 0, time.Duration(0)
				for k, rec := range truth {
					r := res[[2]int{0, k + 1}]
					wantCached := 0
					if cache > 0 {
						wantCached = prevPrompt // turn k-1's prompt is turn k's prefix
					}
					assert.Equal(t, wantCached, rec.CachedTokens, "turn %d", k+1)
					want := time.Duration(rec.PromptTokens-wantCached)*m.PrefillPerToken + m.DecodeBase + m.DecodePerSeq
					assert.Equal(t, want, rec.TTFT(), "turn %d: the server's truth", k+1)
					assert.Equal(t, want, r.TTFT(), "turn %d: measured", k+1)
					assert.Equal(t, want, rep.Conversations.PerTurn[k].TTFT.Mean, "turn %d: per-turn summary", k+1)
					assert.Equal(t, rec.PromptTokens, rep.Conversations.PerTurn[k].TotalInputTokens, "turn %d", k+1)
					if cache == 0 && k > 0 {
						assert.Greater(t, r.TTFT(), prevTTFT, "turn %d: TTFT grows with the history", k+1)
					}
					if k > 0 {
						assert.Greater(t, rec.PromptTokens, prevPrompt)
					}
					hits += rec.CachedTokens
					queries += rec.PromptTokens
					prevPrompt, prevTTFT = rec.PromptTokens, r.TTFT()
				}
				pc := rep.Conversations.PrefixCache
				if cache == 0 {
					assert.Nil(t, pc, "the simulated server without a cache exposes no counters")
					return
				}
				require.NotNil(t, pc)
				// The counters cover the four turns (no warm-up here).
				assert.Equal(t, servingbench.PrefixCacheUse{Queries: int64(queries), Hits: int64(hits),
					Source: "vLLM (vllm:prefix_cache_hits_total of vllm:prefix_cache_queries_total)"}, *pc)
			})
		})
	}
}

// Think times and MaxActiveConversations on the schedule, exactly. A turn
// takes two engine steps of 10ms (its first token one step after its
// admission, which waits for the step under way, if any). Arrivals at 0,
// 3ms and 6ms; at most two conversations active, so the third starts
// when the first one's last turn ends (140ms), its first turn's
// QueueDelay that wait; each later turn is sent its think time after the
// previous response ended. The times avoid two arrivals at one instant or
// an arrival at another request's step boundary, where the order is the
// Go scheduler's.
func TestConversationSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: 10 * time.Millisecond})
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		convs := testConversations(3, 2, 2, ms(100))
		convs[1].Turns[1].Think = ms(200)
		rep := runConv(t, t.Context(), srv, convs, false, func(c *servingbench.Config) {
			c.MaxActiveConversations = 2
			c.Arrival = servingbench.Trace{0, ms(3), ms(6)}
		})
		require.Equal(t, 6, rep.Completed)
		want := map[[2]int][3]time.Duration{ // sent, TTFT, done
			{0, 1}: {0, ms(10), ms(20)}, {0, 2}: {ms(120), ms(10), ms(140)},
			{1, 1}: {ms(3), ms(17), ms(30)}, {1, 2}: {ms(230), ms(10), ms(250)},
			{2, 1}: {ms(140), ms(10), ms(160)}, {2, 2}: {ms(260), ms(10), ms(280)},
		}
		res := byTurn(rep)
		for key, w := range want {
			r := res[key]
			require.NotNil(t, r, "%v", key)
			assert.Equal(t, w[0], r.Sent.Sub(rep.Date), "conversation %d turn %d sent", key[0], key[1])
			assert.Equal(t, w[1], r.TTFT(), "conversation %d turn %d TTFT", key[0], key[1])
			assert.Equal(t, w[2], r.Done.Sub(rep.Date), "conversation %d turn %d done", key[0], key[1])
		}
		assert.Equal(t, ms(134), res[[2]int{2, 1}].QueueDelay(), "waited for an active conversation to end")
		assert.Equal(t, time.Duration(0), res[[2]int{0, 2}].QueueDelay())
		assert.Equal(t, ms(280), rep.Duration)
		cr := rep.Conversations
		assert.Equal(t, 3, cr.Completed)
		assert.Equal(t, 2, cr.MaxActive)
		assert.Equal(t, []time.Duration{ms(140), ms(140), ms(247)}, cr.Duration.Samples, "first send to last end, think time included")
		require.Len(t, cr.PerTurn, 2)
		assert.Equal(t, []time.Duration{ms(10), ms(10), ms(17)}, cr.PerTurn[0].TTFT.Samples)
		assert.Equal(t, []time.Duration{ms(10), ms(10), ms(10)}, cr.PerTurn[1].TTFT.Samples)
		assert.Equal(t, ms(20), cr.PerTurn[1].E2EL.Mean)
	})
}

// MaxConcurrency still bounds the requests in flight: with one slot the
// four turns of two conversations (think 0) run one after the other,
// each 20ms, and a conversation's second turn follows its first. Which
// conversation gets the slot first is the Go scheduler's choice.
func TestConversationMaxConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: 10 * time.Millisecond})
		convs := testConversations(2, 2, 2, 0)
		rep := runConv(t, t.Context(), srv, convs, false, func(c *servingbench.Config) { c.MaxConcurrency = 1 })
		require.Equal(t, 4, rep.Completed)
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		var sent []time.Duration
		for _, r := range rep.Results {
			sent = append(sent, r.Sent.Sub(rep.Date))
			assert.Equal(t, ms(10), r.TTFT(), "never two in flight")
		}
		assert.ElementsMatch(t, []time.Duration{0, ms(20), ms(40), ms(60)}, sent)
		res := byTurn(rep)
		for i := range 2 {
			assert.False(t, res[[2]int{i, 2}].Sent.Before(res[[2]int{i, 1}].Done), "conversation %d", i)
		}
	})
}

// A failed turn ends its conversation: its later turns are not sent and
// are counted, with the reason, apart from the server's failures (one
// here); the other conversation goes on.
func TestConversationFailedTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fail := "question 2 of conversation 0 please"
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: time.Millisecond, Faults: []servingtest.Fault{{
			Kind: servingtest.FaultUnavailable, Match: func(_ int, prompt string) bool { return strings.HasSuffix(prompt, fail) },
		}}})
		convs := testConversations(2, 4, 2, 0)
		rep := runConv(t, t.Context(), srv, convs, false, nil)
		assert.Equal(t, 5, rep.Completed)
		assert.Equal(t, 1, rep.Failed)
		assert.Len(t, srv.Truth(), 6)
		cr := rep.Conversations
		assert.Equal(t, 1, cr.Completed)
		assert.Equal(t, 2, cr.Started)
		assert.Equal(t, []servingbench.ErrorCount{{Reason: "an earlier turn failed (HTTP 503)", Count: 2}}, cr.NotSent)
		require.Len(t, cr.PerTurn, 4)
		assert.Equal(t, 1, cr.PerTurn[1].Failed)
		assert.Equal(t, 1, cr.PerTurn[1].Completed)
		assert.Equal(t, 1, cr.PerTurn[3].Completed)
		assert.Equal(t, 0, cr.PerTurn[3].Failed)
	})
}

// A client that keeps no generated text cannot make the history: the
// conversation stops after its first turn, the client's problem, said so
// in NotSent and a warning, and no turn counts as failed.
func TestConversationNoText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: time.Millisecond})
		rep := runConv(t, t.Context(), srv, testConversations(1, 3, 2, 0), true, nil)
		assert.Equal(t, 1, rep.Completed)
		assert.Equal(t, 0, rep.Failed)
		require.Len(t, rep.Conversations.NotSent, 1)
		assert.Equal(t, 2, rep.Conversations.NotSent[0].Count)
		assert.Contains(t, rep.Conversations.NotSent[0].Reason, "OpenAIConfig.KeepText")
		assert.Contains(t, fmt.Sprint(rep.Warnings), "2 turns were not sent")
	})
}

// Cancellation keeps every measured turn: cancelled at 150ms, the first
// conversation's two finished turns and its third, cut in flight, are in
// the partial report; its fourth is not sent ("run cancelled").
func TestConversationCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: 10 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		// Turns take 40ms (4 tokens), think 20ms: sent at 0, 60, 120, 180.
		rep := runConv(t, ctx, srv, testConversations(1, 4, 4, 20*time.Millisecond), false, nil)
		assert.True(t, rep.Partial)
		assert.Equal(t, 2, rep.Completed)
		assert.Equal(t, 1, rep.Failed, "the turn in flight when the run was cancelled")
		assert.Equal(t, []servingbench.ErrorCount{{Reason: "run cancelled", Count: 1}}, rep.Conversations.NotSent)
		assert.Contains(t, fmt.Sprint(rep.Warnings), "run cancelled after 3 of 4 turns were sent (1 of 1 conversations started)")
	})
}

func TestConversationValidate(t *testing.T) {
	client, err := servingbench.NewChat(servingbench.OpenAIConfig{BaseURL: "http://127.0.0.1:1", Model: "m"})
	require.NoError(t, err)
	for _, tc := range []struct {
		edit func(*servingbench.Config)
		want string
	}{
		{func(c *servingbench.Config) { c.Requests = []servingbench.Request{{Prompt: "x"}} },
			"servingbench: Config.Requests and Config.Conversations are both set; a run sends one or the other"},
		{func(c *servingbench.Config) { c.MaxActiveConversations = -1 }, "servingbench: Config.MaxActiveConversations must be >= 0, got -1"},
		{func(c *servingbench.Config) { c.Conversations[1].Turns = nil }, "servingbench: Config.Conversations[1] (c1) has no turns"},
		{func(c *servingbench.Config) { c.Conversations[0].Turns[1].Think = -time.Second },
			"servingbench: Config.Conversations[0] (c0) turn 2: Think must be >= 0, got -1s"},
		{func(c *servingbench.Config) { c.Conversations[0].Turns[0].MaxTokens = -1 },
			"servingbench: Config.Conversations[0] (c0) turn 1: MaxTokens must be >= 0, got -1"},
		{func(c *servingbench.Config) { c.MaxConcurrency = -2 }, "servingbench: Config.MaxConcurrency must be >= 0, got -2"},
	} {
		cfg := servingbench.Config{Client: client, Conversations: testConversations(2, 2, 2, time.Second)}
		tc.edit(&cfg)
		_, err := servingbench.Run(context.Background(), cfg)
		assert.EqualError(t, err, tc.want)
	}
}

// A conversation run scrapes the server's /metrics as a request run does
// (Config.ServerMetrics): before the first turn, after the last, and its
// counter deltas are the run's own token totals (the simulated server
// counts every turn's whole history as prompt tokens, as usage does).
func TestConversationServerMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.Model{DecodeBase: time.Millisecond})
		scraper := &servermetrics.Scraper{
			URL: srv.URL + "/metrics",
			Get: func(ctx context.Context) (*http.Response, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/metrics", nil)
				if err != nil {
					return nil, err
				}
				return srv.Client().Do(req)
			},
		}
		rep := runConv(t, t.Context(), srv, testConversations(3, 3, 4, 100*time.Millisecond), false,
			func(c *servingbench.Config) { c.ServerMetrics = scraper })
		require.Equal(t, 9, rep.Completed)
		sm := rep.ServerMetrics
		require.True(t, sm.Scraped(), "scraped: %v", sm.Err)
		prompt, _, ok := sm.PromptTokens()
		require.True(t, ok)
		assert.Equal(t, float64(rep.TotalInputTokens), prompt, "the server's prompt tokens: every turn's history")
		gen, _, _ := sm.GenerationTokens()
		assert.Equal(t, float64(rep.TotalOutputTokens), gen)
		assert.Empty(t, sm.Warnings)
	})
}
