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

// The TGI fixtures (testdata/streams/tgi-*.sse) are written by hand in the
// shape of TGI's router: StreamResponse, StreamDetails, Token and
// ErrorResponse in router/src/lib.rs, generate_stream_internal in
// router/src/server.rs (index from 1, generated_text and details on the
// last token's event only, no [DONE], "data:" without a space as axum's
// Event writes it, an empty ":" keep-alive comment):
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/lib.rs
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs
// The end-of-sequence token's text is the special token's, which TGI's
// decode_token keeps (skip_special_tokens=False) and generated_text drops
// (server/text_generation_server/models/flash_causal_lm.py).

func TestTGICannedStreams(t *testing.T) {
	tests := []struct {
		stream        string
		events        int
		text          string
		input, output int
	}{
		{"tgi-generate-stream.sse", 6, " The quick café 😀\n\"q\" end", 12, 6},
		// The end-of-sequence token is no event; generated_tokens counts it.
		{"tgi-generate-stream-eos.sse", 3, " Yes. It", 9, 4},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents(cannedStream(t, tt.stream)))
			cfg := testConfig(srv.URL)
			cfg.KeepText = true
			res := sendWith(t, NewTGI, cfg, Request{Prompt: "hi", MaxTokens: 8})
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, tt.events)
			assert.Equal(t, tt.text, res.Text)
			assert.Equal(t, tt.input, res.InputTokens)
			assert.Equal(t, SourceUsage, res.InputSource)
			assert.Equal(t, tt.output, res.OutputTokens)
			assert.Equal(t, SourceUsage, res.OutputSource)
			assert.False(t, res.NoDone, "the last event is the stream's end")
			checkTimes(t, res)
			assert.Equal(t, "/generate_stream", srv.last(t).Path)
		})
	}
}

func TestTGIErrorEvent(t *testing.T) {
	srv := newStreamServer(t, serveEvents(cannedStream(t, "tgi-error.sse")))
	res := sendWith(t, NewTGI, testConfig(srv.URL), Request{Prompt: "hi", MaxTokens: 8})
	var se *ServerError
	require.True(t, errors.As(res.Err, &se), "Err = %v, want a *ServerError", res.Err)
	assert.Equal(t, 1, se.Tokens)
	assert.Equal(t, "Request failed during generation: Server error: CUDA out of memory. Tried to allocate 2.00 GiB", se.Message)
}

func TestTGIStreamVariants(t *testing.T) {
	tok := func(i int, text string) string {
		return `data:{"index":` + string(rune('0'+i)) + `,"token":{"id":1,"text":"` + text + `","logprob":-1,"special":false},"generated_text":null,"details":null}` + "\n\n"
	}
	last := `data:{"index":3,"token":{"id":1,"text":" c","logprob":-1,"special":false},"generated_text":"a b c","details":{"finish_reason":"length","generated_tokens":3,"seed":1,"input_length":2}}` + "\n\n"
	lastNoDetails := `data:{"index":3,"token":{"id":1,"text":" c","logprob":-1,"special":false},"generated_text":"a b c","details":null}` + "\n\n"
	tests := []struct {
		name   string
		stream string
		cfg    func(*OpenAIConfig)
		events int
		output int
		source CountSource
		err    string
	}{
		{"complete", tok(1, "a") + tok(2, " b") + last, nil, 3, 3, SourceUsage, ""},
		{"RequireDone asks for nothing more", tok(1, "a") + tok(2, " b") + last, func(c *OpenAIConfig) { c.RequireDone = true }, 3, 3, SourceUsage, ""},
		{"a compatible server's [DONE]", tok(1, "a") + tok(2, " b") + last + "data: [DONE]\n\n", nil, 3, 3, SourceUsage, ""},
		{"keep-alive comments", ":\n\n" + tok(1, "a") + ":\n\n" + tok(2, " b") + last, nil, 3, 3, SourceUsage, ""},
		{"data: with a space", strings.ReplaceAll(tok(1, "a")+tok(2, " b")+last, "data:", "data: "), nil, 3, 3, SourceUsage, ""},
		{"no details: events", tok(1, "a") + tok(2, " b") + lastNoDetails, nil, 3, 3, SourceEvents, ""},
		{"no details: tokenizer", tok(1, "a") + tok(2, " b") + lastNoDetails, func(c *OpenAIConfig) { c.Tokenizer = spaceTokenizer{} }, 3, 3, SourceTokenizer, ""},
		{"cut before the last event", tok(1, "a") + tok(2, " b"), nil, 2, 0, SourceNone, "stream ended after 2 tokens without finish_reason"},
		{"validation error in a 200 stream", `data:{"error":"Input validation error: ` + "`temperature`" + ` must be strictly positive","error_type":"validation"}` + "\n\n",
			nil, 0, 0, SourceNone, "server error event after 0 tokens: Input validation error: `temperature` must be strictly positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents([]byte(tt.stream)))
			cfg := testConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res := sendWith(t, NewTGI, cfg, Request{Prompt: "p", MaxTokens: 3})
			if tt.err != "" {
				require.EqualError(t, res.Err, tt.err)
				assert.Len(t, res.Events, tt.events)
				return
			}
			require.NoError(t, res.Err)
			assert.Len(t, res.Events, tt.events)
			assert.Equal(t, tt.output, res.OutputTokens)
			assert.Equal(t, tt.source, res.OutputSource)
			assert.False(t, res.NoDone)
		})
	}
}

// TestTGIPayload: vLLM v0.9.1's async_request_tgi body (max_new_tokens,
// do_sample true, temperature 0.01, top_p 0.99), details for the counts,
// and the mapping of the sampling options onto what TGI accepts.
func TestTGIPayload(t *testing.T) {
	const prompt = "Say \"hi\"\n é"
	tests := []struct {
		name string
		cfg  func(*OpenAIConfig)
		max  int
		want string
	}{
		{"vLLM's defaults", nil, 128,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":128,"details":true,"do_sample":true,"temperature":0.01,"top_p":0.99}}`},
		{"ignore_eos_token as vLLM sends it", func(c *OpenAIConfig) { c.IgnoreEOS = true }, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":true,"temperature":0.01,"top_p":0.99,"ignore_eos_token":true}}`},
		{"sampling options", func(c *OpenAIConfig) { c.Temperature, c.TopP, c.TopK = ptr(0.7), ptr(0.9), ptr(20) }, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":true,"temperature":0.7,"top_p":0.9,"top_k":20}}`},
		{"temperature 0 is greedy", func(c *OpenAIConfig) { c.Temperature = ptr(0.0) }, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":false}}`},
		{"greedy with a top_p", func(c *OpenAIConfig) { c.Temperature, c.TopP = ptr(0.0), ptr(0.5) }, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":false,"top_p":0.5}}`},
		{"top_p 1 and top_k -1 mean no filter", func(c *OpenAIConfig) { c.TopP, c.TopK = ptr(1.0), ptr(-1) }, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":true,"temperature":0.01}}`},
		{"no max tokens", nil, 0,
			`{"inputs":PROMPT,"parameters":{"details":true,"do_sample":true,"temperature":0.01,"top_p":0.99}}`},
		{"extra body merged into the parameters", func(c *OpenAIConfig) {
			c.ExtraBody = map[string]any{"parameters": map[string]any{"seed": 7, "top_p": 0.5, "stop": []string{"\n"}}, "stream": true}
		}, 8,
			`{"inputs":PROMPT,"parameters":{"max_new_tokens":8,"details":true,"do_sample":true,"temperature":0.01,"top_p":0.5,"seed":7,"stop":["\n"]},"stream":true}`},
		{"extra body replaces a non-object", func(c *OpenAIConfig) { c.ExtraBody = map[string]any{"inputs": "other"} }, 8,
			`{"inputs":"other","parameters":{"max_new_tokens":8,"details":true,"do_sample":true,"temperature":0.01,"top_p":0.99}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p, err := newTGIPayload(&cfg)
			require.NoError(t, err)
			body := p.append(nil, &Request{Prompt: prompt, MaxTokens: tt.max})
			pj, _ := json.Marshal(prompt)
			assert.Equal(t, strings.Replace(tt.want, "PROMPT", string(pj), 1), string(body))
			assert.True(t, json.Valid(body), "payload %s", body)
		})
	}
	// What the server receives.
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		serveEvents(cannedStream(t, "tgi-generate-stream.sse"))(w, r)
	})
	res := sendWith(t, NewTGI, testConfig(srv.URL), Request{Prompt: prompt, MaxTokens: 5})
	require.NoError(t, res.Err)
	got := srv.last(t)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "text/event-stream", got.Header.Get("Accept"))
	assert.Equal(t, map[string]any{"inputs": prompt, "parameters": map[string]any{
		"max_new_tokens": 5.0, "details": true, "do_sample": true, "temperature": 0.01, "top_p": 0.99}}, got.Body)
}

// tgiStream renders a TGI stream of n tokens.
func tgiStream(n int) []byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `data:{"index":%d,"token":{"id":%d,"text":" tok","logprob":-0.5,"special":false},`, i, i)
		if i < n {
			b.WriteString(`"generated_text":null,"details":null}` + "\n\n")
		} else {
			fmt.Fprintf(&b, `"generated_text":"...","details":{"finish_reason":"length","generated_tokens":%d,"seed":null,"input_length":1}}`+"\n\n", n)
		}
	}
	return []byte(b.String())
}
