package sse

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nativeFixtureStreams reads testdata/native: the native protocols'
// streams, which end without [DONE].
func nativeFixtureStreams(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/native/*.sse")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	m := make(map[string][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		m[filepath.Base(p)] = b
	}
	return m
}

// referenceRoot decodes valid JSON with encoding/json, numbers kept as
// json.Number (they may be beyond float64's range).
func referenceRoot(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var root any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("json.Unmarshal(%q) = %v", data, err)
	}
	obj, _ := root.(map[string]any)
	return obj
}

// referenceCount is count's rule on a decoded value: -1 unless a
// non-negative integral number below 1e18.
func referenceCount(v any) int {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f >= 1e18 || f != math.Trunc(f) {
		return -1
	}
	return int(f)
}

func referenceString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// referenceError is a top-level "error" string or object.
func referenceError(obj map[string]any) (bool, string) {
	switch e := obj["error"].(type) {
	case map[string]any:
		return true, referenceString(e, "message")
	case string:
		return true, e
	}
	return false, ""
}

// tgiView is a TGIEvent unescaped, for comparisons.
type tgiView struct {
	Token, Special, Last bool
	Text, FinishReason   string
	Generated, Input     int // -1 when absent
	Error                bool
	ErrorMessage         string
}

func viewOfTGI(e *TGIEvent) tgiView {
	return tgiView{Token: e.Token(), Special: e.Special, Last: e.Last,
		Text: unescaped(e.Text), FinishReason: unescaped(e.FinishReason),
		Generated: countOr(e.HasGeneratedTokens, e.GeneratedTokens), Input: countOr(e.HasInputLength, e.InputLength),
		Error: e.Error, ErrorMessage: unescaped(e.ErrorMessage)}
}

// unescaped is raw JSON string content unescaped, as a string.
func unescaped(raw []byte) string { return string(AppendUnescaped(nil, raw)) }

// countOr is a view's count: n when the event has it, -1 when absent.
func countOr(has bool, n int) int {
	if has {
		return n
	}
	return -1
}

// referenceTGI extracts what TGIEvent should from valid JSON: the oracle
// for tests and FuzzTGIEvent.
func referenceTGI(t testing.TB, data []byte) tgiView {
	v := tgiView{Generated: -1, Input: -1}
	obj := referenceRoot(t, data)
	if obj == nil {
		return v
	}
	if tok, ok := obj["token"].(map[string]any); ok {
		v.Text = referenceString(tok, "text")
		v.Special, _ = tok["special"].(bool)
	}
	_, generated := obj["generated_text"].(string)
	details, hasDetails := obj["details"].(map[string]any)
	v.Last = generated || hasDetails
	if hasDetails {
		v.FinishReason = referenceString(details, "finish_reason")
		v.Generated = referenceCount(details["generated_tokens"])
		v.Input = referenceCount(details["input_length"])
	}
	v.Token = v.Text != "" && !v.Special
	v.Error, v.ErrorMessage = referenceError(obj)
	return v
}

func TestTGIEventDecode(t *testing.T) {
	for _, tc := range []struct {
		data string
		want tgiView
	}{
		{`{"index":1,"token":{"id":578,"text":" The","logprob":-0.2,"special":false},"generated_text":null,"details":null}`,
			tgiView{Token: true, Text: " The", Generated: -1, Input: -1}},
		{`{"index":2,"token":{"id":2,"text":"<|im_end|>","logprob":0,"special":true},"generated_text":"x","details":{"finish_reason":"eos_token","generated_tokens":2,"seed":null,"input_length":7}}`,
			tgiView{Special: true, Last: true, Text: "<|im_end|>", FinishReason: "eos_token", Generated: 2, Input: 7}},
		// details not asked for: the last event has generated_text only.
		{`{"index":3,"token":{"id":1,"text":" end","special":false},"generated_text":" a end","details":null}`,
			tgiView{Token: true, Last: true, Text: " end", Generated: -1, Input: -1}},
		// TGI before 2.3: no input_length.
		{`{"token":{"text":"a"},"generated_text":"a","details":{"finish_reason":"length","generated_tokens":1,"seed":5}}`,
			tgiView{Token: true, Last: true, Text: "a", FinishReason: "length", Generated: 1, Input: -1}},
		{`{"error":"Request failed during generation: x","error_type":"generation"}`,
			tgiView{Generated: -1, Input: -1, Error: true, ErrorMessage: "Request failed during generation: x"}},
		{`{"error":{"message":"upstream \u00e9"}}`, tgiView{Generated: -1, Input: -1, Error: true, ErrorMessage: "upstream é"}},
		{`{"token":{"text":""},"generated_text":null}`, tgiView{Generated: -1, Input: -1}},
		{`{"details":{"generated_tokens":3},"details":null}`, tgiView{Generated: -1, Input: -1}},
		{`{"token":{"text":"a","text":1}}`, tgiView{Generated: -1, Input: -1}},
		{`[{"token":{"text":"a"}}]`, tgiView{Generated: -1, Input: -1}},
	} {
		var e TGIEvent
		require.NoError(t, e.Decode([]byte(tc.data)), "Decode(%s)", tc.data)
		assert.Equal(t, tc.want, viewOfTGI(&e), "Decode(%s)", tc.data)
		assert.Equal(t, referenceTGI(t, []byte(tc.data)), tc.want, "the oracle on %s", tc.data)
	}
	var e TGIEvent
	var se *SyntaxError
	err := e.Decode([]byte(`{"token":{"text":"broken`))
	require.True(t, errors.As(err, &se), "Decode of cut JSON: %v", err)
	assert.Equal(t, 24, se.Offset)
	data := []byte(`{"index":1,"token":{"id":578,"text":" The","logprob":-0.2,"special":false},"generated_text":null,"details":null}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Decode(data) }), "allocations per Decode")
}

func TestTGIEventFixtures(t *testing.T) {
	type summary struct {
		tokens       int
		text         string
		last         int // index of the last event
		finish       string
		output, in   int
		errors, evts int
	}
	want := map[string]summary{
		"tgi-generate-stream.sse":     {6, " The quick café 😀\n\"q\" end", 5, "length", 6, 12, 0, 6},
		"tgi-generate-stream-eos.sse": {3, " Yes. It", 3, "eos_token", 4, 9, 0, 4},
		"tgi-error.sse":               {1, " The", -1, "", 0, 0, 1, 2},
	}
	for name, stream := range nativeFixtureStreams(t) {
		if !strings.HasPrefix(name, "tgi-") {
			continue
		}
		w, ok := want[name]
		require.True(t, ok, "no expectation for %s", name)
		got := summary{last: -1}
		rd := NewReader(bytes.NewReader(stream), 0)
		var e TGIEvent
		for i := 0; ; i++ {
			data, err := rd.Next()
			if err != nil {
				break
			}
			got.evts++
			require.NoError(t, e.Decode(data), "%s: Decode(%s)", name, data)
			if e.Token() {
				got.tokens++
				got.text = string(AppendUnescaped([]byte(got.text), e.Text))
			}
			if e.Last {
				got.last, got.finish = i, string(e.FinishReason)
				got.output, got.in = e.GeneratedTokens, e.InputLength
			}
			if e.Error {
				got.errors++
			}
		}
		assert.Equal(t, w, got, name)
	}
}

func FuzzTGIEvent(f *testing.F) {
	fuzzEvent(f, append(seedEvents(f),
		[]byte(`{"token":{"text":"\ud83d\ude00","special":true,"special":false},"details":{"generated_tokens":1e2,"input_length":-1},"error":{"message":null}}`)),
		(*TGIEvent).Decode, viewOfTGI, referenceTGI)
}

// seedEvents are the data of every event of every fixture stream.
func seedEvents(f *testing.F) [][]byte {
	var out [][]byte
	for _, s := range seedStreams(f) {
		rd := NewReader(bytes.NewReader(s), 0)
		for {
			data, err := rd.Next()
			if err != nil {
				break
			}
			out = append(out, bytes.Clone(data))
		}
	}
	return out
}

// fuzzEvent is the fuzz target of one event decoder: seeded with seeds,
// decode's verdict on every input is encoding/json's (checkSyntax) and,
// on valid JSON, what it decoded (view) is what the encoding/json oracle
// (reference) extracts.
func fuzzEvent[E any, V comparable](f *testing.F, seeds [][]byte, decode func(*E, []byte) error,
	view func(*E) V, reference func(testing.TB, []byte) V) {
	for _, data := range seeds {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e E
		if !checkSyntax(t, data, decode(&e, data)) {
			return
		}
		if got, want := view(&e), reference(t, data); got != want {
			t.Fatalf("Decode(%q) = %+v, want %+v", data, got, want)
		}
	})
}

// checkSyntax checks a decoder's error on data against encoding/json's
// verdict and reports whether data is valid (and the view to be compared).
func checkSyntax(t *testing.T, data []byte, err error) bool {
	t.Helper()
	var se *SyntaxError
	if err != nil {
		if !errors.As(err, &se) {
			t.Fatalf("Decode(%q) error %T %v, want *SyntaxError", data, err, err)
		}
		if se.Offset < 0 || se.Offset > len(data) {
			t.Fatalf("Decode(%q) offset %d out of range", data, se.Offset)
		}
		if strings.Contains(se.Msg, "max depth") {
			return false
		}
	}
	valid := json.Valid(data)
	if (err == nil) != valid {
		t.Fatalf("Decode(%q) = %v, json.Valid = %v", data, err, valid)
	}
	return valid
}

// llamaView is a LlamaEvent unescaped, for comparisons.
type llamaView struct {
	Token, Stop          bool
	Content, StopType    string
	Predicted, Evaluated int // -1 when absent
	Error                bool
	ErrorMessage         string
}

func viewOfLlama(e *LlamaEvent) llamaView {
	return llamaView{Token: e.Token(), Stop: e.Stop, Content: unescaped(e.Content), StopType: unescaped(e.StopType),
		Predicted: countOr(e.HasTokensPredicted, e.TokensPredicted), Evaluated: countOr(e.HasTokensEvaluated, e.TokensEvaluated),
		Error: e.Error, ErrorMessage: unescaped(e.ErrorMessage)}
}

// referenceLlama extracts what LlamaEvent should from valid JSON: the
// oracle for tests and FuzzLlamaEvent.
func referenceLlama(t testing.TB, data []byte) llamaView {
	v := llamaView{Predicted: -1, Evaluated: -1}
	obj := referenceRoot(t, data)
	if obj == nil {
		return v
	}
	v.Content = referenceString(obj, "content")
	v.Token = v.Content != ""
	v.Stop, _ = obj["stop"].(bool)
	v.StopType = referenceString(obj, "stop_type")
	v.Predicted = referenceCount(obj["tokens_predicted"])
	v.Evaluated = referenceCount(obj["tokens_evaluated"])
	v.Error, v.ErrorMessage = referenceError(obj)
	return v
}

func TestLlamaEventDecode(t *testing.T) {
	for _, tc := range []struct {
		data string
		want llamaView
	}{
		{`{"index":0,"content":" loi","tokens":[81191],"stop":false,"id_slot":-1,"tokens_predicted":1,"tokens_evaluated":1}`,
			llamaView{Token: true, Content: " loi", Predicted: 1, Evaluated: 1}},
		{`{"index":0,"content":"","tokens":[],"id_slot":0,"stop":true,"model":"m","tokens_predicted":8,"tokens_evaluated":12,"generation_settings":{"stop":[],"n_predict":8},"prompt":"hi","stop_type":"limit","timings":{"prompt_n":12}}`,
			llamaView{Stop: true, StopType: "limit", Predicted: 8, Evaluated: 12}},
		{`{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}`,
			llamaView{Predicted: -1, Evaluated: -1, Error: true, ErrorMessage: "slot unavailable"}},
		{`{"content":"\u00e9\n","stop":"yes"}`, llamaView{Token: true, Content: "é\n", Predicted: -1, Evaluated: -1}},
		{`{"stop":true,"stop":false,"tokens_predicted":2.0,"tokens_evaluated":-1}`, llamaView{Predicted: 2, Evaluated: -1}},
		{`{"generation_settings":{"stop":true,"content":"x"}}`, llamaView{Predicted: -1, Evaluated: -1}},
	} {
		var e LlamaEvent
		require.NoError(t, e.Decode([]byte(tc.data)), "Decode(%s)", tc.data)
		assert.Equal(t, tc.want, viewOfLlama(&e), "Decode(%s)", tc.data)
		assert.Equal(t, referenceLlama(t, []byte(tc.data)), tc.want, "the oracle on %s", tc.data)
	}
	var e LlamaEvent
	data := []byte(`{"index":0,"content":" loi","tokens":[81191],"stop":false,"id_slot":-1,"tokens_predicted":1,"tokens_evaluated":1}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Decode(data) }), "allocations per Decode")
}

// TestLlamaEventFixtures reads a real llama-server b11669 /completion
// stream (curl -sN .../completion -d '{"prompt":"hi","n_predict":8,
// "stream":true,"ignore_eos":true}').
func TestLlamaEventFixtures(t *testing.T) {
	stream := nativeFixtureStreams(t)["llamacpp-native.sse"]
	rd := NewReader(bytes.NewReader(stream), 0)
	var e LlamaEvent
	var text strings.Builder
	tokens, events := 0, 0
	for {
		data, err := rd.Next()
		if err != nil {
			break
		}
		events++
		require.NoError(t, e.Decode(data), "Decode(%s)", data)
		if e.Token() {
			tokens++
			text.Write(AppendUnescaped(nil, e.Content))
			assert.False(t, e.Stop)
			assert.Equal(t, tokens, e.TokensPredicted, "tokens_predicted so far")
		}
	}
	assert.Equal(t, 9, events)
	assert.Equal(t, 8, tokens)
	assert.Equal(t, " loi wandered sapi pregnancies pracy meinen enlightened originate", text.String())
	assert.Equal(t, llamaView{Stop: true, StopType: "limit", Predicted: 8, Evaluated: 1}, viewOfLlama(&e), "the last object")
}

func FuzzLlamaEvent(f *testing.F) {
	fuzzEvent(f, append(seedEvents(f),
		[]byte(`{"content":"\ud83d\ude00","stop":true,"error":"x","error":{"message":"m"},"tokens_evaluated":1e3}`)),
		(*LlamaEvent).Decode, viewOfLlama, referenceLlama)
}
