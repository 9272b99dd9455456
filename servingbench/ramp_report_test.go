package servingbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// rampRequests are n small requests for the ramp runs.
func rampRequests(n int) []servingbench.Request {
	reqs := make([]servingbench.Request, n)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: "a b c", MaxTokens: 2}
	}
	return reqs
}

// TestRunRampReport: a ramp-up run's report records the ramp, its
// burstiness and vLLM's rps_change_events at the run's start plus the
// schedule's offsets.
func TestRunRampReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.ZeroCost())
		client, err := servingbench.NewCompletions(bubbleConfig(srv))
		require.NoError(t, err)
		defer client.Close()
		ramp := servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 8, Burstiness: 2, Seed: 3}
		rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: rampRequests(20), Arrival: ramp})
		require.NoError(t, err)
		require.Equal(t, 20, rep.Completed, "errors: %v", rep.Errors)
		require.NotNil(t, rep.Ramp, "Report.Ramp")
		assert.Equal(t, ramp, *rep.Ramp, "Report.Ramp")
		assert.Equal(t, 2.0, rep.Burstiness, "Report.Burstiness is the ramp's")

		var want []servingbench.RPSChangeEvent
		for _, c := range ramp.RPSChanges(20) {
			want = append(want, servingbench.RPSChangeEvent{RPS: c.RPS, Time: rep.Date.Add(c.Offset)})
		}
		require.Len(t, rep.RPSChanges, 8, "one event a whole rate from 1 to 8")
		for i, e := range rep.RPSChanges {
			assert.Equal(t, want[i].RPS, e.RPS, "event %d rps", i)
			assert.True(t, want[i].Time.Equal(e.Time), "event %d at %v, want %v", i, e.Time, want[i].Time)
		}
		assert.True(t, rep.RPSChanges[0].Time.Equal(rep.Date), "the first event is stamped at the start of the run")

		gamma, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: rampRequests(4), Arrival: servingbench.Poisson(100, 1)})
		require.NoError(t, err)
		assert.Nil(t, gamma.Ramp, "no Ramp for a Gamma arrival")
		assert.Nil(t, gamma.RPSChanges, "no events for a Gamma arrival")
	})
}

// TestRunRampCancelled: a ramp-up run cut short keeps the events of the
// requests it dispatched, as vLLM records each event when it dispatches
// the request that reached it.
func TestRunRampCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleServer(t, servingtest.ZeroCost())
		client, err := servingbench.NewCompletions(bubbleConfig(srv))
		require.NoError(t, err)
		defer client.Close()
		// Constant gaps: requests at 1, 1.5, 2, ... req/s; cancelled at 3 s.
		ramp := servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 8, Burstiness: rampInf}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Requests: rampRequests(15), Arrival: ramp})
		require.NoError(t, err)
		require.True(t, rep.Partial, "partial")
		var last time.Duration
		for _, r := range rep.Results {
			last = max(last, r.Scheduled.Sub(rep.Date))
		}
		require.NotEmpty(t, rep.RPSChanges)
		assert.Less(t, len(rep.RPSChanges), 8, "events of requests never dispatched are left out")
		for i, e := range rep.RPSChanges {
			assert.LessOrEqual(t, e.Time.Sub(rep.Date), last, "event %d after the last request dispatched", i)
		}
		full := ramp.RPSChanges(15)
		for i, e := range rep.RPSChanges {
			assert.Equal(t, full[i].RPS, e.RPS, "event %d", i)
		}
	})
}

// rampReport is a summary-only ramp-up report with its events.
func rampReport() *servingbench.Report {
	date := time.Date(2025, 7, 24, 15, 4, 5, 120431000, time.Local)
	return &servingbench.Report{
		Date: date, Backend: "vllm", Model: "qwen2.5", TokenizerID: "qwen2.5", NumPrompts: 100,
		RequestRate: rampInf, Burstiness: 1, MaxConcurrency: 4,
		Ramp: &servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 4, Burstiness: 1},
		RPSChanges: []servingbench.RPSChangeEvent{
			{RPS: 1, Time: date},
			{RPS: 2, Time: date.Add(21*time.Second + 1500*time.Microsecond)},
			{RPS: 3, Time: date.Add(37*time.Second + 879569*time.Microsecond)}, // on a whole second
			{RPS: 4, Time: date.Add(49*time.Second + 7654321)},                 // sub-microsecond part dropped
		},
		Duration: 50 * time.Second, Completed: 100, RequestThroughput: 2, OutputThroughput: 256, TotalTokenThroughput: 512,
	}
}

// TestWriteJSONRamp: vllm bench serve's ramp keys after max_concurrency,
// rps_change_events after max_concurrent_requests, timestamps in Python's
// isoformat of local time (no fraction on a whole second), and the file
// reads back to the same bytes.
func TestWriteJSONRamp(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&buf, rampReport(), servingbench.JSONOptions{}))
	out := buf.String()
	require.True(t, json.Valid(buf.Bytes()), "invalid JSON: %s", out)
	assert.Contains(t, out, `"burstiness": 1.0, "max_concurrency": 4, "ramp_up_strategy": "exponential", "ramp_up_start_rps": 1, "ramp_up_end_rps": 4, "duration": 50.0, `)
	assert.Contains(t, out, `"max_concurrent_requests": 0, "rps_change_events": [{"rps": 1, "timestamp": "2025-07-24T15:04:05.120431"}, `+
		`{"rps": 2, "timestamp": "2025-07-24T15:04:26.121931"}, {"rps": 3, "timestamp": "2025-07-24T15:04:43"}, `+
		`{"rps": 4, "timestamp": "2025-07-24T15:04:54.128085"}], "mean_ttft_ms": `)
	assert.Contains(t, out, `"request_rate": "inf", `, "a ramp-up run's request_rate stays inf")

	back, err := servingbench.ReadJSON(strings.NewReader(out))
	require.NoError(t, err)
	require.NotNil(t, back.Ramp)
	assert.Equal(t, servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 4, Burstiness: 1}, *back.Ramp)
	require.Len(t, back.RPSChanges, 4)
	for i, e := range rampReport().RPSChanges {
		assert.Equal(t, e.RPS, back.RPSChanges[i].RPS, "event %d", i)
		assert.True(t, e.Time.Truncate(time.Microsecond).Equal(back.RPSChanges[i].Time), "event %d at %v, want %v", i, back.RPSChanges[i].Time, e.Time)
	}
	assert.Empty(t, back.Metadata, "ramp keys are no metadata")
	var again bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&again, back, servingbench.JSONOptions{}))
	assert.Equal(t, out, again.String(), "WriteJSON(ReadJSON(WriteJSON(r)))")

	frac := rampReport()
	frac.Ramp.Start, frac.Ramp.End = 0.5, 2.5
	buf.Reset()
	require.NoError(t, servingbench.WriteJSON(&buf, frac, servingbench.JSONOptions{}))
	assert.Contains(t, buf.String(), `"ramp_up_start_rps": 0.5, "ramp_up_end_rps": 2.5, `, "fractional rates, which vLLM does not take")
}

// TestReadJSONRampVLLM reads vllm bench serve's keys as it writes them,
// timestamps with and without a fraction or an offset.
func TestReadJSONRampVLLM(t *testing.T) {
	in := `{"date": "20250724-150405", "backend": "vllm", "request_rate": "inf", "burstiness": 1.0,
		"max_concurrency": null, "ramp_up_strategy": "linear", "ramp_up_start_rps": 2, "ramp_up_end_rps": 10,
		"duration": 12.5, "completed": 50, "rps_change_events": [{"rps": 2, "timestamp": "2025-07-24T15:03:52.5"},
		{"rps": 3, "timestamp": "2025-07-24T15:03:54"}, {"rps": 4, "timestamp": "2025-07-24T13:03:55.25+00:00"}]}`
	r, err := servingbench.ReadJSON(strings.NewReader(in))
	require.NoError(t, err)
	require.NotNil(t, r.Ramp)
	assert.Equal(t, servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 2, End: 10, Burstiness: 1}, *r.Ramp)
	require.Len(t, r.RPSChanges, 3)
	base := time.Date(2025, 7, 24, 15, 3, 52, 500000000, time.Local)
	assert.True(t, r.RPSChanges[0].Time.Equal(base), "event 0 at %v", r.RPSChanges[0].Time)
	assert.True(t, r.RPSChanges[1].Time.Equal(time.Date(2025, 7, 24, 15, 3, 54, 0, time.Local)), "event 1 at %v", r.RPSChanges[1].Time)
	assert.True(t, r.RPSChanges[2].Time.Equal(time.Date(2025, 7, 24, 13, 3, 55, 250000000, time.UTC)), "event 2 at %v", r.RPSChanges[2].Time)
	assert.Equal(t, 4, r.RPSChanges[2].RPS)
	assert.Empty(t, r.Metadata)
}

func TestReadJSONRampMalformed(t *testing.T) {
	base := `"duration": 1, "completed": 1, `
	tests := []struct {
		in, want string
	}{
		{`{` + base + `"ramp_up_strategy": "cubic", "ramp_up_start_rps": 1, "ramp_up_end_rps": 2}`, `field "ramp_up_strategy": want linear or exponential, got "cubic"`},
		{`{` + base + `"ramp_up_strategy": "linear", "ramp_up_end_rps": 2}`, `field "ramp_up_start_rps": missing`},
		{`{` + base + `"rps_change_events": [{"rps": 1}]}`, `field "rps_change_events": entry 0: want {"rps": N, "timestamp": T}`},
		{`{` + base + `"rps_change_events": [{"rps": 1.5, "timestamp": "2025-07-24T15:03:54"}]}`, `entry 0: rps: want an integer, got 1.5`},
		{`{` + base + `"rps_change_events": [{"rps": 1, "timestamp": "yesterday"}]}`, `entry 0: timestamp: want an ISO 8601 time such as 2026-11-29T14:03:07.120431, got "yesterday"`},
		{`{` + base + `"rps_change_events": {"rps": 1}}`, `field "rps_change_events"`},
	}
	for _, tt := range tests {
		_, err := servingbench.ReadJSON(strings.NewReader(tt.in))
		assert.ErrorContains(t, err, tt.want, "ReadJSON(%s)", tt.in)
	}
}

func TestResultFilenameRamp(t *testing.T) {
	date := time.Date(2025, 7, 24, 9, 5, 3, 0, time.Local)
	tests := []struct {
		label      string
		ramp       servingbench.Ramp
		conc       int
		want       string
		backendArg string
	}{
		{"", servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 1, End: 8}, 0, "vllm-ramp-up-linear-1qps-8qps-tiny-qwen3-20250724-090503.json", "vllm"},
		{"q8_0", servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 2, End: 64}, 16, "q8_0-ramp-up-exponential-2qps-64qps-concurrency16-tiny-qwen3-20250724-090503.json", "vllm"},
		{"", servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 0.5, End: 4}, 0, "openai-ramp-up-linear-0.5qps-4qps-tiny-qwen3-20250724-090503.json", "openai"},
	}
	for _, tt := range tests {
		r := &servingbench.Report{Backend: tt.backendArg, Label: tt.label, Model: "org/tiny-qwen3", RequestRate: rampInf,
			MaxConcurrency: tt.conc, Date: date, Ramp: &tt.ramp}
		assert.Equal(t, tt.want, servingbench.ResultFilename(r), "ResultFilename(%v)", tt.ramp)
	}
}

// TestWriteTextRamp: the block's Run Details name the ramp, and the rate
// a run cut short reached.
func TestWriteTextRamp(t *testing.T) {
	var buf bytes.Buffer
	r := rampReport()
	require.NoError(t, servingbench.WriteText(&buf, r, servingbench.TextOptions{}))
	assert.Contains(t, buf.String(), "Maximum request concurrency:             4         \n"+
		"Ramp-up strategy:                        exponential\n"+
		"Ramp-up RPS:                             1 to 4    \n")
	assert.NotContains(t, buf.String(), "Ramp-up RPS reached:", "only for a run cut short")

	r.Partial, r.RPSChanges = true, r.RPSChanges[:2]
	buf.Reset()
	require.NoError(t, servingbench.WriteText(&buf, r, servingbench.TextOptions{}))
	assert.Contains(t, buf.String(), "Ramp-up RPS reached:                     2         \n")
}
