package benchtest_test

import (
	"context"
	"fmt"

	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// chatConversations is a ConversationSource of n conversations of three
// turns, the user messages drawn from seed (so the runs' seeds show).
func chatConversations(_ context.Context, _ servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error) {
	convs := make([]servingbench.Conversation, n)
	for i := range convs {
		c := servingbench.Conversation{ID: fmt.Sprint(i), System: "you are a terse assistant"}
		for k := range 3 {
			c.Turns = append(c.Turns, servingbench.Turn{User: fmt.Sprintf("seed %d conversation %d question %d", seed, i, k+1), MaxTokens: 4})
		}
		convs[i] = c
	}
	return convs, nil
}

// convScenario gives the conversations' number, arrival and limits; its
// Dataset is not used by a run of conversations.
func convScenario() scenarios.Scenario {
	return scenarios.Scenario{Name: "chat", Dataset: scenarios.Random{InputLen: 16, OutputLen: 4}, NumPrompts: 4, IgnoreEOS: true}
}

func BenchmarkHelperConversations(b *testing.B) {
	helper(b)
	srv := servingtest.NewServer(servingtest.Model{PrefixCacheTokens: 1 << 16})
	defer srv.Close()
	benchtest.Run(b, convScenario(), benchtest.WithServer(srv),
		benchtest.WithConversations(chatConversations, benchtest.ConversationOptions{MaxActive: 2}))
}

// A run of conversations reports on sub-benchmarks turn=all (Run's
// metrics over every turn, the conversations' own) and turn=1..3 (each
// turn number's), as benchfmt reads them: the mean input tokens grow turn
// by turn exactly as the history does (system 5 words, each user message
// 6, each reply 4), and the simulated prefix cache served what it holds
// exactly.
func TestConversationBenchmarkOutput(t *testing.T) {
	out, err := goTestBench(t, nil, "^BenchmarkHelperConversations$", "-test.count=2")
	require.NoError(t, err, out)
	results := readBenchfmt(t, out)
	byName := map[string][]float64{}
	all := 0
	for _, r := range results {
		name := procsSuffix.ReplaceAllString(string(r.Name), "")
		switch {
		case strings.HasSuffix(name, "/turn=all"):
			assert.Equal(t, 12.0, valueOf(r, "completed-conv")*3, "4 conversations of 3 turns")
			assert.Equal(t, 0.0, valueOf(r, gate.UnitFailed))
			// Queried: 4 conversations x (11 + 21 + 31) prompt tokens.
			// Hit: each turn k>1 its turn k-1's whole prompt (11, 21:
			// replies are not cached), each first turn but the first
			// admitted the 8 tokens all share ("you are a terse
			// assistant", "seed N conversation").
			// The second run's first admitted turn hits the 6 tokens it
			// shares with the first run's prompts ("seed 8" after
			// "seed 7"): the cache outlives a run, as a real server's.
			// benchfmt prints 4 significant digits.
			hits := 3*8 + 4*(11+21) + 6*all
			assert.InDelta(t, float64(hits)/float64(4*(11+21+31)), valueOf(r, gate.UnitPrefixHitRatio), 5e-5, "run %d: %s", all, out)
			all++
			assert.Greater(t, valueOf(r, "conv-duration-mean-sec"), 0.0)
			assert.Greater(t, valueOf(r, "ttft-p99-sec"), 0.0)
		default:
			byName[name] = append(byName[name], valueOf(r, gate.UnitInputTokens))
			assert.Equal(t, 4.0, valueOf(r, gate.UnitOutputTokens))
			assert.Greater(t, valueOf(r, "ttft-mean-sec"), 0.0)
		}
	}
	assert.Equal(t, map[string][]float64{
		"HelperConversations/turn=1": {11, 11},
		"HelperConversations/turn=2": {21, 21},
		"HelperConversations/turn=3": {31, 31},
	}, byName, "%s", out)
	assert.Equal(t, 2, strings.Count(out, "HelperConversations/turn=all"), "%s", out)
	assert.NotContains(t, out, "BenchmarkHelperConversations-", "the parent reports nothing of its own")
}

func BenchmarkHelperSyntheticConversations(b *testing.B) {
	helper(b)
	srv := servingtest.NewServer(servingtest.Model{})
	defer srv.Close()
	sc := scenarios.Scenario{Name: "synthetic", NumPrompts: 3, IgnoreEOS: true, MaxActiveConversations: 2,
		Conversations: scenarios.Synthetic{Turns: scenarios.Constant(4), SystemLen: scenarios.Constant(8),
			UserLen: scenarios.Constant(5), OutputLen: scenarios.Constant(3)}}
	benchtest.Run(b, sc, benchtest.WithServer(srv))
}

// A scenario with Conversations (scenarios.Synthetic here) needs no
// option: Run sends its conversations, turn by turn, with its
// MaxActiveConversations; the input tokens per turn grow by exactly the
// reply and the next user message (3 + 5 tokens of the simulated server's
// words tokenizer, which counts the dataset's texts as it does).
func TestConversationScenarioBenchmark(t *testing.T) {
	out, err := goTestBench(t, nil, "^BenchmarkHelperSyntheticConversations$")
	require.NoError(t, err, out)
	in := map[string]float64{}
	for _, r := range readBenchfmt(t, out) {
		name := procsSuffix.ReplaceAllString(string(r.Name), "")
		if strings.HasSuffix(name, "/turn=all") {
			assert.Equal(t, 3.0, valueOf(r, gate.UnitCompletedConversations), "%s", out)
			assert.Equal(t, 0.0, valueOf(r, gate.UnitFailed))
			continue
		}
		assert.Equal(t, 3.0, valueOf(r, gate.UnitOutputTokens), "%s", name)
		in[name] = valueOf(r, gate.UnitInputTokens)
	}
	require.Len(t, in, 4, "%s", out)
	first := in["HelperSyntheticConversations/turn=1"]
	assert.Equal(t, 13.0, first, "the system prompt's 8 tokens and the user message's 5")
	for k := 2; k <= 4; k++ {
		assert.Equal(t, first+float64(8*(k-1)), in[fmt.Sprintf("HelperSyntheticConversations/turn=%d", k)], "turn %d", k)
	}
}
