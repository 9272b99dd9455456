package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConversationCatalog(t *testing.T) {
	tok := qwen3(t)
	tests := []struct {
		s                  Scenario
		str                string
		turnsLo, turnsHi   int
		outLo, outHi       int
		thinkLo, thinkHi   time.Duration
		system             int
		firstLo, firstHi   int // tokens of the first user message
		activeConversation int
	}{
		{ChatAssistant(),
			"scenario=chat-assistant/dataset=synthetic/turns=uniform-6-9/system=constant-500/prefix=lognormal-avg1000-max5000/user=uniform-120-160/out=uniform-80-120/think=uniform-1000-3000/n=100/rate=1/active=16",
			6, 9, 80, 120, time.Second, 3 * time.Second, 500, 120 + 1, 160 + 5000, 16},
		{AgentLoop(),
			"scenario=agent-loop/dataset=synthetic/turns=uniform-9-17/system=constant-2000/first=uniform-50-150/user=lognormal-avg1500-max8000/out=uniform-30-120/think=uniform-100-500/n=50/rate=0.5/active=8",
			9, 17, 30, 120, 100 * time.Millisecond, 500 * time.Millisecond, 2000, 50, 150, 8},
	}
	for _, tt := range tests {
		t.Run(tt.s.Name, func(t *testing.T) {
			require.NoError(t, tt.s.Validate())
			assert.Equal(t, tt.str, tt.s.String())
			got, ok := Lookup(tt.s.Name)
			require.True(t, ok, "Lookup(%q)", tt.s.Name)
			assert.Equal(t, tt.str, got.String())
			assert.Equal(t, tt.activeConversation, tt.s.MaxActiveConversations)

			small := tt.s
			small.NumPrompts = 3
			convs, arr, err := small.PrepareConversations(context.Background(), tok)
			require.NoError(t, err)
			require.Len(t, convs, 3)
			assert.Len(t, arr.Offsets(3), 3)
			for i, c := range convs {
				assert.Len(t, tok.Encode(c.System), tt.system, "conversation %d system prompt", i)
				assert.GreaterOrEqual(t, len(c.Turns), tt.turnsLo)
				assert.LessOrEqual(t, len(c.Turns), tt.turnsHi)
				assert.GreaterOrEqual(t, c.Turns[0].UserTokens, tt.firstLo, "conversation %d first message", i)
				assert.LessOrEqual(t, c.Turns[0].UserTokens, tt.firstHi, "conversation %d first message", i)
				for k, tr := range c.Turns {
					assert.Equal(t, len(tok.Encode(tr.User)), tr.UserTokens)
					assert.GreaterOrEqual(t, tr.MaxTokens, tt.outLo)
					assert.LessOrEqual(t, tr.MaxTokens, tt.outHi)
					if k == 0 {
						assert.Zero(t, tr.Think)
						continue
					}
					assert.GreaterOrEqual(t, tr.Think, tt.thinkLo)
					assert.LessOrEqual(t, tr.Think, tt.thinkHi)
				}
			}

			_, _, err = tt.s.Prepare(context.Background(), tok)
			assert.ErrorContains(t, err, "holds conversations")
			_, err = tt.s.Config(context.Background(), tok)
			assert.ErrorContains(t, err, "use PrepareConversations")
		})
	}
}

func TestConversationScenarioOptions(t *testing.T) {
	s := ChatAssistant(WithNumPrompts(4), WithOutputLen(32))
	require.NoError(t, s.Validate())
	assert.Equal(t, 4, s.NumPrompts)
	assert.Equal(t, Constant(32), s.Conversations.(Synthetic).OutputLen)

	err := AgentLoop(WithInputLen(100)).Validate()
	assert.ErrorContains(t, err, "Scale.InputLen: conversation dataset dataset=synthetic/")
	assert.ErrorContains(t, err, "has no input length (a turn's prompt is the conversation's history)")

	sharegpt, err := Scenario{Conversations: ShareGPTConversations{Path: "x"}, NumPrompts: 1}.Scaled(Scale{OutputLen: 7})
	require.NoError(t, err)
	assert.Equal(t, 7, sharegpt.Conversations.(ShareGPTConversations).OutputLen)
	custom, err := Scenario{Conversations: CustomConversations{Path: "x"}, NumPrompts: 1}.Scaled(Scale{OutputLen: 9})
	require.NoError(t, err)
	assert.Equal(t, 9, custom.Conversations.(CustomConversations).OutputLen)
}

func TestConversationScenarioValidate(t *testing.T) {
	syn := Synthetic{Turns: Constant(2), UserLen: Constant(4), OutputLen: Constant(4)}
	tests := []struct {
		name string
		s    Scenario
		want string
	}{
		{"both", Scenario{Dataset: Random{}, Conversations: syn, NumPrompts: 1}, "scenarios: Scenario.Dataset (dataset=random/in=1024/out=128) and Conversations (dataset=synthetic/turns=constant-2/user=constant-4/out=constant-4) are both set: give one"},
		{"active-negative", Scenario{Conversations: syn, NumPrompts: 1, MaxActiveConversations: -1}, "scenarios: Scenario.MaxActiveConversations must be >= 0, got -1"},
		{"active-single-turn", Scenario{Dataset: Random{}, NumPrompts: 1, MaxActiveConversations: 2}, "scenarios: Scenario.MaxActiveConversations (2) needs Conversations"},
		{"dataset-invalid", Scenario{Conversations: Synthetic{}, NumPrompts: 1}, "scenarios: Synthetic.Turns is unset"},
		{"none", Scenario{NumPrompts: 1}, "scenarios: Scenario.Dataset is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, tt.s.Validate(), tt.want)
		})
	}
	_, _, err := Scenario{Dataset: Random{}, NumPrompts: 1}.PrepareConversations(context.Background(), newFakeTok())
	assert.ErrorContains(t, err, `scenarios: Scenario "" has no Conversations: use Prepare`)

	// A conversation scenario's starts follow its Gamma process: at rate
	// inf, all at offset 0.
	convs, arr, err := Scenario{Conversations: syn, NumPrompts: 5, Seed: 3}.PrepareConversations(context.Background(), newFakeTok())
	require.NoError(t, err)
	assert.Len(t, convs, 5)
	assert.Equal(t, make([]time.Duration, 5), arr.Offsets(5))
}
