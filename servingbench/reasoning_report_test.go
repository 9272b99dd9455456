package servingbench

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reasoningResults are three measured requests of a reasoning run, built
// by hand: one that thought for 2 events then answered (the usage's
// split), one that thought until its output ran out (the tokenizer's),
// and one whose output was all answer.
func reasoningResults() []*Result {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	events := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Millisecond
		}
		return out
	}
	return []*Result{
		{Index: 0, Sent: t0, Events: events(100, 150, 200, 250), Done: t0.Add(260 * time.Millisecond),
			InputTokens: 10, InputSource: SourceUsage, OutputTokens: 8, OutputSource: SourceUsage,
			FirstAnswer: 2, ReasoningTokens: 5, AnswerTokens: 3, ReasoningSource: SourceUsage},
		{Index: 1, Sent: t0, Events: events(120, 170), Done: t0.Add(180 * time.Millisecond),
			InputTokens: 10, InputSource: SourceUsage, OutputTokens: 2, OutputSource: SourceUsage,
			FirstAnswer: 2, ReasoningTokens: 2, AnswerTokens: 0, ReasoningSource: SourceTokenizer},
		{Index: 2, Sent: t0, Events: events(90, 140, 190), Done: t0.Add(200 * time.Millisecond),
			InputTokens: 10, InputSource: SourceUsage, OutputTokens: 3, OutputSource: SourceUsage},
	}
}

func reasoningReport() *Report {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	rep := Summarize(t0, t0.Add(time.Second), reasoningResults(), SLO{})
	rep.Date, rep.Backend, rep.Model, rep.TokenizerID, rep.NumPrompts = t0, "vllm", "Qwen/Qwen3-0.6B", "Qwen/Qwen3-0.6B", 3
	rep.RequestRate, rep.Burstiness = 0, 1
	return rep
}

func TestSummarizeReasoning(t *testing.T) {
	rep := reasoningReport()
	assert.Equal(t, 2, rep.ReasoningRequests, "ReasoningRequests: requests 0 and 1 reasoned")
	assert.Equal(t, 1, rep.ReasoningOnly, "ReasoningOnly: request 1 gave no answer token")
	assert.Equal(t, 5+2, rep.TotalReasoningTokens, "TotalReasoningTokens")
	assert.Equal(t, 3+0+3, rep.TotalAnswerTokens, "TotalAnswerTokens: request 2's output is all answer")
	assert.Equal(t, map[CountSource]int{SourceUsage: 1, SourceTokenizer: 1}, rep.ReasoningSources, "ReasoningSources")
	assert.InDelta(t, 7.0/3, rep.MeanReasoningTokens(), 1e-12, "MeanReasoningTokens")
	assert.InDelta(t, 2.0, rep.MeanAnswerTokens(), 1e-12, "MeanAnswerTokens")
	// TTFO: request 0's third event (200 ms), request 2's first (90 ms);
	// request 1 has none and is left out.
	assert.Equal(t, []time.Duration{90 * time.Millisecond, 200 * time.Millisecond}, rep.TTFO.Samples, "TTFO samples")
	assert.Equal(t, 145*time.Millisecond, rep.TTFO.Mean, "TTFO mean")
	assert.Equal(t, 3, rep.TTFT.Count, "TTFT counts every successful request, reasoning or not")
	assert.Equal(t, 90*time.Millisecond, rep.TTFT.Samples[0], "TTFT")

	// A run without reasoning output has no TTFO (it is TTFT) and no
	// reasoning lines.
	plain := reasoningResults()[2:]
	rep = Summarize(plain[0].Sent, plain[0].Done, plain, SLO{})
	assert.Zero(t, rep.ReasoningRequests, "ReasoningRequests of a plain run")
	assert.Zero(t, rep.TTFO.Count, "TTFO of a plain run")
	assert.Nil(t, rep.ReasoningSources, "ReasoningSources of a plain run")
}

func TestWriteTextReasoningGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, reasoningReport(), TextOptions{}))
	checkGolden(t, "reasoning.txt", buf.Bytes())
	// v0.9.1's lines come first, unchanged: the block up to the end of
	// the ITL section is the one of the same run without reasoning.
	plain := reasoningReport()
	plain.ReasoningRequests, plain.TTFO = 0, Summary{}
	var pb bytes.Buffer
	require.NoError(t, WriteText(&pb, plain, TextOptions{}))
	cut := bytes.Index(pb.Bytes(), []byte("-----------------Run Details"))
	require.Positive(t, cut)
	assert.Equal(t, string(pb.Bytes()[:cut]), buf.String()[:cut], "v0.9.1's lines of a reasoning run")
	assert.NotContains(t, pb.String(), "Reasoning", "a run without reasoning prints no reasoning lines")
	assert.NotContains(t, pb.String(), "TTFO", "a run without reasoning prints no TTFO section")
}

func TestWriteJSONReasoning(t *testing.T) {
	rep := reasoningReport()
	out := writeJSON(t, rep, JSONOptions{Detailed: true})
	checkGolden(t, "reasoning.json", out)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	want := map[string]any{
		"reasoning_requests": 2.0, "reasoning_only_requests": 1.0,
		"total_reasoning_tokens": 7.0, "total_answer_tokens": 6.0,
		"mean_answer_tokens": 2.0, "mean_ttft_ms": 103.333333, "mean_ttfo_ms": 145.0,
		"median_ttfo_ms": 145.0, "std_ttfo_ms": 55.0, "p99_ttfo_ms": 198.9,
		"reasoning_token_sources": map[string]any{"usage": 1.0, "tokenizer": 1.0},
		"ttfos":                   []any{0.2, nil, 0.09},
		"reasoning_lens":          []any{5.0, 2.0, 0.0},
		"answer_lens":             []any{3.0, 0.0, 3.0},
		"output_lens":             []any{8.0, 2.0, 3.0},
	}
	for k, v := range want {
		if f, ok := v.(float64); ok {
			assert.InDelta(t, f, m[k], 1e-9, "key %s", k)
			continue
		}
		assert.Equal(t, v, m[k], "key %s", k)
	}
	// Read back: the counts, TTFO's summary and each request's split.
	back, err := ReadJSON(bytes.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, rep.ReasoningRequests, back.ReasoningRequests)
	assert.Equal(t, rep.ReasoningOnly, back.ReasoningOnly)
	assert.Equal(t, rep.TotalReasoningTokens, back.TotalReasoningTokens)
	assert.Equal(t, rep.TotalAnswerTokens, back.TotalAnswerTokens)
	assert.Equal(t, rep.ReasoningSources, back.ReasoningSources)
	assert.Equal(t, 2, back.TTFO.Count, "TTFO count from the per-request arrays")
	assert.Equal(t, rep.TTFO.Mean, back.TTFO.Mean)
	for i, res := range back.Results {
		orig := rep.Results[i]
		assert.Equal(t, orig.FirstAnswer, res.FirstAnswer, "request %d: FirstAnswer", i)
		assert.Equal(t, orig.TTFO(), res.TTFO(), "request %d: TTFO", i)
		assert.Equal(t, orig.ReasoningTokens, res.ReasoningTokens, "request %d: ReasoningTokens", i)
		assert.Equal(t, orig.answerTokens(), res.answerTokens(), "request %d: answer tokens", i)
	}
	var again bytes.Buffer
	require.NoError(t, WriteText(&again, back, TextOptions{}))
	var first bytes.Buffer
	require.NoError(t, WriteText(&first, rep, TextOptions{}))
	assert.Equal(t, first.String(), again.String(), "the text block of the file read back")

	// A run without reasoning writes none of the keys.
	plain := writeJSON(t, fullReport(), JSONOptions{Detailed: true})
	for _, k := range []string{"reasoning_requests", "total_reasoning_tokens", "ttfos", "reasoning_lens", "mean_ttfo_ms"} {
		assert.NotContains(t, string(plain), `"`+k+`"`, "a plain run's file has no %s", k)
	}
}
