package scenarios

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// TestCustomConversationsJSONL: the fixture's three lines (line 2 blank)
// in file order, with the real Qwen3 tokenizer's counts.
func TestCustomConversationsJSONL(t *testing.T) {
	tok := qwen3(t)
	convs, err := CustomConversations{Path: "testdata/datasets/conversations.jsonl"}.Conversations(context.Background(), tok, 10, 0)
	require.NoError(t, err)
	ms := time.Millisecond
	want := []servingbench.Conversation{
		{ID: "greet", System: "You are terse.", Turns: []servingbench.Turn{
			{User: "Hi there", UserTokens: 2, MaxTokens: 32, Reply: "Hello."},
			{User: "Tell me a joke.", UserTokens: 5, MaxTokens: 8, Reply: "Why did the chicken cross the road?", Think: 1500 * ms},
		}},
		{ID: "line-3", Turns: []servingbench.Turn{
			{User: "Count to three.", UserTokens: 4, MaxTokens: 6, Reply: "One, two, three."},
			{User: "Now to five.", UserTokens: 4, MaxTokens: 20, Think: 250*ms + 500*time.Microsecond},
		}},
		{ID: "solo", Turns: []servingbench.Turn{{User: "Summarise the plot of Hamlet.", UserTokens: 9, MaxTokens: 200}}},
	}
	assert.Equal(t, want, convs)

	first, err := CustomConversations{Path: "testdata/datasets/conversations.jsonl"}.Conversations(context.Background(), tok, 1, 0)
	require.NoError(t, err)
	assert.Equal(t, want[:1], first, "n=1: the file's first")
}

// TestCustomConversationsVLLMFile: vLLM's multi-turn input file (a JSON
// array of {"id", "messages"}, as convert_sharegpt_to_openai.py writes it)
// is read as is; Think fills the turns without "think_ms".
func TestCustomConversationsVLLMFile(t *testing.T) {
	tok := qwen3(t)
	d := CustomConversations{Path: "testdata/datasets/conversations_vllm.json", Think: Constant(700)}
	convs, err := d.Conversations(context.Background(), tok, 10, 0)
	require.NoError(t, err)
	want := []servingbench.Conversation{
		{ID: "hiWPlMD", Turns: []servingbench.Turn{
			{User: "What is the capital of France?", UserTokens: 7, MaxTokens: 7, Reply: "The capital of France is Paris."},
			{User: "And its population?", UserTokens: 4, MaxTokens: 12, Reply: "About 2.1 million people live in Paris proper.", Think: 700 * time.Millisecond},
		}},
		{ID: "QWJhYvA", Turns: []servingbench.Turn{{User: "Thanks!", UserTokens: 2, MaxTokens: 4, Reply: "You're welcome."}}},
	}
	assert.Equal(t, want, convs)
	assert.Equal(t, "dataset=custom-conversations/file=conversations_vllm.json/think=constant-700", d.String())

	// OutputLen replaces every turn's length, and the file's think_ms
	// stays where it is set.
	convs, err = CustomConversations{Path: "testdata/datasets/conversations.jsonl", OutputLen: 64, Think: Constant(9)}.Conversations(context.Background(), tok, 10, 0)
	require.NoError(t, err)
	for _, c := range convs {
		for _, tr := range c.Turns {
			assert.Equal(t, 64, tr.MaxTokens, "%s: MaxTokens with OutputLen", c.ID)
		}
	}
	assert.Equal(t, 1500*time.Millisecond, convs[0].Turns[1].Think, "the file's think_ms wins")
}

func TestCustomConversationsErrors(t *testing.T) {
	tok := newFakeTok()
	dir := t.TempDir()
	tests := []struct {
		name, body string
		outputLen  int
		want       string
	}{
		{"bad-json", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"max_tokens\": 1}]}\n{\"messages\": [\n", 0, "line 2: unexpected EOF"},
		{"no-messages", `{"id": "a"}`, 0, `line 1: missing or empty "messages"`},
		{"no-role", `{"messages": [{"content": "a"}]}`, 0, `line 1: message 1: missing string field "role"`},
		{"no-content", `{"messages": [{"role": "user", "max_tokens": 3}]}`, 0, `line 1: message 1: missing string field "content"`},
		{"content-not-string", `{"messages": [{"role": "user", "content": 7}]}`, 0, `line 1: json: cannot unmarshal number into Go struct field customMessage.messages.content of type string`},
		{"unknown-field", `{"messages": [{"role": "user", "content": "a", "max_token": 3}]}`, 0, `line 1: json: unknown field "max_token"`},
		{"assistant-first", `{"messages": [{"role": "assistant", "content": "a"}]}`, 0, `line 1: message 1: "role" is "assistant" where a "user" message is due`},
		{"two-users", "\n\n" + `{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}`, 0, `line 3: message 3: "role" is "user" where an "assistant" message is due`},
		{"system-later", `{"messages": [{"role": "user", "content": "a", "max_tokens": 2}, {"role": "system", "content": "b"}]}`, 0, `line 1: message 2: "role" is "system" where an "assistant" message is due`},
		{"only-system", `{"messages": [{"role": "system", "content": "s"}]}`, 0, `line 1: no "user" message`},
		{"max-tokens-zero", `{"messages": [{"role": "user", "content": "a", "max_tokens": 0}]}`, 0, `line 1: message 1: "max_tokens" must be >= 1, got 0`},
		{"think-first", `{"messages": [{"role": "user", "content": "a", "think_ms": 5}]}`, 0, `line 1: message 1: "think_ms" on the first turn`},
		{"think-negative", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c", "think_ms": -1, "max_tokens": 1}]}`, 0, `line 1: message 3: "think_ms" must be >= 0, got -1`},
		{"fields-on-assistant", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "max_tokens": 4}]}`, 0, `line 1: message 2: "max_tokens" and "think_ms" belong on user messages`},
		{"no-output-length", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "what now?"}]}`, 0, `line 1: turn 2 ("what now?"): no "max_tokens" and no assistant reply`},
		{"duplicate-id", `{"id": "x", "messages": [{"role": "user", "content": "a", "max_tokens": 1}]}` + "\n" + `{"id": "x", "messages": [{"role": "user", "content": "a", "max_tokens": 1}]}`, 0, `line 2: "id" "x" is also the id of line 1`},
		{"empty-id", `{"id": "", "messages": [{"role": "user", "content": "a", "max_tokens": 1}]}`, 0, `line 1: "id" is empty`},
		{"array-bad-record", `[{"messages": [{"role": "user", "content": "a", "max_tokens": 1}]}, {"messages": []}]`, 0, `record 2: missing or empty "messages"`},
		{"array-truncated", `[{"messages": [{"role": "user", "content": "a", "max_tokens": 1}]}`, 0, `record 2: byte`},
		{"empty", "\n \n", 0, "no usable entries: no conversations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".jsonl")
			require.NoError(t, os.WriteFile(p, []byte(tt.body), 0o644))
			_, err := CustomConversations{Path: p, OutputLen: tt.outputLen}.Conversations(context.Background(), tok, 5, 0)
			require.Error(t, err)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%v is a *FileError", err)
			assert.Contains(t, err.Error(), p+": "+tt.want)
		})
	}
	// With OutputLen a turn needs neither max_tokens nor a reply.
	p := filepath.Join(dir, "no-output-length.jsonl")
	convs, err := CustomConversations{Path: p, OutputLen: 5}.Conversations(context.Background(), tok, 5, 0)
	require.NoError(t, err)
	assert.Len(t, convs[0].Turns, 2)

	_, err = CustomConversations{}.Conversations(context.Background(), tok, 1, 0)
	assert.ErrorContains(t, err, "scenarios: CustomConversations.Path is empty")
	_, err = CustomConversations{Path: p, OutputLen: -2}.Conversations(context.Background(), tok, 1, 0)
	assert.ErrorContains(t, err, "scenarios: CustomConversations.OutputLen must be >= 0, got -2")
}

// FuzzCustomConversations: any file gives conversations or a *FileError,
// never a panic; what it gives holds at least one turn each, every turn
// an output length or a reply, and unique ids.
func FuzzCustomConversations(f *testing.F) {
	for _, p := range []string{"testdata/datasets/conversations.jsonl", "testdata/datasets/conversations_vllm.json"} {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`[{"messages": [{"role": "user", "content": "a", "think_ms": 1e300}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		convs, err := readCustomConversations(bytes.NewReader(data), "fuzz.jsonl", false)
		if err != nil {
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%v is a *FileError", err)
			return
		}
		ids := map[string]bool{}
		for _, c := range convs {
			require.NotEmpty(t, c.conv.Turns)
			require.Len(t, c.thinkSet, len(c.conv.Turns))
			require.False(t, ids[c.conv.ID], "duplicate id %q", c.conv.ID)
			ids[c.conv.ID] = true
			require.Zero(t, c.conv.Turns[0].Think)
			for _, tr := range c.conv.Turns {
				require.GreaterOrEqual(t, tr.Think, time.Duration(0))
				require.GreaterOrEqual(t, tr.MaxTokens, 0)
			}
		}
	})
}
