package servingbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/streams/llamacpp-native.sse is a real llama-server b11669
// stream (the tiny Qwen3-vocabulary model of internal/llamacpp, started as
// the conformance suite starts it):
//
//	curl -sN 127.0.0.1:PORT/completion -d '{"prompt":"hi","n_predict":8,"stream":true,"ignore_eos":true}'
//
// The shapes are those of llama.cpp's tools/server/README.md, "POST
// /completion":
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md

func TestLlamaCppNativeCannedStream(t *testing.T) {
	srv := newStreamServer(t, serveEvents(cannedStream(t, "llamacpp-native.sse")))
	cfg := testConfig(srv.URL)
	cfg.KeepText, cfg.IgnoreEOS = true, true
	res := sendWith(t, NewLlamaCppNative, cfg, Request{Prompt: "hi", MaxTokens: 8})
	require.NoError(t, res.Err)
	assert.Len(t, res.Events, 8)
	assert.Equal(t, " loi wandered sapi pregnancies pracy meinen enlightened originate", res.Text)
	assert.Equal(t, 1, res.InputTokens, "tokens_evaluated")
	assert.Equal(t, SourceUsage, res.InputSource)
	assert.Equal(t, 8, res.OutputTokens, "tokens_predicted")
	assert.Equal(t, SourceUsage, res.OutputSource)
	assert.False(t, res.NoDone, "the stop object is the stream's end")
	checkTimes(t, res)
	got := srv.last(t)
	assert.Equal(t, "/completion", got.Path)
	assert.Equal(t, map[string]any{"prompt": "hi", "n_predict": 8.0, "stream": true, "ignore_eos": true}, got.Body)
}

func TestLlamaCppNativeStreamVariants(t *testing.T) {
	canned := string(cannedStream(t, "llamacpp-native.sse"))
	events := strings.SplitAfter(canned, "\n\n")
	tokens := strings.Join(events[:8], "") // without the stop object
	tests := []struct {
		name   string
		stream string
		cfg    func(*OpenAIConfig)
		events int
		output int
		source CountSource
		err    string
	}{
		{"RequireDone asks for nothing more", canned, func(c *OpenAIConfig) { c.RequireDone = true }, 8, 8, SourceUsage, ""},
		{"a compatible server's [DONE]", canned + "data: [DONE]\n\n", nil, 8, 8, SourceUsage, ""},
		{"pings", strings.ReplaceAll(canned, "data: ", ": ping\n\ndata: "), nil, 8, 8, SourceUsage, ""},
		// The counts so far on every token event do not complete a stream.
		{"cut before the stop object", tokens, nil, 8, 0, SourceNone, "stream ended after 8 tokens without finish_reason"},
		{"an error event", strings.Join(events[:2], "") + `error: {"code":500,"message":"slot unavailable","type":"server_error"}` + "\n\n",
			nil, 2, 0, SourceNone, `server error event after 2 tokens: {"code":500,"message":"slot unavailable","type":"server_error"}`},
		{"an error object", strings.Join(events[:2], "") + `data: {"error":{"code":500,"message":"slot unavailable","type":"server_error"}}` + "\n\n",
			nil, 2, 0, SourceNone, `server error event after 2 tokens: slot unavailable`},
		{"stop without counts", tokens + `data: {"content":"","stop":true,"stop_type":"eos"}` + "\n\n",
			func(c *OpenAIConfig) { c.Tokenizer = spaceTokenizer{} }, 8, 8, SourceTokenizer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents([]byte(tt.stream)))
			cfg := testConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res := sendWith(t, NewLlamaCppNative, cfg, Request{Prompt: "hi", MaxTokens: 8})
			assert.Len(t, res.Events, tt.events)
			if tt.err != "" {
				require.EqualError(t, res.Err, tt.err)
				var se *ServerError
				var ee *EndError
				assert.True(t, errors.As(res.Err, &se) || errors.As(res.Err, &ee), "typed error %T", res.Err)
				return
			}
			require.NoError(t, res.Err)
			assert.Equal(t, tt.output, res.OutputTokens)
			assert.Equal(t, tt.source, res.OutputSource)
			assert.False(t, res.NoDone)
		})
	}
}

func TestLlamaCppNativePayload(t *testing.T) {
	const prompt = "Say \"hi\"\n é"
	tests := []struct {
		name string
		cfg  func(*OpenAIConfig)
		max  int
		want string
	}{
		{"minimal", nil, 128, `{"prompt":PROMPT,"n_predict":128,"stream":true}`},
		{"all options", func(c *OpenAIConfig) { c.IgnoreEOS, c.Temperature, c.TopP, c.TopK = true, ptr(0.0), ptr(0.9), ptr(20) }, 8,
			`{"prompt":PROMPT,"n_predict":8,"stream":true,"ignore_eos":true,"temperature":0,"top_p":0.9,"top_k":20}`},
		{"no max tokens", nil, 0, `{"prompt":PROMPT,"stream":true}`},
		{"cache_prompt off through the extra body", func(c *OpenAIConfig) { c.ExtraBody = map[string]any{"cache_prompt": false, "n_predict": 3} }, 8,
			`{"prompt":PROMPT,"n_predict":3,"stream":true,"cache_prompt":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p, err := newLlamaCppPayload(&cfg)
			require.NoError(t, err)
			body := p.append(nil, &Request{Prompt: prompt, MaxTokens: tt.max})
			pj, _ := json.Marshal(prompt)
			assert.Equal(t, strings.Replace(tt.want, "PROMPT", string(pj), 1), string(body))
			assert.True(t, json.Valid(body), "payload %s", body)
		})
	}
}

// llamaStream renders a /completion stream of n tokens.
func llamaStream(n int) []byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `data: {"index":0,"content":" tok","tokens":[%d],"stop":false,"id_slot":-1,"tokens_predicted":%d,"tokens_evaluated":3}`+"\n\n", i, i)
	}
	fmt.Fprintf(&b, `data: {"index":0,"content":"","tokens":[],"id_slot":0,"stop":true,"model":"m","tokens_predicted":%d,"tokens_evaluated":3,"stop_type":"limit","timings":{"prompt_n":3}}`+"\n\n", n)
	return []byte(b.String())
}
