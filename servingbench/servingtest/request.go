package servingtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// apiRequest is the subset of an OpenAI completions or chat request the
// simulator reads. Unknown fields are ignored.
type apiRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	IgnoreEOS bool `json:"ignore_eos"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// call is a validated request, whatever its protocol.
type call struct {
	chat   bool
	prompt string
	// messages are a chat request's messages (Record.Messages).
	messages  []servingbench.Message
	maxTokens int
	stream    bool
	// includeUsage: the counts are asked for (OpenAI's
	// stream_options.include_usage, TGI's parameters.details).
	includeUsage bool
	ignoreEOS    bool
	// sampled: TGI's do_sample (its details then give a seed).
	sampled bool
}

// apiError is an HTTP error; each protocol writes it in its own shape
// (api.writeError; write is OpenAI's).
type apiError struct {
	status  int
	typ     string
	message string
	param   string
	// validation: the request itself is invalid (not an injected fault),
	// which TGI reports inside a 200 stream on /generate_stream.
	validation bool
}

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "BadRequestError", param: param,
		message: fmt.Sprintf(format, args...), validation: true}
}

// write sends the error as {"error": {"message", "type", "param", "code"}}.
func (e *apiError) write(w http.ResponseWriter) {
	var param any
	if e.param != "" {
		param = e.param
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": e.message, "type": e.typ, "param": param, "code": e.status,
	}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(body, '\n'))
}

// parseCall decodes and validates a request body for the chat or the
// completions endpoint.
func parseCall(body []byte, chat bool, modelName string) (*call, *apiError) {
	var req apiRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, badRequest("", "invalid JSON body: %v", err)
	}
	if req.Model != "" && req.Model != modelName {
		return nil, &apiError{status: http.StatusNotFound, typ: "NotFoundError", param: "model",
			message: fmt.Sprintf("The model `%s` does not exist.", req.Model)}
	}
	c := &call{chat: chat, stream: req.Stream, ignoreEOS: req.IgnoreEOS}
	if req.StreamOptions != nil {
		c.includeUsage = req.StreamOptions.IncludeUsage
	}
	var apiErr *apiError
	if chat {
		c.prompt, c.messages, apiErr = chatPrompt(req.Messages)
	} else {
		c.prompt, apiErr = completionPrompt(req.Prompt)
	}
	if apiErr != nil {
		return nil, apiErr
	}
	maxTokens, param := req.MaxTokens, "max_tokens"
	if chat && req.MaxCompletionTokens != nil {
		maxTokens, param = req.MaxCompletionTokens, "max_completion_tokens"
	}
	switch {
	case maxTokens == nil:
		return nil, badRequest(param, "%s is required by the simulated server", param)
	case *maxTokens <= 0:
		return nil, badRequest(param, "%s must be at least 1, got %d", param, *maxTokens)
	}
	c.maxTokens = *maxTokens
	return c, nil
}

// completionPrompt accepts a string or an array of exactly one string.
func completionPrompt(raw json.RawMessage) (string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", badRequest("prompt", "prompt is required")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil && len(list) == 1 {
		return list[0], nil
	}
	return "", badRequest("prompt", "prompt must be a string or an array of one string")
}

// chatPrompt joins the messages' text contents with "\n" and returns
// them with their roles.
func chatPrompt(msgs []chatMessage) (string, []servingbench.Message, *apiError) {
	if len(msgs) == 0 {
		return "", nil, badRequest("messages", "messages is required and must not be empty")
	}
	parts := make([]string, 0, len(msgs))
	out := make([]servingbench.Message, 0, len(msgs))
	for i, m := range msgs {
		if m.Role == "" {
			return "", nil, badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role is required", i)
		}
		text, ok := messageText(m.Content)
		if !ok {
			return "", nil, badRequest(fmt.Sprintf("messages[%d].content", i),
				"messages[%d].content must be a string or an array of text parts", i)
		}
		parts = append(parts, text)
		out = append(out, servingbench.Message{Role: m.Role, Content: text})
	}
	return strings.Join(parts, "\n"), out, nil
}

func messageText(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), true
}
