package sse

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The decoders of Triton's generate_stream (TensorRT-LLM) and SGLang's
// native /generate, checked against encoding/json: table tests, the
// fixture streams and a fuzz target each.

// trtView is a TRTEvent unescaped, for comparisons.
type trtView struct {
	Token        bool
	Text         string
	Error        bool
	ErrorMessage string
}

func viewOfTRT(e *TRTEvent) trtView {
	return trtView{Token: e.Token(), Text: string(AppendUnescaped(nil, e.TextOutput)),
		Error: e.Error, ErrorMessage: string(AppendUnescaped(nil, e.ErrorMessage))}
}

// referenceTRT extracts what TRTEvent should from valid JSON: the oracle
// for tests and FuzzTRTEvent.
func referenceTRT(t testing.TB, data []byte) trtView {
	var v trtView
	obj := referenceRoot(t, data)
	if obj == nil {
		return v
	}
	v.Text = referenceString(obj, "text_output")
	v.Token = v.Text != ""
	v.Error, v.ErrorMessage = referenceError(obj)
	return v
}

// sglangView is an SGLangEvent unescaped, for comparisons.
type sglangView struct {
	HasText                    bool
	Text                       string
	Finished                   bool
	FinishType, FinishMessage  string
	Prompt, Completion, Cached int // -1 when absent
	Error                      bool
	ErrorMessage               string
}

func viewOfSGLang(e *SGLangEvent) sglangView {
	v := sglangView{HasText: e.HasText, Text: string(AppendUnescaped(nil, e.Text)), Finished: e.Finished,
		FinishType: string(AppendUnescaped(nil, e.FinishType)), FinishMessage: string(AppendUnescaped(nil, e.FinishMessage)),
		Prompt: -1, Completion: -1, Cached: -1, Error: e.Error, ErrorMessage: string(AppendUnescaped(nil, e.ErrorMessage))}
	if e.HasPromptTokens {
		v.Prompt = e.PromptTokens
	}
	if e.HasCompletionTokens {
		v.Completion = e.CompletionTokens
	}
	if e.HasCachedTokens {
		v.Cached = e.CachedTokens
	}
	return v
}

// referenceSGLang extracts what SGLangEvent should from valid JSON: the
// oracle for tests and FuzzSGLangEvent.
func referenceSGLang(t testing.TB, data []byte) sglangView {
	v := sglangView{Prompt: -1, Completion: -1, Cached: -1}
	obj := referenceRoot(t, data)
	if obj == nil {
		return v
	}
	var text any
	text, v.HasText = obj["text"].(string)
	v.Text, _ = text.(string)
	if meta, ok := obj["meta_info"].(map[string]any); ok {
		switch f := meta["finish_reason"].(type) {
		case map[string]any:
			v.Finished = true
			v.FinishType, v.FinishMessage = referenceString(f, "type"), referenceString(f, "message")
		case string:
			v.Finished, v.FinishType = true, f
		}
		v.Prompt = referenceCount(meta["prompt_tokens"])
		v.Completion = referenceCount(meta["completion_tokens"])
		v.Cached = referenceCount(meta["cached_tokens"])
	}
	v.Error, v.ErrorMessage = referenceError(obj)
	return v
}

func TestTRTEventDecode(t *testing.T) {
	for _, tc := range []struct {
		data string
		want trtView
	}{
		{`{"model_name":"ensemble","model_version":"1","sequence_end":false,"sequence_id":0,"sequence_start":false,"text_output":" The"}`,
			trtView{Token: true, Text: " The"}},
		{`{"model_name":"ensemble","text_output":""}`, trtView{}},
		{`{"error":"in ensemble 'ensemble', slot unavailable"}`, trtView{Error: true, ErrorMessage: "in ensemble 'ensemble', slot unavailable"}},
		{`{"error":{"message":"m"},"text_output":"\u00e9\n"}`, trtView{Token: true, Text: "é\n", Error: true, ErrorMessage: "m"}},
		{`{"text_output":"x","text_output":null,"error":"e","error":3}`, trtView{}},
		{`{"parameters":{"text_output":"x","error":"e"}}`, trtView{}},
	} {
		var e TRTEvent
		require.NoError(t, e.Decode([]byte(tc.data)), "Decode(%s)", tc.data)
		assert.Equal(t, tc.want, viewOfTRT(&e), "Decode(%s)", tc.data)
		assert.Equal(t, referenceTRT(t, []byte(tc.data)), tc.want, "the oracle on %s", tc.data)
	}
	var e TRTEvent
	data := []byte(`{"model_name":"ensemble","model_version":"1","output_log_probs":[0.0],"sequence_end":false,"text_output":" The"}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Decode(data) }), "allocations per Decode")
}

func TestSGLangEventDecode(t *testing.T) {
	meta := func(finish string, completion int) string {
		return `"meta_info":{"id":"r1","finish_reason":` + finish + `,"prompt_tokens":6,"completion_tokens":` +
			string(rune('0'+completion)) + `,"cached_tokens":2}`
	}
	for _, tc := range []struct {
		data string
		want sglangView
	}{
		{`{"text":" The","output_ids":[576],` + meta("null", 1) + `}`,
			sglangView{HasText: true, Text: " The", Prompt: 6, Completion: 1, Cached: 2}},
		{`{"text":" The end","output_ids":[842],` + meta(`{"type":"length","length":2}`, 2) + `}`,
			sglangView{HasText: true, Text: " The end", Finished: true, FinishType: "length", Prompt: 6, Completion: 2, Cached: 2}},
		{`{"text":"","output_ids":[],` + meta(`{"type":"abort","message":"Abort before prefill","status_code":500}`, 0) + `}`,
			sglangView{HasText: true, Finished: true, FinishType: "abort", FinishMessage: "Abort before prefill", Prompt: 6, Completion: 0, Cached: 2}},
		{`{"text":"a",` + meta(`"stop"`, 1) + `}`,
			sglangView{HasText: true, Text: "a", Finished: true, FinishType: "stop", Prompt: 6, Completion: 1, Cached: 2}},
		{`{"error":{"message":"The running request was aborted."}}`,
			sglangView{Prompt: -1, Completion: -1, Cached: -1, Error: true, ErrorMessage: "The running request was aborted."}},
		{`{"text":5,"meta_info":{"finish_reason":{"type":"stop"},"completion_tokens":3},"meta_info":{"prompt_tokens":1.5}}`,
			sglangView{Prompt: -1, Completion: -1, Cached: -1}},
		{`{"meta_info":{"finish_reason":{"type":"stop"},"finish_reason":null,"prompt_tokens":2e1}}`,
			sglangView{Prompt: 20, Completion: -1, Cached: -1}},
		{`{"sampling_params":{"text":"x"},"meta_info":"m"}`, sglangView{Prompt: -1, Completion: -1, Cached: -1}},
	} {
		var e SGLangEvent
		require.NoError(t, e.Decode([]byte(tc.data)), "Decode(%s)", tc.data)
		assert.Equal(t, tc.want, viewOfSGLang(&e), "Decode(%s)", tc.data)
		assert.Equal(t, referenceSGLang(t, []byte(tc.data)), tc.want, "the oracle on %s", tc.data)
	}
	var e SGLangEvent
	data := []byte(`{"text":" The caf\u00e9","output_ids":[576],"meta_info":{"id":"r1","finish_reason":null,"prompt_tokens":6,"completion_tokens":1,"cached_tokens":2}}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Decode(data) }), "allocations per Decode")
}

// TestTRTEventFixtures reads the trt-*.sse streams, written in the shape
// of Triton's generate extension (triton-inference-server/server
// docs/protocol/extension_generate.md) as TensorRT-LLM's ensemble fills it
// (triton-inference-server/tensorrtllm_backend docs/multimodal.md's
// generate_stream response): text_output deltas, no end marker, an
// {"error": MESSAGE} event.
func TestTRTEventFixtures(t *testing.T) {
	type summary struct {
		tokens, events, errors int
		text                   string
	}
	want := map[string]summary{
		"trt-generate-stream.sse": {5, 5, 0, " The café said \"hi\"\n 😀"},
		"trt-error.sse":           {2, 3, 1, " The café"},
	}
	checkFixtures(t, "trt-", len(want), func(name string, rd *Reader) {
		w, ok := want[name]
		require.True(t, ok, "no expectation for %s", name)
		var got summary
		var e TRTEvent
		for {
			data, err := rd.Next()
			if err != nil {
				break
			}
			got.events++
			require.NoError(t, e.Decode(data), "%s: Decode(%s)", name, data)
			if e.Token() {
				got.tokens++
				got.text = string(AppendUnescaped([]byte(got.text), e.TextOutput))
			}
			if e.Error {
				got.errors++
			}
		}
		assert.Equal(t, w, got, name)
	})
}

// TestSGLangEventFixtures reads the sglang-*.sse streams, written in the
// shape of SGLang's generate_request (sgl-project/sglang
// python/sglang/srt/entrypoints/http_server.py: "data: " + orjson.dumps(out),
// {"error": {"message"}} on a ValueError, then "data: [DONE]") with the
// out dict of managers/tokenizer_manager.py's _handle_batch_output
// (cumulative text, output_ids, meta_info): each text extends the last,
// and completion_tokens counts the output so far (two tokens in one event
// here).
func TestSGLangEventFixtures(t *testing.T) {
	type summary struct {
		events, done, errors int
		text, finish         string
		completion, prompt   int
		cached               int
	}
	want := map[string]summary{
		"sglang-generate.sse":      {5, 1, 0, " The café said \"hi\"\n 😀", "length", 6, 6, 2},
		"sglang-generate-stop.sse": {4, 1, 0, " The end.", "stop", 3, 6, 2},
		"sglang-error.sse":         {3, 1, 1, " The", "", 1, 6, 2},
	}
	checkFixtures(t, "sglang-", len(want), func(name string, rd *Reader) {
		w, ok := want[name]
		require.True(t, ok, "no expectation for %s", name)
		var got summary
		var e SGLangEvent
		for {
			data, err := rd.Next()
			if err != nil {
				break
			}
			got.events++
			if IsDone(data) {
				got.done++
				continue
			}
			require.NoError(t, e.Decode(data), "%s: Decode(%s)", name, data)
			if e.Error {
				got.errors++
				continue
			}
			text := string(AppendUnescaped(nil, e.Text))
			require.True(t, strings.HasPrefix(text, got.text), "%s: text %q does not extend %q", name, text, got.text)
			got.text = text
			got.completion, got.prompt, got.cached = e.CompletionTokens, e.PromptTokens, e.CachedTokens
			if e.Finished {
				got.finish = string(e.FinishType)
			}
		}
		assert.Equal(t, w, got, name)
	})
}

// checkFixtures runs check on every native fixture whose name has prefix,
// and checks that there are n.
func checkFixtures(t *testing.T, prefix string, n int, check func(name string, rd *Reader)) {
	t.Helper()
	seen := 0
	for name, stream := range nativeFixtureStreams(t) {
		if strings.HasPrefix(name, prefix) {
			seen++
			check(name, NewReader(bytes.NewReader(stream), 0))
		}
	}
	assert.Equal(t, n, seen, "fixtures named %s*", prefix)
}

func FuzzTRTEvent(f *testing.F) {
	for _, data := range seedEvents(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"text_output":"\ud83d\ude00","text_output":"x","error":{"message":null},"error":"e"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e TRTEvent
		if !checkSyntax(t, data, e.Decode(data)) {
			return
		}
		if got, want := viewOfTRT(&e), referenceTRT(t, data); got != want {
			t.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
		}
	})
}

func FuzzSGLangEvent(f *testing.F) {
	for _, data := range seedEvents(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"text":"\ud83d\ude00","meta_info":{"finish_reason":{"type":"abort","message":"m","type":1},"completion_tokens":1e3,"meta_info":2},"error":{"message":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e SGLangEvent
		if !checkSyntax(t, data, e.Decode(data)) {
			return
		}
		if got, want := viewOfSGLang(&e), referenceSGLang(t, data); got != want {
			t.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
		}
	})
}
