package scenarios

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

const shareGPTConvFixture = "testdata/datasets/sharegpt_conversations.json"

// byID returns convs sorted by ID.
func byID(convs []servingbench.Conversation) []servingbench.Conversation {
	s := slices.Clone(convs)
	slices.SortFunc(s, func(a, b servingbench.Conversation) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return s
}

// TestShareGPTConversations: the fixture's nine records become five
// conversations by vLLM's converter's rules (convert_sharegpt_to_openai.py,
// vllm-project/vllm benchmarks/multi_turn/): long_0 and long_1 joined, the
// part's repeated gpt message dropped; follow_0 and system_0 lose their
// first, non-user, message; "twice" (two human messages in a row), "tool"
// (a role of no side) and "lonely" (no reply) are skipped; unanswered's
// last question is dropped. MaxTokens and UserTokens are the real Qwen3
// tokenizer's counts.
func TestShareGPTConversations(t *testing.T) {
	tok := qwen3(t)
	d := ShareGPTConversations{Path: shareGPTConvFixture}
	convs, err := d.Conversations(context.Background(), tok, 10, 0)
	require.NoError(t, err)
	turn := func(user, reply string, userTokens, maxTokens int) servingbench.Turn {
		return servingbench.Turn{User: user, Reply: reply, UserTokens: userTokens, MaxTokens: maxTokens}
	}
	want := []servingbench.Conversation{
		{ID: "chat", Turns: []servingbench.Turn{
			turn("What is the capital of France?", "The capital of France is Paris.", 7, 7),
			turn("And its population?", "About 2.1 million people live in Paris proper.", 4, 12),
			turn("Thanks!", "You're welcome.", 2, 4),
		}},
		{ID: "follow", Turns: []servingbench.Turn{turn("Why 42?", "It is a joke from a novel.", 5, 8)}},
		{ID: "long", Turns: []servingbench.Turn{
			turn("Write a haiku about the sea.", "Waves fold into foam", 8, 5),
			turn("Another one, about mountains.", "Stone shoulders in cloud", 6, 4),
		}},
		{ID: "system", Turns: []servingbench.Turn{turn("Name a prime number.", "7.", 5, 2)}},
		{ID: "unanswered", Turns: []servingbench.Turn{turn("Translate 'cat' to German.", "Katze.", 7, 3)}},
	}
	assert.Equal(t, want, byID(convs))
}

func TestShareGPTConversationsOptions(t *testing.T) {
	tok := qwen3(t)
	ctx := context.Background()

	// OutputLen keeps the unanswered last questions: "unanswered" gets its
	// second turn and "lonely" its only one; every turn asks for 16.
	convs, err := ShareGPTConversations{Path: shareGPTConvFixture, OutputLen: 16}.Conversations(ctx, tok, 10, 0)
	require.NoError(t, err)
	var ids []string
	for _, c := range byID(convs) {
		ids = append(ids, c.ID)
		for _, tr := range c.Turns {
			assert.Equal(t, 16, tr.MaxTokens, "%s: MaxTokens with OutputLen", c.ID)
		}
		switch c.ID {
		case "unanswered":
			require.Len(t, c.Turns, 2)
			assert.Equal(t, servingbench.Turn{User: "And 'dog'?", UserTokens: 4, MaxTokens: 16}, c.Turns[1])
		case "lonely":
			assert.Equal(t, []servingbench.Turn{{User: "Is this thing on?", UserTokens: 5, MaxTokens: 16}}, c.Turns)
		}
	}
	assert.Equal(t, []string{"chat", "follow", "lonely", "long", "system", "unanswered"}, ids)

	// MinTurns 2 keeps chat and long; MaxTurns 2 cuts chat to two turns.
	convs, err = ShareGPTConversations{Path: shareGPTConvFixture, MinTurns: 2, MaxTurns: 2}.Conversations(ctx, tok, 10, 0)
	require.NoError(t, err)
	convs = byID(convs)
	require.Len(t, convs, 2)
	assert.Equal(t, "chat", convs[0].ID)
	assert.Len(t, convs[0].Turns, 2)
	assert.Equal(t, "long", convs[1].ID)

	// n below the usable count: a seeded choice; another seed, another.
	d := ShareGPTConversations{Path: shareGPTConvFixture, Think: Constant(1500)}
	a, err := d.Conversations(ctx, tok, 2, 1)
	require.NoError(t, err)
	require.Len(t, a, 2)
	again, err := d.Conversations(ctx, tok, 2, 1)
	require.NoError(t, err)
	assert.Equal(t, a, again)
	all, err := d.Conversations(ctx, tok, 5, 1)
	require.NoError(t, err)
	assert.Equal(t, a, all[:2], "the first n of the seed's order")
	for _, c := range all {
		for k, tr := range c.Turns {
			want := 1500 * time.Millisecond
			if k == 0 {
				want = 0
			}
			assert.Equal(t, want, tr.Think, "%s turn %d Think", c.ID, k)
		}
	}
	other, err := d.Conversations(ctx, tok, 5, 2)
	require.NoError(t, err)
	assert.ElementsMatch(t, all, other, "the same conversations")
	assert.NotEqual(t, all, other, "in another order")
	assert.Equal(t, "dataset=sharegpt-conversations/file=sharegpt_conversations.json/think=constant-1500", d.String())
}

func TestShareGPTConversationsErrors(t *testing.T) {
	tok := newFakeTok()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	tests := []struct {
		name, body, want string
		empty            bool
	}{
		{"empty", "", "file is empty", true},
		{"object", `{"id": "x"}`, "want a JSON array of records, found {", false},
		{"bad-record", `[{"id": "a", "conversations": []}, {"id": 7}]`, "record 2: byte", false},
		{"truncated", `[{"id": "a", "conversations": []}`, "record 2: byte", false},
		{"no-records", `[]`, "the array holds no records", true},
		{"none-usable", `[{"id": "a", "conversations": [{"from": "gpt", "value": "x"}, {"from": "gpt", "value": "y"}]},
			{"id": "b", "conversations": [{"from": "robot", "value": "x"}]}, {"id": "c", "conversations": []}]`,
			"none of 3 conversations is usable (1 with a role of no side, 1 not alternating user and assistant, 1 with no answered user message)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(tt.name+".json", tt.body)
			_, err := ShareGPTConversations{Path: p}.Conversations(context.Background(), tok, 3, 0)
			require.Error(t, err)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%v is a *FileError", err)
			assert.Equal(t, p, fe.Path)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.empty, errors.Is(err, ErrEmpty), "errors.Is(%v, ErrEmpty)", err)
		})
	}
	for _, tt := range []struct {
		d    ShareGPTConversations
		want string
	}{
		{ShareGPTConversations{}, "scenarios: ShareGPTConversations.Path is empty"},
		{ShareGPTConversations{Path: "x", OutputLen: -1}, "OutputLen must be >= 0, got -1"},
		{ShareGPTConversations{Path: "x", MinTurns: 3, MaxTurns: 2}, "MinTurns (3) is above MaxTurns (2)"},
		{ShareGPTConversations{Path: "x", Think: Uniform(2, 1)}, "scenarios: ShareGPTConversations.Think: uniform"},
	} {
		_, err := tt.d.Conversations(context.Background(), tok, 1, 0)
		assert.ErrorContains(t, err, tt.want)
	}
	_, err := ShareGPTConversations{Path: filepath.Join(dir, "missing.json")}.Conversations(context.Background(), tok, 1, 0)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
