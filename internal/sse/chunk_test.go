package sse

import (
	"bytes"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkView is the decoded, unescaped content of a Chunk, for comparisons.
type chunkView struct {
	Choices          int
	Token            bool
	Text             string
	FinishReason     string
	PromptTokens     int // -1 when absent
	CompletionTokens int // -1 when absent
	ReasoningTokens  int // -1 when absent
	Answer           bool
	AnswerText       string
	Error            bool
	ErrorMessage     string
}

func viewOf(c *Chunk) chunkView {
	v := chunkView{
		Choices:          c.Choices,
		Token:            c.Token(),
		Text:             string(c.AppendText(nil)),
		Answer:           c.Answer(),
		AnswerText:       string(c.AppendAnswer(nil)),
		FinishReason:     string(AppendUnescaped(nil, c.FinishReason)),
		PromptTokens:     -1,
		CompletionTokens: -1,
		ReasoningTokens:  -1,
		Error:            c.Error,
		ErrorMessage:     string(AppendUnescaped(nil, c.ErrorMessage)),
	}
	if c.HasPromptTokens {
		v.PromptTokens = c.PromptTokens
	}
	if c.HasCompletionTokens {
		v.CompletionTokens = c.CompletionTokens
	}
	if c.HasReasoningTokens {
		v.ReasoningTokens = c.ReasoningTokens
	}
	return v
}

func TestChunkDecode(t *testing.T) {
	none := chunkView{PromptTokens: -1, CompletionTokens: -1, ReasoningTokens: -1}
	with := func(f func(*chunkView)) chunkView { v := none; f(&v); return v }
	tests := []struct {
		name string
		in   string
		want chunkView
	}{
		{"completions token", `{"choices":[{"text":" man","index":0,"finish_reason":null}]}`,
			with(func(v *chunkView) {
				v.Choices, v.Token, v.Text = 1, true, " man"
				v.Answer, v.AnswerText = true, " man"
			})},
		{"completions empty text finish", `{"choices":[{"text":"","finish_reason":"length"}],"usage":{"completion_tokens":5,"prompt_tokens":4}}`,
			with(func(v *chunkView) {
				v.Choices, v.FinishReason, v.PromptTokens, v.CompletionTokens = 1, "length", 4, 5
			})},
		{"chat role only", `{"choices":[{"delta":{"role":"assistant","content":null},"finish_reason":null}]}`,
			with(func(v *chunkView) { v.Choices = 1 })},
		{"chat role with empty content", `{"choices":[{"delta":{"role":"assistant","content":""}}]}`,
			with(func(v *chunkView) { v.Choices = 1 })},
		{"chat content", `{"choices":[{"delta":{"content":"wygl"}}]}`,
			with(func(v *chunkView) {
				v.Choices, v.Token, v.Text = 1, true, "wygl"
				v.Answer, v.AnswerText = true, "wygl"
			})},
		{"chat finish only", `{"choices":[{"finish_reason":"length","index":0,"delta":{}}]}`,
			with(func(v *chunkView) { v.Choices, v.FinishReason = 1, "length" })},
		{"reasoning", `{"choices":[{"delta":{"reasoning_content":"hmm"}}]}`,
			with(func(v *chunkView) { v.Choices, v.Token, v.Text = 1, true, "hmm" })},
		{"reasoning new name", `{"choices":[{"delta":{"reasoning":"hmm","content":null}}]}`,
			with(func(v *chunkView) { v.Choices, v.Token, v.Text = 1, true, "hmm" })},
		// vLLM's reasoning parsers split a delta holding the end of the
		// thinking into both members (deepseek_r1_reasoning_parser.py's
		// extract_reasoning_content_streaming, vllm-project/vllm).
		{"reasoning and content", `{"choices":[{"delta":{"reasoning_content":"so","content":"Yes"}}]}`,
			with(func(v *chunkView) { v.Choices, v.Token, v.Text, v.Answer, v.AnswerText = 1, true, "soYes", true, "Yes" })},
		// OpenAI's CompletionUsage: completion_tokens_details.reasoning_tokens.
		{"usage reasoning tokens", `{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":14,"completion_tokens_details":{"reasoning_tokens":11,"audio_tokens":0}}}`,
			with(func(v *chunkView) { v.PromptTokens, v.CompletionTokens, v.ReasoningTokens = 9, 14, 11 })},
		{"usage reasoning details null", `{"usage":{"completion_tokens_details":{"reasoning_tokens":3},"completion_tokens_details":null}}`, none},
		{"reasoning tokens elsewhere ignored", `{"completion_tokens_details":{"reasoning_tokens":3},"usage":{"reasoning_tokens":4}}`, none},
		{"usage only", `{"choices":[],"usage":{"prompt_tokens":12,"total_tokens":17,"completion_tokens":5}}`,
			with(func(v *chunkView) { v.PromptTokens, v.CompletionTokens = 12, 5 })},
		{"usage null", `{"choices":[{"text":"a"}],"usage":null}`,
			with(func(v *chunkView) { v.Choices, v.Token, v.Text = 1, true, "a"; v.Answer, v.AnswerText = true, "a" })},
		{"usage float integral", `{"usage":{"prompt_tokens":1.2e1,"completion_tokens":-3}}`,
			with(func(v *chunkView) { v.PromptTokens = 12 })},
		{"escapes", `{"choices":[{"text":"caf\u00e9 \ud83d\ude00 \"q\"\n\/\\"}]}`,
			with(func(v *chunkView) {
				v.Choices, v.Token, v.Text = 1, true, "café 😀 \"q\"\n/\\"
				v.Answer, v.AnswerText = true, "café 😀 \"q\"\n/\\"
			})},
		{"lone surrogate", `{"choices":[{"text":"\ud83d x"}]}`,
			with(func(v *chunkView) {
				v.Choices, v.Token, v.Text = 1, true, "\uFFFD x"
				v.Answer, v.AnswerText = true, "\uFFFD x"
			})},
		{"second choice ignored", `{"choices":[{"text":""},{"text":"b"}]}`,
			with(func(v *chunkView) { v.Choices = 2 })},
		{"nested text elsewhere ignored", `{"x":{"choices":[{"text":"a"}]},"choices":[{"logprobs":{"text":"b"}}]}`,
			with(func(v *chunkView) { v.Choices = 1 })},
		{"text not a string", `{"choices":[{"text":5}]}`,
			with(func(v *chunkView) { v.Choices = 1 })},
		{"duplicate key last wins", `{"choices":[{"text":"a","text":null}]}`,
			with(func(v *chunkView) { v.Choices = 1 })},
		{"vllm error object", `{"error":{"object":"error","message":"prompt too long","type":"BadRequestError","param":null,"code":400}}`,
			with(func(v *chunkView) { v.Error, v.ErrorMessage = true, "prompt too long" })},
		{"object error", `{"object":"error","message":"boom","type":"InternalServerError","code":500}`,
			with(func(v *chunkView) { v.Error, v.ErrorMessage = true, "boom" })},
		{"error string", `{"error":"bad"}`,
			with(func(v *chunkView) { v.Error, v.ErrorMessage = true, "bad" })},
		{"error null", `{"error":null,"choices":[{"text":"a"}]}`,
			with(func(v *chunkView) { v.Choices, v.Token, v.Text = 1, true, "a"; v.Answer, v.AnswerText = true, "a" })},
		{"whitespace", " \t\r\n{ \"choices\" : [ { \"text\" : \"a\" } ] } \n",
			with(func(v *chunkView) { v.Choices, v.Token, v.Text = 1, true, "a"; v.Answer, v.AnswerText = true, "a" })},
		{"root array", `[{"choices":[{"text":"a"}]}]`, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Chunk
			require.NoError(t, c.Decode([]byte(tt.in)), "Decode(%s)", tt.in)
			assert.Equal(t, tt.want, viewOf(&c), "Decode(%s)", tt.in)
			assert.Equal(t, tt.want, referenceView(t, []byte(tt.in)), "reference(%s)", tt.in)
		})
	}
}

func TestChunkMalformed(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of JSON input"},
		{`{"choices":[{"text":"a"}]`, 25, "unexpected end"},
		{`{"choices":[{"text":"a"}]}}`, 26, "after top-level value"},
		{`{"choices":[{"text":"a}]}`, 25, "unexpected end"},
		{`{"choices":[{"text":"a` + "\n" + `"}]}`, 22, "in string literal"},
		{`{"choices":[{"text":"\x"}]}`, 22, "in string escape code"},
		{`{"choices":[{"text":"\u12G4"}]}`, 25, "hexadecimal"},
		{`{"a":tru}`, 8, "in literal true"},
		{`{"a":01}`, 6, "after object key:value pair"},
		{`{"a":-}`, 6, "in numeric literal"},
		{`{"a":1.}`, 7, "in numeric literal"},
		{`{"a":1e}`, 7, "in numeric literal"},
		{`{"a" 1}`, 5, "after object key"},
		{`{a:1}`, 1, "object key string"},
		{`{"a":[1 2]}`, 8, "after array element"},
		{`{"a":1,}`, 7, "object key string"},
		{`data: {"a":1}`, 0, "looking for beginning of value"},
		{`{"a":'x'}`, 5, `'\''`},
	}
	for _, tt := range tests {
		var c Chunk
		err := c.Decode([]byte(tt.in))
		var se *SyntaxError
		if !assert.ErrorAs(t, err, &se, "Decode(%s)", tt.in) {
			continue
		}
		assert.Equal(t, tt.offset, se.Offset, "Decode(%s) offset; err %v", tt.in, err)
		assert.Contains(t, err.Error(), tt.msg, "Decode(%s)", tt.in)
		assert.Contains(t, err.Error(), "malformed JSON at byte", "Decode(%s)", tt.in)
		assert.False(t, json.Valid([]byte(tt.in)), "json.Valid(%s)", tt.in)
	}
}

func TestChunkDepth(t *testing.T) {
	deep := bytes.Repeat([]byte("["), maxDepth+1)
	var c Chunk
	err := c.Decode(deep)
	assert.ErrorContains(t, err, "exceeded max depth")
	ok := append(bytes.Repeat([]byte("["), maxDepth), bytes.Repeat([]byte("]"), maxDepth)...)
	assert.NoError(t, c.Decode(ok))
}

func TestAppendUnescapedMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`plain`, `\u00e9\u4e2d`, `\ud83d\ude00`, `\ude00\ud83d`, `\ud83d\u0041`, `\ud83d`,
		`a\"b\\c\/d\b\f\n\r\t`, "bad \xff utf8 \xe2\x82", "é中😀", `\u0000`,
	} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(`"`+in+`"`), &want), "json.Unmarshal(%q)", in)
		assert.Equal(t, want, string(AppendUnescaped(nil, []byte(in))), "AppendUnescaped(%q)", in)
	}
}

func TestChunkFixtures(t *testing.T) {
	type summary struct {
		tokens           int
		text             string
		prompt, complete int
		errors           int
	}
	want := map[string]summary{
		"llamacpp-completions.sse": {5, " man which any false value", 4, 5, 0},
		"llamacpp-chat.sse":        {5, "wygl napraw poniew ihtiya chcia", 12, 5, 0},
		"vllm-completions.sse":     {8, " The quick brown fox café 😀\n\"q\" end", 12, 8, 0},
		"vllm-chat.sse":            {8, " The quick brown fox café 😀\n\"q\" end", 15, 8, 0},
		"vllm-chat-reasoning.sse":  {5, "Let me thinkYes.", 9, 5, 0},
		"vllm-error.sse":           {1, " a", 0, 0, 1},
	}
	for name, stream := range fixtureStreams(t) {
		w, ok := want[name]
		require.True(t, ok, "no expectation for %s", name)
		rd := NewReader(bytes.NewReader(stream), 0)
		var got summary
		var c Chunk
		for {
			data, err := rd.Next()
			require.NoError(t, err, name)
			if IsDone(data) {
				break
			}
			require.NoError(t, c.Decode(data), "%s: Decode(%s)", name, data)
			if c.Token() {
				got.tokens++
				got.text = string(c.AppendText([]byte(got.text)))
			}
			if c.HasPromptTokens {
				got.prompt = c.PromptTokens
			}
			if c.HasCompletionTokens {
				got.complete = c.CompletionTokens
			}
			if c.Error {
				got.errors++
			}
		}
		assert.Equal(t, w, got, name)
	}
}

func BenchmarkChunkDecode(b *testing.B) {
	data := []byte(`{"id":"cmpl-5f0c1b6f0a8e4f5c9b1d2e3f4a5b6c7d","object":"text_completion","created":1760000000,"model":"Qwen/Qwen3-0.6B","choices":[{"index":0,"text":" brown","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`)
	var c Chunk
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := c.Decode(data); err != nil || !c.Token() {
			b.Fatal(err)
		}
	}
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
