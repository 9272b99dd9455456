package sse

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ollamaFixtureLines reads the lines of the Ollama fixtures, written from
// ollama v0.33.0-rc2's api/types.go and server/routes.go
// (https://github.com/ollama/ollama/blob/v0.33.0-rc2/api/types.go); they
// live with the client's stream fixtures.
func ollamaFixtureLines(t testing.TB) map[string][][]byte {
	t.Helper()
	paths, err := filepath.Glob("../../servingbench/testdata/streams/ollama-*.ndjson")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	m := make(map[string][][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		m[filepath.Base(p)] = bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	}
	return m
}

// ollamaView is an OllamaEvent unescaped, for comparisons.
type ollamaView struct {
	Response, Content, Thinking, MessageThinking string
	Done                                         bool
	DoneReason                                   string
	PromptEvalCount, EvalCount                   int // -1 when absent
	Error                                        bool
	ErrorMessage                                 string
}

func viewOfOllama(e *OllamaEvent) ollamaView {
	u := func(b []byte) string { return string(AppendUnescaped(nil, b)) }
	v := ollamaView{Response: u(e.Response), Content: u(e.Content), Thinking: u(e.Thinking),
		MessageThinking: u(e.MessageThinking), Done: e.Done, DoneReason: u(e.DoneReason),
		PromptEvalCount: -1, EvalCount: -1, Error: e.Error, ErrorMessage: u(e.ErrorMessage)}
	if e.HasPromptEvalCount {
		v.PromptEvalCount = e.PromptEvalCount
	}
	if e.HasEvalCount {
		v.EvalCount = e.EvalCount
	}
	return v
}

// referenceOllama extracts what OllamaEvent should from valid JSON: the
// oracle for tests and FuzzOllamaEvent.
func referenceOllama(t testing.TB, data []byte) ollamaView {
	v := ollamaView{PromptEvalCount: -1, EvalCount: -1}
	obj := referenceRoot(t, data)
	if obj == nil {
		return v
	}
	v.Response = referenceString(obj, "response")
	v.Thinking = referenceString(obj, "thinking")
	if msg, ok := obj["message"].(map[string]any); ok {
		v.Content = referenceString(msg, "content")
		v.MessageThinking = referenceString(msg, "thinking")
	}
	v.Done, _ = obj["done"].(bool)
	v.DoneReason = referenceString(obj, "done_reason")
	v.PromptEvalCount = referenceCount(obj["prompt_eval_count"])
	v.EvalCount = referenceCount(obj["eval_count"])
	v.Error, v.ErrorMessage = referenceError(obj)
	return v
}

func TestOllamaEventFixtures(t *testing.T) {
	want := map[string][]ollamaView{
		"ollama-generate.ndjson": {
			{Response: "The"}, {Response: " sky"}, {Response: " is"}, {Response: ` "blue"` + "\n"},
			{Done: true, DoneReason: "length", PromptEvalCount: 26, EvalCount: 4},
		},
		"ollama-chat.ndjson": {
			{Content: "The"}, {Content: " sky"}, {Content: " is"}, {Content: " blue."},
			{Done: true, DoneReason: "stop", PromptEvalCount: 26, EvalCount: 5},
		},
		"ollama-chat-thinking.ndjson": {
			{MessageThinking: "The"}, {MessageThinking: " user asks."}, {Content: "Blue"}, {Content: "."},
			{Done: true, DoneReason: "stop", PromptEvalCount: 12, EvalCount: 7},
		},
		"ollama-error.ndjson": {
			{Response: "The"},
			{Error: true, ErrorMessage: "an error was encountered while running the model: unexpected EOF"},
		},
	}
	for name, lines := range ollamaFixtureLines(t) {
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			require.True(t, ok, "no expectation for %s", name)
			require.Len(t, lines, len(w))
			for i, l := range lines {
				var e OllamaEvent
				require.NoError(t, e.Decode(l))
				got := viewOfOllama(&e)
				if w[i].PromptEvalCount == 0 {
					w[i].PromptEvalCount, w[i].EvalCount = -1, -1
				}
				assert.Equal(t, w[i], got, "line %d: Decode(%s)", i, l)
				assert.Equal(t, referenceOllama(t, l), got, "line %d against encoding/json", i)
			}
		})
	}
}

func TestOllamaEventDecode(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"error object", `{"error":{"message":"m"}}`},
		{"duplicate message", `{"message":{"content":"a","thinking":"t"},"message":{"role":"assistant"}}`},
		{"message not an object", `{"message":"x","response":null,"eval_count":-1,"prompt_eval_count":1.5}`},
		{"escapes", `{"response":"\u00e9\n\"","done":true,"eval_count":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e OllamaEvent
			require.NoError(t, e.Decode([]byte(tc.in)))
			assert.Equal(t, referenceOllama(t, []byte(tc.in)), viewOfOllama(&e))
		})
	}
	var e OllamaEvent
	assert.Error(t, e.Decode([]byte(`{"response":"broken`)))
	line := []byte(`{"model":"m","created_at":"2026-08-21T18:48:22.385406455Z","response":" word","done":false}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Decode(line) }), "allocations per Decode")
}

func FuzzOllamaEvent(f *testing.F) {
	for _, lines := range ollamaFixtureLines(f) {
		for _, l := range lines {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"message":{"content":"\ud83d\ude00","thinking":"t"},"thinking":"g","done":true,"error":"x","error":{"message":"m"},"eval_count":1e3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e OllamaEvent
		if !checkSyntax(t, data, e.Decode(data)) {
			return
		}
		if got, want := viewOfOllama(&e), referenceOllama(t, data); got != want {
			t.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
		}
	})
}
