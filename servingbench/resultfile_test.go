package servingbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeJSON(t *testing.T, r *Report, opt JSONOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, r, opt))
	require.True(t, json.Valid(buf.Bytes()), "WriteJSON output is not valid JSON: %s", buf.Bytes())
	return buf.Bytes()
}

func TestWriteJSONGolden(t *testing.T) {
	tests := []struct {
		name string
		rep  *Report
		opt  JSONOptions
	}{
		{"seed.json", seedReport(), JSONOptions{}},
		{"full.json", fullReport(), JSONOptions{Percentiles: []float64{50, 99, 99.9}, Detailed: true}},
		{"summary.json", fullReport(), JSONOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGolden(t, tt.name, writeJSON(t, tt.rep, tt.opt))
		})
	}
}

func TestWriteJSONKeys(t *testing.T) {
	out := writeJSON(t, seedReport(), JSONOptions{Percentiles: []float64{99, 99.9}})
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	// The keys vLLM v0.9.1 writes (with the goodput key spelt right).
	for _, k := range []string{
		"date", "backend", "model_id", "tokenizer_id", "num_prompts", "request_rate", "burstiness",
		"max_concurrency", "duration", "completed", "total_input_tokens", "total_output_tokens",
		"request_throughput", "request_goodput", "output_throughput", "total_token_throughput",
		"mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms",
		"mean_tpot_ms", "mean_itl_ms", "mean_e2el_ms", "p99_e2el_ms",
	} {
		assert.Contains(t, m, k, "WriteJSON lacks key %q", k)
	}
	assert.Equal(t, "inf", m["request_rate"], "request_rate")
	assert.Nil(t, m["max_concurrency"], "max_concurrency without a bound")
	assert.Nil(t, m["request_goodput"], "request_goodput without an SLO")
	assert.Equal(t, "20250724-150405", m["date"], "date")
	assert.NotContains(t, m, "p99.9_ttft_ms", "a percentile the summary does not know is left out")
	assert.NotContains(t, m, "input_lens", "no detail without Detailed")
	// Python's json.dump layout.
	assert.True(t, bytes.HasPrefix(out, []byte(`{"date": "20250724-150405", "backend": "vllm", "label": null, "model_id": "qwen2.5", `)), "prefix: %s", out[:96])
	assert.Contains(t, m, "label", "vllm bench serve's label key, null without a label")
	assert.Nil(t, m["label"], "label without a Label")
	assert.NotContains(t, m, "server", "no server key when the server did not say")
	assert.NotContains(t, m, "server_id", "no server_id key when the server did not say")
	assert.Contains(t, string(out), `"duration": 48.47, "completed": 640, `)
	assert.Contains(t, string(out), `"burstiness": 1.0, "max_concurrency": null, `)
}

// TestWriteJSONLabelAndServer: the label goes after backend, as vllm
// bench serve writes it, and server and server_id last, after every key
// of vLLM's and of ours.
func TestWriteJSONLabelAndServer(t *testing.T) {
	r := seedReport()
	r.Label = "q8_0"
	r.Server = "llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0)"
	r.ServerID = "3fa9c2e1b7d0"
	out := string(writeJSON(t, r, JSONOptions{}))
	assert.Contains(t, out, `"backend": "vllm", "label": "q8_0", "model_id": "qwen2.5", `)
	assert.True(t, strings.HasSuffix(out, `, "server": "llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0)", "server_id": "3fa9c2e1b7d0"}`),
		"server keys last: ...%s", out[max(0, len(out)-160):])

	r.Server = ""
	out = string(writeJSON(t, r, JSONOptions{}))
	assert.NotContains(t, out, `"server": `, "no server key without Server")
	assert.True(t, strings.HasSuffix(out, `, "server_id": "3fa9c2e1b7d0"}`), "server_id alone: ...%s", out[max(0, len(out)-80):])
}

// TestWriteJSONMetadataLabel: a Metadata "label" (vLLM's --metadata
// label=X, which overwrites vllm bench serve's label key) fills the label
// key when there is no Label, and is not written twice; a Label wins.
func TestWriteJSONMetadataLabel(t *testing.T) {
	r := seedReport()
	r.Metadata = map[string]string{"label": "from-metadata", "build": "f16"}
	out := string(writeJSON(t, r, JSONOptions{}))
	assert.Contains(t, out, `"backend": "vllm", "label": "from-metadata", "model_id": `)
	assert.Equal(t, 1, strings.Count(out, `"label"`), "label keys in %s", out)
	assert.Contains(t, out, `"build": "f16"`)

	r.Label = "q8_0"
	out = string(writeJSON(t, r, JSONOptions{}))
	assert.Contains(t, out, `"backend": "vllm", "label": "q8_0", "model_id": `)
	assert.Equal(t, 1, strings.Count(out, `"label"`), "label keys in %s", out)

	back, err := ReadJSON(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, "q8_0", back.Label)
	assert.Equal(t, map[string]string{"build": "f16"}, back.Metadata, "label is no metadata when read back")
}

func TestCheckLabel(t *testing.T) {
	tests := []struct {
		label string
		want  string // "" for a good label
	}{
		{"q8_0", ""},
		{"llama.cpp-b11669 F16", ""},
		{"Qwen2.5+W8A8 (Ascend)", ""},
		{"ünïcode-中", ""},
		{strings.Repeat("x", MaxLabelLen), ""},
		{"", "a label must not be empty"},
		{" \t ", "a label must not be empty"},
		{" q8", "a label must not begin or end with white space"},
		{"q8\n", "a label must not begin or end with white space"},
		{"q8\nf16", "a label must be one line"},
		{"q8\rf16", "a label must be one line"},
		{"q8\u2028f16", "a label must be one line"},
		{"q8\tf16", "a label must be printable text, not the control character U+0009"},
		{"q8\x00", "a label must be printable text, not the control character U+0000"},
		{"bad\xffbyte", "a label must be valid UTF-8"},
		{"a/b", `a label begins the result file's name, so it must not hold '/' (nor any of /\:*?"<>|)`},
		{`a\b`, `must not hold '\\'`},
		{"f16:q8", `must not hold ':'`},
		{"what?", `must not hold '?'`},
		{`"q8"`, `must not hold '"'`},
		{strings.Repeat("x", MaxLabelLen+1), "a label begins the result file's name, so it must be at most 128 bytes, got 129"},
	}
	for _, tt := range tests {
		err := CheckLabel(tt.label)
		if tt.want == "" {
			assert.NoError(t, err, "CheckLabel(%q)", tt.label)
			continue
		}
		assert.ErrorContains(t, err, tt.want, "CheckLabel(%q)", tt.label)
	}
}

func TestWriteJSONNonFinite(t *testing.T) {
	r := seedReport()
	r.RequestThroughput = math.NaN()
	r.OutputThroughput = math.Inf(1)
	r.RequestRate = 2.5
	r.Metadata = map[string]string{"note": "ünïcode \"quoted\"\n", "completed": "clash"}
	out := writeJSON(t, r, JSONOptions{})
	assert.Contains(t, string(out), `"request_throughput": null`)
	assert.Contains(t, string(out), `"output_throughput": null`)
	assert.Contains(t, string(out), `"request_rate": 2.5`)
	assert.Contains(t, string(out), `"note": "\u00fcn\u00efcode \"quoted\"\n"`, "ensure_ascii strings")
	assert.Equal(t, 1, strings.Count(string(out), `"completed"`), "metadata may not override a result key")
}

func TestPyString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a/b<c>&", `"a/b<c>&"`},
		{"tab\tbell\x07del\x7f", `"tab\tbell\u0007del\u007f"`},
		{"é中", `"\u00e9\u4e2d"`},
		{"😀", `"\ud83d\ude00"`},
		{"bad\xffbyte", `"bad\ufffdbyte"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, pyString(tt.in), "pyString(%q)", tt.in)
		var back string
		require.NoError(t, json.Unmarshal([]byte(pyString(tt.in)), &back))
	}
}

func TestResultFilename(t *testing.T) {
	date := time.Date(2025, 7, 24, 9, 5, 3, 0, time.Local)
	tests := []struct {
		backend, label, model string
		rate                  float64
		conc                  int
		want                  string
	}{
		{"vllm", "", "qwen2.5", math.Inf(1), 0, "vllm-infqps-qwen2.5-20250724-090503.json"},
		{"vllm", "", "Qwen/Qwen2.5-32B-Instruct", 8, 0, "vllm-8.0qps-Qwen2.5-32B-Instruct-20250724-090503.json"},
		{"openai-chat", "", "/data/models/llm/qwen/Qwen2.5-32B-Instruct", 0.5, 16, "openai-chat-0.5qps-concurrency16-Qwen2.5-32B-Instruct-20250724-090503.json"},
		{"vllm", "", "m", 0, 4, "vllm-infqps-concurrency4-m-20250724-090503.json"},
		// vllm bench serve: the label, when given, in place of the backend.
		{"vllm", "q8_0", "tiny-qwen3", math.Inf(1), 0, "q8_0-infqps-tiny-qwen3-20250724-090503.json"},
		{"openai", "f16 run", "m", 2, 4, "f16 run-2.0qps-concurrency4-m-20250724-090503.json"},
	}
	for _, tt := range tests {
		r := &Report{Backend: tt.backend, Label: tt.label, Model: tt.model, RequestRate: tt.rate, MaxConcurrency: tt.conc, Date: date}
		got := ResultFilename(r)
		assert.Equal(t, tt.want, got, "ResultFilename(%s, %q, %s, %v, %d) = %q, want %q", tt.backend, tt.label, tt.model, tt.rate, tt.conc, got, tt.want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rep  *Report
		opt  JSONOptions
	}{
		{"seed", seedReport(), JSONOptions{}},
		{"full summary", fullReport(), JSONOptions{Percentiles: []float64{50, 99.9}}},
		{"full detailed", fullReport(), JSONOptions{Percentiles: []float64{99}, Detailed: true}},
		{"labelled, server known", labelledReport(), JSONOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := writeJSON(t, tt.rep, tt.opt)
			got, err := ReadJSON(bytes.NewReader(first))
			require.NoError(t, err)
			want := tt.rep
			assert.True(t, want.Date.Equal(got.Date), "Date = %v, want %v", got.Date, want.Date)
			assert.Equal(t, want.Backend, got.Backend)
			assert.Equal(t, want.Label, got.Label)
			assert.Equal(t, want.Server, got.Server)
			assert.Equal(t, want.ServerID, got.ServerID)
			assert.Equal(t, want.Model, got.Model)
			assert.Equal(t, want.TokenizerID, got.TokenizerID)
			assert.Equal(t, want.NumPrompts, got.NumPrompts)
			assert.Equal(t, want.RequestRate, got.RequestRate)
			assert.Equal(t, want.Burstiness, got.Burstiness)
			assert.Equal(t, want.MaxConcurrency, got.MaxConcurrency)
			assert.Equal(t, want.Metadata, got.Metadata)
			assert.Equal(t, want.Partial, got.Partial)
			assert.Equal(t, want.Duration, got.Duration)
			assert.Equal(t, want.Completed, got.Completed)
			assert.Equal(t, want.Failed, got.Failed)
			assert.Equal(t, want.TotalInputTokens, got.TotalInputTokens)
			assert.Equal(t, want.TotalOutputTokens, got.TotalOutputTokens)
			assert.Equal(t, want.RequestThroughput, got.RequestThroughput)
			assert.Equal(t, want.OutputThroughput, got.OutputThroughput)
			assert.Equal(t, want.TotalTokenThroughput, got.TotalTokenThroughput)
			assert.Equal(t, want.GoodputSLO, got.GoodputSLO)
			assert.Equal(t, want.Goodput, got.Goodput)
			assert.Equal(t, want.PeakOutputThroughput, got.PeakOutputThroughput)
			assert.Equal(t, want.PeakConcurrency, got.PeakConcurrency)
			// A result file keeps the counts, not the example messages.
			wantErrors := slices.Clone(want.Errors)
			for i := range wantErrors {
				wantErrors[i].Example = ""
			}
			assert.Equal(t, wantErrors, got.Errors)
			if len(want.InputSources) > 0 {
				assert.Equal(t, want.InputSources, got.InputSources)
				assert.Equal(t, want.OutputSources, got.OutputSources)
			}
			percentiles, _ := resolvePercentiles("", tt.opt.Percentiles)
			for name, pair := range map[string][2]Summary{
				"TTFT": {want.TTFT, got.TTFT}, "TPOT": {want.TPOT, got.TPOT}, "ITL": {want.ITL, got.ITL},
				"E2EL": {want.E2EL, got.E2EL}, "Queue": {want.Queue, got.Queue},
			} {
				w, g := pair[0], pair[1]
				assert.Equal(t, w.Mean, g.Mean, "%s.Mean", name)
				assert.Equal(t, w.Median, g.Median, "%s.Median", name)
				assert.Equal(t, w.Std, g.Std, "%s.Std", name)
				assert.Nil(t, g.Samples, "%s.Samples read back", name)
				for _, p := range percentiles {
					wv, _ := w.Percentile(p)
					gv, ok := g.Percentile(p)
					assert.True(t, ok, "%s.Percentile(%v) known after reading", name, p)
					assert.Equal(t, wv, gv, "%s.Percentile(%v)", name, p)
				}
				if tt.opt.Detailed || w.Count == 0 {
					assert.Equal(t, w.Count, g.Count, "%s.Count", name)
				}
			}
			if tt.opt.Detailed {
				checkResultsRoundTrip(t, want.Results, got.Results)
			} else {
				assert.Nil(t, got.Results, "Results of a summary")
			}
			// Writing what was read gives the same bytes.
			assert.Equal(t, string(first), string(writeJSON(t, got, tt.opt)), "WriteJSON(ReadJSON(WriteJSON(r)))")
		})
	}
}

// labelledReport is seedReport with a label and a server that said who it
// is.
func labelledReport() *Report {
	r := seedReport()
	r.Label = "q8_0"
	r.Server = "llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0)"
	r.ServerID = "3fa9c2e1b7d0"
	return r
}

func checkResultsRoundTrip(t *testing.T, want, got []*Result) {
	t.Helper()
	var live []*Result
	for _, r := range want {
		if r != nil {
			live = append(live, r)
		}
	}
	require.Len(t, got, len(live), "Results")
	for i, w := range live {
		g := got[i]
		assert.Equal(t, w.OK(), g.OK(), "Results[%d].OK()", i)
		assert.Equal(t, w.InputTokens, g.InputTokens, "Results[%d].InputTokens", i)
		assert.Equal(t, w.Text, g.Text, "Results[%d].Text", i)
		if !w.OK() {
			assert.Equal(t, resultError(w), g.Err.Error(), "Results[%d].Err", i)
			continue
		}
		assert.Equal(t, w.OutputTokens, g.OutputTokens, "Results[%d].OutputTokens", i)
		assert.Equal(t, w.TTFT(), g.TTFT(), "Results[%d].TTFT()", i)
		assert.Equal(t, w.E2EL(), g.E2EL(), "Results[%d].E2EL()", i)
		assert.Equal(t, w.TPOT(), g.TPOT(), "Results[%d].TPOT()", i)
		assert.Equal(t, w.AppendITL(nil), g.AppendITL(nil), "Results[%d] ITL", i)
		if !w.Scheduled.IsZero() {
			assert.Equal(t, w.QueueDelay(), g.QueueDelay(), "Results[%d].QueueDelay()", i)
		}
	}
}

// vllmV091File is shaped like a v0.9.1 --save-result file with detail
// (its "request_goodput:" key included), a metadata key and Python's NaN.
const vllmV091File = `{"date": "20250724-101500", "backend": "vllm", "model_id": "Qwen/Qwen2.5-7B", "tokenizer_id": "Qwen/Qwen2.5-7B", "num_prompts": 3, "build": "fp16", "request_rate": 8.0, "burstiness": 1.0, "max_concurrency": null, "duration": 2.0, "completed": 2, "total_input_tokens": 20, "total_output_tokens": 5, "request_throughput": 1.0, "request_goodput:": null, "output_throughput": 2.5, "total_token_throughput": 12.5, "input_lens": [10, 10, 7], "output_lens": [3, 2, 0], "ttfts": [0.1, 0.2, 0.0], "itls": [[0.05, 0.05], [0.1], []], "generated_texts": ["abc", "de", ""], "errors": ["", "", "Bad Request"], "mean_ttft_ms": 150.0, "median_ttft_ms": 150.0, "std_ttft_ms": 50.0, "p99_ttft_ms": 199.0, "mean_tpot_ms": 75.0, "median_tpot_ms": 75.0, "std_tpot_ms": NaN, "p99_tpot_ms": 99.5, "mean_itl_ms": 66.66666666666667, "median_itl_ms": 50.0, "std_itl_ms": 23.570226039551585, "p99_itl_ms": 99.0}`

func TestReadJSONvLLM(t *testing.T) {
	r, err := ReadJSON(strings.NewReader(vllmV091File))
	require.NoError(t, err)
	assert.Equal(t, "vllm", r.Backend)
	assert.Equal(t, 8.0, r.RequestRate)
	assert.Equal(t, 2*time.Second, r.Duration)
	assert.Equal(t, map[string]string{"build": "fp16"}, r.Metadata)
	assert.Equal(t, "vllm-8.0qps-Qwen2.5-7B-20250724-101500.json", ResultFilename(r))
	assert.Empty(t, r.Label, "v0.9.1 has no label")
	assert.Equal(t, 150*time.Millisecond, r.TTFT.Mean)
	assert.Zero(t, r.TPOT.Std, "NaN reads as null")
	p99, ok := r.TPOT.Percentile(99)
	assert.True(t, ok)
	assert.Equal(t, 99500*time.Microsecond, p99)
	_, ok = r.TPOT.Percentile(90)
	assert.False(t, ok, "P90 is not in the file")
	require.Len(t, r.Results, 3)
	assert.Equal(t, 250*time.Millisecond, r.Results[1].TTFT()+r.Results[1].AppendITL(nil)[0]-50*time.Millisecond)
	assert.Equal(t, 200*time.Millisecond, r.Results[0].E2EL())
	assert.Equal(t, 3, r.Results[0].OutputTokens)
	assert.False(t, r.Results[2].OK())
	assert.EqualError(t, r.Results[2].Err, "Bad Request")
	assert.Equal(t, []ErrorCount{{Reason: "Bad Request", Count: 1}}, r.Errors)
	assert.Equal(t, 2, r.TTFT.Count, "TTFT.Count")
	assert.Equal(t, 2, r.TPOT.Count, "TPOT.Count: both have > 1 token")
	assert.Equal(t, 3, r.ITL.Count, "ITL.Count")
	assert.Equal(t, 0, r.E2EL.Count, "no E2EL keys in the file")

	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, r, TextOptions{}))
	assert.Contains(t, buf.String(), "P99 TPOT (ms):                           99.50     \n")
}

// vllmBenchServeFile is shaped like a vllm bench serve --save-result file
// with --label: endpoint_type, label, and a label-prefixed file name.
const vllmBenchServeFile = `{"date": "20261202-093000", "endpoint_type": "openai", "backend": "openai", "label": "q8_0", "model_id": "tiny-qwen3", "tokenizer_id": "tiny-qwen3", "num_prompts": 2, "request_rate": "inf", "burstiness": 1.0, "max_concurrency": 4, "duration": 1.5, "completed": 2, "failed": 0, "total_input_tokens": 20, "total_output_tokens": 8, "request_throughput": 1.3333333333333333, "request_goodput": null, "output_throughput": 5.333333333333333, "total_token_throughput": 18.666666666666668, "mean_ttft_ms": 40.0, "median_ttft_ms": 40.0, "std_ttft_ms": 2.0, "p99_ttft_ms": 41.96}`

func TestReadJSONLabel(t *testing.T) {
	r, err := ReadJSON(strings.NewReader(vllmBenchServeFile))
	require.NoError(t, err)
	assert.Equal(t, "q8_0", r.Label)
	assert.Equal(t, "openai", r.Backend)
	assert.Equal(t, "q8_0-infqps-concurrency4-tiny-qwen3-20261202-093000.json", ResultFilename(r))
	assert.NotContains(t, r.Metadata, "label")
	assert.Empty(t, r.Server)

	r, err = ReadJSON(strings.NewReader(`{"duration": 1.0, "completed": 1, "label": null}`))
	require.NoError(t, err)
	assert.Empty(t, r.Label, "a null label")

	r, err = ReadJSON(strings.NewReader(`{"duration": 1.0, "completed": 1, "server": "servingtest-0.1.0", "server_id": "0123456789ab"}`))
	require.NoError(t, err)
	assert.Equal(t, "servingtest-0.1.0", r.Server)
	assert.Equal(t, "0123456789ab", r.ServerID)
	assert.Empty(t, r.Metadata, "server keys are no metadata")
}

func TestReadJSONReaders(t *testing.T) {
	data := writeJSON(t, fullReport(), JSONOptions{Detailed: true})
	want, err := ReadJSON(bytes.NewReader(data))
	require.NoError(t, err)
	for name, rd := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
		"data err": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		got, err := ReadJSON(rd)
		require.NoError(t, err, "ReadJSON(%s reader)", name)
		assert.Equal(t, string(writeJSON(t, want, JSONOptions{Detailed: true})), string(writeJSON(t, got, JSONOptions{Detailed: true})), "ReadJSON(%s reader)", name)
	}
	boom := errors.New("disk gone")
	_, err = ReadJSON(io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(boom)))
	assert.ErrorIs(t, err, boom, "ReadJSON with a failing reader")
}

func TestReadJSONMalformed(t *testing.T) {
	const base = `"duration": 1.0, "completed": 1`
	tests := []struct {
		name, in, field, want string
	}{
		{"empty", ``, "", "unexpected end of JSON input"},
		{"truncated", `{"duration": 1.0, "compl`, "", "unexpected end"},
		{"array", `[1, 2]`, "", "cannot unmarshal array"},
		{"null", `null`, "", "not a JSON object"},
		{"missing duration", `{"completed": 1}`, "duration", "missing"},
		{"missing completed", `{"duration": 1.0}`, "completed", "missing"},
		{"string count", `{"duration": 1.0, "completed": "640"}`, "completed", "cannot unmarshal string"},
		{"fractional count", `{` + base + `, "failed": 1.5}`, "failed", "want an integer, got 1.5"},
		{"bad date", `{` + base + `, "date": "2025-07-24"}`, "date", "want YYYYMMDD-HHMMSS"},
		{"bad rate", `{` + base + `, "request_rate": "fast"}`, "request_rate", `want a number or "inf", got "fast"`},
		{"bad source", `{` + base + `, "input_token_sources": {"magic": 1}}`, "input_token_sources", `unknown source "magic"`},
		{"bad slo", `{` + base + `, "goodput_slo": "ttft=1"}`, "goodput_slo", "missing ':'"},
		{"bad partial", `{` + base + `, "partial": 1}`, "partial", "cannot unmarshal number"},
		{"bad label", `{` + base + `, "label": 8}`, "label", "cannot unmarshal number"},
		{"bad server", `{` + base + `, "server": ["llama.cpp"]}`, "server", "cannot unmarshal array"},
		{"ragged detail", `{` + base + `, "input_lens": [1, 2], "ttfts": [0.1]}`, "ttfts", "has 1 entries, input_lens has 2"},
		{"bad itls", `{` + base + `, "itls": [0.1]}`, "itls", "cannot unmarshal number"},
		{"bad metric", `{` + base + `, "mean_ttft_ms": "fast"}`, "mean_ttft_ms", "cannot unmarshal string"},
		{"bad percentile", `{` + base + `, "p1.2.3_ttft_ms": 1.0}`, "p1.2.3_ttft_ms", "bad percentile"},
		{"percentile out of range", `{` + base + `, "p200_ttft_ms": 1.0}`, "p200_ttft_ms", "bad percentile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadJSON(strings.NewReader(tt.in))
			require.Error(t, err, "ReadJSON(%q) = %+v, want an error", tt.in, r)
			var fe *ResultFileError
			require.True(t, errors.As(err, &fe), "ReadJSON(%q) error %T, want *ResultFileError", tt.in, err)
			assert.Equal(t, tt.field, fe.Field, "ReadJSON(%q) error field", tt.in)
			assert.ErrorContains(t, err, tt.want, "ReadJSON(%q)", tt.in)
			assert.Nil(t, r)
		})
	}
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(vllmV091File))
	f.Add([]byte(`{"duration": 1.0, "completed": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteJSON(&buf, r, JSONOptions{Detailed: true}); err != nil {
			t.Fatalf("WriteJSON(ReadJSON(%q)): %v", data, err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("WriteJSON(ReadJSON(%q)) is not JSON: %s", data, buf.Bytes())
		}
		if err := WriteText(io.Discard, r, TextOptions{}); err != nil {
			t.Fatalf("WriteText(ReadJSON(%q)): %v", data, err)
		}
	})
}

// TestJSONStartTimes: start_times (vllm bench serve's key) is each
// request's Sent time in seconds from the run's start (the earliest
// Scheduled time), and ReadJSON puts every request back at its start, so
// that a report read from a file can draw the requests on the run's clock.
func TestJSONStartTimes(t *testing.T) {
	rep := fullReport()
	sent := slices.DeleteFunc(slices.Clone(rep.Results), func(r *Result) bool { return r == nil })
	data := writeJSON(t, rep, JSONOptions{Detailed: true})
	var fields struct {
		StartTimes []*float64 `json:"start_times"`
	}
	require.NoError(t, json.Unmarshal(data, &fields))
	require.Len(t, fields.StartTimes, len(sent))
	for i, r := range sent {
		require.NotNil(t, fields.StartTimes[i], "start_times[%d]", i)
		assert.Equal(t, r.Sent.Sub(summarizeT0).Seconds(), *fields.StartTimes[i], "start_times[%d]", i)
	}
	got, err := ReadJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, got.Results, len(sent))
	for i, r := range sent {
		g := got.Results[i]
		assert.Equal(t, r.Sent.Sub(summarizeT0), g.Sent.Sub(got.Date), "request %d: Sent - Date", i)
		if r.OK() {
			assert.Equal(t, r.LastEvent().Sub(summarizeT0), g.LastEvent().Sub(got.Date), "request %d: last event - Date", i)
		}
	}
	// A request never sent has a null start time.
	unsent := Summarize(summarizeT0, summarizeT0, []*Result{{Scheduled: summarizeT0}}, SLO{})
	assert.Contains(t, string(writeJSON(t, unsent, JSONOptions{Detailed: true})), `"start_times": [null]`)
}
