package servingbench

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func TestPayloadShape(t *testing.T) {
	prompt := "Say \"hi\"\n\t<tag> & é 中 \x01 \xff end"
	wantPrompt := "Say \"hi\"\n\t<tag> & é 中 \x01 \ufffd end"
	tests := []struct {
		name string
		kind payloadKind
		cfg  func(*OpenAIConfig)
		max  int
		want string
	}{
		{"completions minimal", kindCompletions, nil, 128,
			`{"model":"test-model","prompt":PROMPT,"max_tokens":128,"stream":true,"stream_options":{"include_usage":true}}`},
		{"completions all options", kindCompletions, func(c *OpenAIConfig) {
			c.IgnoreEOS, c.Temperature, c.TopP, c.TopK = true, ptr(0.0), ptr(0.9), ptr(20)
		}, 8,
			`{"model":"test-model","prompt":PROMPT,"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true,"temperature":0,"top_p":0.9,"top_k":20}`},
		{"completions zero max tokens omitted", kindCompletions, nil, 0,
			`{"model":"test-model","prompt":PROMPT,"stream":true,"stream_options":{"include_usage":true}}`},
		{"extra body merged last", kindCompletions, func(c *OpenAIConfig) {
			c.Temperature = ptr(1.0)
			c.ExtraBody = map[string]any{"temperature": 0.5, "seed": 7, "stream_options": map[string]any{"include_usage": true, "continuous_usage_stats": true}}
		}, 8,
			`{"model":"test-model","prompt":PROMPT,"max_tokens":8,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true},"temperature":0.5,"seed":7}`},
		{"extra body replaces max tokens", kindCompletions, func(c *OpenAIConfig) {
			c.ExtraBody = map[string]any{"max_tokens": 3}
		}, 8,
			`{"model":"test-model","prompt":PROMPT,"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`},
		{"chat minimal", kindChat, nil, 64,
			`{"model":"test-model","messages":[{"role":"user","content":PROMPT}],"max_completion_tokens":64,"stream":true,"stream_options":{"include_usage":true}}`},
		{"chat ignore eos", kindChat, func(c *OpenAIConfig) { c.IgnoreEOS = true }, 64,
			`{"model":"test-model","messages":[{"role":"user","content":PROMPT}],"max_completion_tokens":64,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents(cannedStream(t, "vllm-chat.sse")))
			cfg := testConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res := sendOne(t, tt.kind, cfg, Request{Prompt: prompt, MaxTokens: tt.max})
			require.NoError(t, res.Err)
			pj, _ := json.Marshal(wantPrompt)
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(strings.Replace(tt.want, "PROMPT", string(pj), 1)), &want))
			assert.Equal(t, want, srv.last(t).Body)

			// The exact bytes: members in a fixed order, valid JSON.
			p, err := newPayload(&cfg, tt.kind)
			require.NoError(t, err)
			body := p.append(nil, &Request{Prompt: prompt, MaxTokens: tt.max})
			assert.True(t, json.Valid(body), "payload %s", body)
			assert.True(t, utf8.Valid(body))
		})
	}
}

func TestPayloadExactBytes(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.IgnoreEOS = true
	p, err := newPayload(&cfg, kindCompletions)
	require.NoError(t, err)
	got := string(p.append(nil, &Request{Prompt: "a\"b", MaxTokens: 16}))
	assert.Equal(t, `{"model":"test-model","prompt":"a\"b","max_tokens":16,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true}`, got)
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\n\r\t\b\f\x00\x1f", "é中😀", "bad\xffutf8\xe2\x82", "\u2028"} {
		got := appendJSONString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(got, &back), "appendJSONString(%q) = %s", s, got)
		want := string([]rune(s)) // invalid bytes become U+FFFD
		assert.Equal(t, want, back, "appendJSONString(%q) = %s", s, got)
	}
}

func TestHeaders(t *testing.T) {
	for _, key := range []string{"", "sk-test-123"} {
		for _, kind := range []payloadKind{kindCompletions, kindChat} {
			srv := newStreamServer(t, serveEvents(cannedStream(t, "vllm-chat.sse")))
			cfg := testConfig(srv.URL)
			cfg.APIKey = key
			res := sendOne(t, kind, cfg, Request{Prompt: "p", MaxTokens: 8})
			require.NoError(t, res.Err)
			h := srv.last(t).Header
			if key == "" {
				_, present := h["Authorization"]
				assert.False(t, present, "Authorization header sent without an APIKey: %q", h.Get("Authorization"))
			} else {
				assert.Equal(t, "Bearer "+key, h.Get("Authorization"))
			}
			assert.Equal(t, "application/json", h.Get("Content-Type"))
			assert.Empty(t, h.Get("Accept-Encoding"), "compression is disabled")
		}
	}
}

func TestCustomEndpointAndHTTPClient(t *testing.T) {
	srv := newStreamServer(t, serveEvents(cannedStream(t, "llamacpp-completions.sse")))
	cfg := testConfig(srv.URL + "/")
	cfg.Endpoint = "/completion"
	cfg.HTTPClient = srv.Client()
	res := sendOne(t, kindCompletions, cfg, Request{Prompt: "p", MaxTokens: 5})
	require.NoError(t, res.Err)
	assert.Equal(t, "/completion", srv.last(t).Path)
}
