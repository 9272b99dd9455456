package servingbench

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A conversation turn's history is sent as the chat messages, in order,
// roles and contents escaped exactly; the single-message body of a request
// without Messages is unchanged (TestPayloadShape, TestPayloadExactBytes).
func TestPayloadMessages(t *testing.T) {
	msgs := []Message{
		{Role: "system", Content: "Be \"brief\"\n"},
		{Role: "user", Content: "é 中 \x01 \xff"},
		{Role: "assistant", Content: " word word"},
		{Role: "user", Content: `back\slash`},
	}
	req := &Request{Prompt: "rendered, not sent by chat", MaxTokens: 8, Messages: msgs}
	cfg := testConfig("http://127.0.0.1:1")

	chatBody, err := newPayload(&cfg, kindChat)
	require.NoError(t, err)
	assert.Equal(t, `{"model":"test-model","messages":[{"role":"system","content":"Be \"brief\"\n"},`+
		`{"role":"user","content":"é 中 \u0001 \ufffd"},{"role":"assistant","content":" word word"},`+
		`{"role":"user","content":"back\\slash"}],"max_completion_tokens":8,"stream":true,"stream_options":{"include_usage":true}}`,
		string(chatBody.append(nil, req)))

	var decoded struct {
		Messages []struct{ Role, Content string }
	}
	require.NoError(t, json.Unmarshal(chatBody.append(nil, req), &decoded))
	require.Len(t, decoded.Messages, len(msgs))
	assert.Equal(t, "é 中 \x01 \ufffd", decoded.Messages[1].Content)

	ollamaBody, err := newOllamaPayload(&cfg, true)
	require.NoError(t, err)
	var od struct {
		Messages []struct{ Role, Content string }
	}
	require.NoError(t, json.Unmarshal(ollamaBody.append(nil, req), &od))
	assert.Equal(t, decoded.Messages, od.Messages)

	// Completions and Ollama's /api/generate send the rendered Prompt.
	for name, newP := range map[string]func() (*payload, error){
		"completions":     func() (*payload, error) { return newPayload(&cfg, kindCompletions) },
		"ollama generate": func() (*payload, error) { return newOllamaPayload(&cfg, false) },
		"tgi":             func() (*payload, error) { return newTGIPayload(&cfg) },
	} {
		p, err := newP()
		require.NoError(t, err, name)
		var m map[string]any
		require.NoError(t, json.Unmarshal(p.append(nil, req), &m), name)
		assert.NotContains(t, m, "messages", name)
		assert.Contains(t, string(p.append(nil, req)), `"rendered, not sent by chat"`, name)
	}
}
