package servingbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/streams/ollama-*.ndjson are written from ollama v0.33.0-rc2
// (fb30760): api/types.go (GenerateResponse, ChatResponse, Metrics) and
// server/routes.go (GenerateHandler, ChatHandler, streamResponse, which
// sets Content-Type application/x-ndjson and writes a mid-stream failure
// as {"error": MESSAGE}):
// https://github.com/ollama/ollama/blob/v0.33.0-rc2/server/routes.go
// https://github.com/ollama/ollama/blob/v0.33.0-rc2/api/types.go

// serveNDJSON writes stream as application/x-ndjson, flushing after every
// line.
func serveNDJSON(all []byte, contentType string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		for _, l := range strings.SplitAfter(string(all), "\n") {
			w.Write([]byte(l))
			w.(http.Flusher).Flush()
		}
	}
}

func TestOllamaCannedStreams(t *testing.T) {
	tests := []struct {
		file, path, text string
		chat             bool
		events, output   int
	}{
		{"ollama-generate.ndjson", "/api/generate", "The sky is \"blue\"\n", false, 4, 4},
		{"ollama-chat.ndjson", "/api/chat", "The sky is blue.", true, 4, 5},
		// Thinking lines are reasoning token events, their text before the
		// answer's; eval_count counts both (TestOllamaThinking).
		{"ollama-chat-thinking.ndjson", "/api/chat", "The user asks.Blue.", true, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			srv := newStreamServer(t, serveNDJSON(cannedStream(t, tt.file), "application/x-ndjson"))
			cfg := testConfig(srv.URL)
			cfg.KeepText = true
			res := sendWith(t, ollamaClient(tt.chat), cfg, Request{Prompt: "Why is the sky blue?", MaxTokens: 4})
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, tt.events)
			assert.Equal(t, tt.text, res.Text)
			assert.Equal(t, tt.output, res.OutputTokens, "eval_count")
			assert.Equal(t, SourceUsage, res.OutputSource)
			assert.Equal(t, SourceUsage, res.InputSource, "prompt_eval_count, the request having no count")
			assert.False(t, res.NoDone, "the done line is the stream's end")
			checkTimes(t, res)
			got := srv.last(t)
			assert.Equal(t, tt.path, got.Path)
			assert.Equal(t, "application/x-ndjson", got.Header.Get("Accept"))
		})
	}
}

func TestOllamaInputCount(t *testing.T) {
	canned := cannedStream(t, "ollama-generate.ndjson") // prompt_eval_count 26
	noCount := strings.Replace(string(canned), `"prompt_eval_count":26,`, "", 1)
	tests := []struct {
		name   string
		stream string
		req    Request
		tok    Tokenizer
		want   int
		source CountSource
	}{
		{"the server's count without the request's", string(canned), Request{Prompt: "p q"}, nil, 26, SourceUsage},
		{"Request.PromptTokens first", string(canned), Request{Prompt: "p q", PromptTokens: 20}, nil, 20, SourceTokenizer},
		{"the Tokenizer first", string(canned), Request{Prompt: "p q r"}, spaceTokenizer{}, 3, SourceTokenizer},
		// A cached prompt left the count out (ollama/ollama#2068): unknown, not 0.
		{"count left out", noCount, Request{Prompt: "p q"}, nil, 0, SourceNone},
		{"count left out, PromptTokens", noCount, Request{Prompt: "p q", PromptTokens: 20}, nil, 20, SourceTokenizer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveNDJSON([]byte(tt.stream), "application/x-ndjson"))
			cfg := testConfig(srv.URL)
			cfg.Tokenizer = tt.tok
			tt.req.MaxTokens = 4
			res := sendWith(t, NewOllama, cfg, tt.req)
			require.NoError(t, res.Err)
			assert.Equal(t, tt.want, res.InputTokens)
			assert.Equal(t, tt.source, res.InputSource)
			assert.Equal(t, 4, res.OutputTokens)
		})
	}
}

func TestOllamaStreamVariants(t *testing.T) {
	canned := string(cannedStream(t, "ollama-chat.ndjson"))
	lines := strings.SplitAfter(canned, "\n")
	tokens := strings.Join(lines[:4], "") // without the done line
	tests := []struct {
		name        string
		stream      string
		contentType string
		cfg         func(*OpenAIConfig)
		events      int
		err         string
	}{
		{"RequireDone asks for nothing more", canned, "", func(c *OpenAIConfig) { c.RequireDone = true }, 4, ""},
		{"CRLF and blank lines", strings.ReplaceAll(canned, "\n", "\r\n\r\n"), "", nil, 4, ""},
		{"done line without newline", strings.TrimSuffix(canned, "\n"), "", nil, 4, ""},
		{"a charset", canned, "application/x-ndjson; charset=utf-8", nil, 4, ""},
		{"cut before the done line", tokens, "", nil, 4, "stream ended after 4 tokens without finish_reason"},
		{"cut inside a line", tokens + lines[4][:40], "", nil, 4, ""},
		{"an error line", strings.Join(lines[:2], "") + `{"error":"an error was encountered while running the model: unexpected EOF"}` + "\n",
			"", nil, 2, "server error event after 2 tokens: an error was encountered while running the model: unexpected EOF"},
		{"event-stream refused", canned, "text/event-stream", nil, 0, ""},
		{"json refused", canned, "application/json; charset=utf-8", nil, 0, ""},
		{"line too long", canned, "", func(c *OpenAIConfig) { c.MaxLineBytes = 100 }, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-ndjson"
			}
			srv := newStreamServer(t, serveNDJSON([]byte(tt.stream), ct))
			cfg := testConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res := sendWith(t, NewOllamaChat, cfg, Request{Prompt: "hi", MaxTokens: 5})
			assert.Len(t, res.Events, tt.events)
			var pe *ParseError
			var cte *ContentTypeError
			var se *StreamError
			switch {
			case strings.HasPrefix(tt.name, "cut inside"):
				require.ErrorAs(t, res.Err, &pe, "a partial last line is malformed JSON")
				assert.Equal(t, int64(len(tokens)+40), pe.Offset, "the offset is where the line ends")
			case strings.HasSuffix(tt.name, "refused"):
				require.ErrorAs(t, res.Err, &cte)
				assert.Equal(t, ct, cte.ContentType)
			case tt.name == "line too long":
				require.ErrorAs(t, res.Err, &se)
				assert.Equal(t, "line too long", se.Reason())
			case tt.err != "":
				require.EqualError(t, res.Err, tt.err)
				var ser *ServerError
				var ee *EndError
				assert.True(t, errors.As(res.Err, &ser) || errors.As(res.Err, &ee), "typed error %T", res.Err)
			default:
				require.NoError(t, res.Err)
				assert.Equal(t, 5, res.OutputTokens)
				assert.False(t, res.NoDone)
			}
		})
	}
}

// A failure before the stream begins is a non-200 status with an
// application/json {"error"} body (streamResponse's c.JSON(status, ...)).
func TestOllamaHTTPError(t *testing.T) {
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"model 'llama3.2' not found"}`))
	})
	res := sendWith(t, NewOllama, testConfig(srv.URL), Request{Prompt: "hi", MaxTokens: 5})
	var he *HTTPError
	require.ErrorAs(t, res.Err, &he)
	assert.Equal(t, http.StatusNotFound, he.StatusCode)
	assert.Equal(t, `{"error":"model 'llama3.2' not found"}`, he.Body)
}

func TestOllamaPayload(t *testing.T) {
	const prompt = "Say \"hi\"\n é"
	tests := []struct {
		name string
		chat bool
		cfg  func(*OpenAIConfig)
		max  int
		want string
	}{
		{"generate", false, nil, 128, `{"model":"test-model","prompt":PROMPT,"stream":true,"options":{"num_predict":128}}`},
		{"chat", true, nil, 128, `{"model":"test-model","messages":[{"role":"user","content":PROMPT}],"stream":true,"options":{"num_predict":128}}`},
		// No ignore-EOS in Ollama: nothing is sent for it.
		{"all options", false, func(c *OpenAIConfig) { c.IgnoreEOS, c.Temperature, c.TopP, c.TopK = true, ptr(0.0), ptr(0.9), ptr(20) }, 8,
			`{"model":"test-model","prompt":PROMPT,"stream":true,"options":{"num_predict":8,"temperature":0,"top_p":0.9,"top_k":20}}`},
		{"no max tokens", true, nil, 0, `{"model":"test-model","messages":[{"role":"user","content":PROMPT}],"stream":true,"options":{}}`},
		{"options merged from the extra body", false, func(c *OpenAIConfig) {
			c.ExtraBody = map[string]any{"options": map[string]any{"num_ctx": 8192, "num_predict": 3}, "raw": true, "think": false}
		}, 8, `{"model":"test-model","prompt":PROMPT,"stream":true,"options":{"num_predict":3,"num_ctx":8192},"raw":true,"think":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p, err := newOllamaPayload(&cfg, tt.chat)
			require.NoError(t, err)
			body := p.append(nil, &Request{Prompt: prompt, MaxTokens: tt.max})
			pj, _ := json.Marshal(prompt)
			assert.Equal(t, strings.Replace(tt.want, "PROMPT", string(pj), 1), string(body))
			assert.True(t, json.Valid(body), "payload %s", body)
		})
	}
}

// ollamaStream renders an /api/generate stream of n tokens.
func ollamaStream(n int) []byte {
	var b strings.Builder
	for range n {
		b.WriteString(`{"model":"m","created_at":"2026-08-21T18:48:22.385406455Z","response":" tok","done":false}` + "\n")
	}
	fmt.Fprintf(&b, `{"model":"m","created_at":"2026-08-21T18:48:22.385406455Z","response":"","done":true,"done_reason":"length","context":[1,2,3],"prompt_eval_count":3,"eval_count":%d}`+"\n", n)
	return []byte(b.String())
}

// TestOllamaThinking: a thinking model's message.thinking lines are
// reasoning token events, as an OpenAI chat stream's
// delta.reasoning_content: TTFT at the first thinking line, TTFO at the
// first content line, and, Ollama reporting no split of eval_count, the
// counts from the tokenizer over each part, else the events.
func TestOllamaThinking(t *testing.T) {
	srv := newStreamServer(t, serveNDJSON(cannedStream(t, "ollama-chat-thinking.ndjson"), "application/x-ndjson"))
	res := sendWith(t, NewOllamaChat, testConfig(srv.URL), Request{Prompt: "Why is the sky blue?", MaxTokens: 4})
	require.NoError(t, res.Err)
	require.Len(t, res.Events, 4)
	assert.Equal(t, 2, res.FirstAnswer, "the first content line")
	assert.Equal(t, res.Events[2], res.TTFO())
	assert.Equal(t, res.Events[0], res.TTFT(), "TTFT: the first output of either kind")
	assert.Equal(t, []int{2, 2}, []int{res.ReasoningTokens, res.AnswerTokens}, "two lines of each")
	assert.Equal(t, SourceEvents, res.ReasoningSource)

	cfg := testConfig(srv.URL)
	cfg.Tokenizer = spaceTokenizer{}
	res = sendWith(t, NewOllamaChat, cfg, Request{Prompt: "Why is the sky blue?", MaxTokens: 4})
	require.NoError(t, res.Err)
	assert.Equal(t, SourceTokenizer, res.ReasoningSource)
	assert.Equal(t, []int{3, 1}, []int{res.ReasoningTokens, res.AnswerTokens}, `the tokenizer over each part: "The user asks." and "Blue."`)
}

// ollamaClient is NewOllamaChat for chat, else NewOllama.
func ollamaClient(chat bool) func(OpenAIConfig) (*StreamClient, error) {
	if chat {
		return NewOllamaChat
	}
	return NewOllama
}
