package servingtest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewerValidation: each newer route's request errors, in the shape
// the real server answers them: Triton's {"error": MESSAGE}
// (extension_generate.md, "Generate Response JSON Error Object"),
// SGLang's {"error": {"message"}} (http_server.py's
// _create_error_response) and Ollama's {"error": MESSAGE} (routes.go's
// gin.H{"error"}), each with HTTP 400; Record.Status says so for every
// recorded request.
func TestNewerValidation(t *testing.T) {
	srv := NewServer(Model{Name: "m", KVCacheTokens: 100})
	defer srv.Close()
	const trt = "/v2/models/ensemble/generate_stream"
	for _, tc := range []struct {
		name, path, body string
		message          string
		recorded         bool
	}{
		{"trt bad json", trt, `{"text_input": "a",`, "failed to parse the request JSON buffer", true},
		{"trt no text_input", trt, `{"max_tokens": 2, "stream": true}`, "At least one input is missing: text_input", true},
		{"trt no max_tokens", trt, `{"text_input": "a", "stream": true}`, "input 'max_tokens' is required", true},
		{"trt max_tokens 0", trt, `{"text_input": "a", "max_tokens": 0, "stream": true}`, "max_tokens must be at least 1, got 0", true},
		{"trt not streamed", trt, `{"text_input": "a", "max_tokens": 2}`, `"stream": true only`, true},
		{"trt too long", trt, `{"text_input": "a b", "max_tokens": 99, "stream": true}`, "the sum of the prompt length (2) and max_tokens (99) exceeds the maximum sequence length (100)", true},
		{"trt unknown model", "/v2/models/other/generate_stream", `{"text_input": "a", "max_tokens": 2, "stream": true}`, "Request for unknown model: 'other' is not found", false},
		{"sglang no text", "/generate", `{"sampling_params": {"max_new_tokens": 2}}`, "Either text, input_ids or input_embeds should be provided.", true},
		{"sglang input_ids", "/generate", `{"input_ids": [1, 2], "sampling_params": {"max_new_tokens": 2}}`, "input_ids prompts are not simulated", true},
		{"sglang no max_new_tokens", "/generate", `{"text": "a", "stream": true}`, "sampling_params.max_new_tokens is required", true},
		{"sglang max_new_tokens 0", "/generate", `{"text": "a", "sampling_params": {"max_new_tokens": 0}}`, "max_new_tokens must be at least 1 in the simulated server, got 0", true},
		{"sglang negative temperature", "/generate", `{"text": "a", "sampling_params": {"max_new_tokens": 2, "temperature": -0.5}}`, "temperature must be non-negative, got -0.5.", true},
		{"sglang wrong type", "/generate", `{"text": "a", "sampling_params": {"max_new_tokens": "2"}}`, "cannot unmarshal string", true},
		{"sglang too long", "/generate", `{"text": "a b", "sampling_params": {"max_new_tokens": 99}}`, "maximum context length of 100 tokens. You requested a total of 101 tokens: 2 tokens from the input messages and 99 tokens for the completion.", true},
		{"ollama bad json", "/api/generate", `{"prompt": "a",`, "unexpected EOF", true},
		{"ollama no num_predict", "/api/generate", `{"prompt": "a"}`, "options.num_predict is required", true},
		{"ollama num_predict -1", "/api/generate", `{"prompt": "a", "options": {"num_predict": -1}}`, "options.num_predict must be at least 1 in the simulated server, got -1", true},
		{"ollama too long", "/api/generate", `{"prompt": "a b", "options": {"num_predict": 99}}`, "requested context length (101 tokens) exceeds the available context (100 tokens)", true},
		{"ollama chat no messages", "/api/chat", `{"options": {"num_predict": 2}}`, "messages is required and must not be empty", true},
		{"ollama chat no role", "/api/chat", `{"messages": [{"content": "a"}], "options": {"num_predict": 2}}`, "messages[0].role is required", true},
		{"ollama chat bad content", "/api/chat", `{"messages": [{"role": "user", "content": 3}], "options": {"num_predict": 2}}`, "messages[0].content must be a string or an array of text parts", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Reset()
			resp := post(t, srv.URL+tc.path, tc.body)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			var message string
			if tc.path == "/generate" {
				var e struct {
					Error struct{ Message string }
				}
				require.NoError(t, json.Unmarshal(b, &e), "%s", b)
				message = e.Error.Message
			} else {
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(b, &e), "%s", b)
				message = e.Error
			}
			assert.Contains(t, message, tc.message, "%s", b)
			recs := srv.Truth()
			if !tc.recorded {
				assert.Empty(t, recs, "answered before the request is recorded")
				return
			}
			require.Len(t, recs, 1)
			assert.Equal(t, http.StatusBadRequest, recs[0].Status)
			assert.Empty(t, recs[0].Chunks)
		})
	}
}

// TestReasoningValidate: Model.Validate names a bad Reasoning field and
// its value; NewServer panics with that error.
func TestReasoningValidate(t *testing.T) {
	for _, tc := range []struct {
		r    Reasoning
		want string
	}{
		{Reasoning{Tokens: -1}, "servingtest: Model.Reasoning.Tokens must be >= 0, got -1"},
		{Reasoning{Tokens: 2, Field: "thinking"}, `servingtest: Model.Reasoning.Field must be "", "reasoning_content" or "reasoning", got "thinking"`},
		{Reasoning{Field: "Reasoning"}, `servingtest: Model.Reasoning.Field must be "", "reasoning_content" or "reasoning", got "Reasoning"`},
	} {
		err := Model{Reasoning: tc.r}.Validate()
		require.Error(t, err, "%+v", tc.r)
		assert.EqualError(t, err, tc.want)
		assert.PanicsWithError(t, tc.want, func() { NewServer(Model{Reasoning: tc.r}) })
	}
	for _, r := range []Reasoning{{}, {Tokens: 3}, {Tokens: 3, Field: "reasoning_content"}, {Tokens: 3, Field: "reasoning", OmitUsage: true}} {
		assert.NoError(t, Model{Reasoning: r}.Validate(), "%+v", r)
	}
}
