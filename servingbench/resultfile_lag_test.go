package servingbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lagRun is a mixed run: two kernel-timed successes (1, 2, 30 ms and
// 0.5, 0.5, 0.5, 4 ms), a read-timed one and a kernel-timed failure.
func lagRun() *Report {
	failed := lagResult(30, us(9000), us(9000), us(9000))
	failed.Err = errors.New("HTTP 500: boom")
	rep := Summarize(summarizeT0, runAt(1000), []*Result{
		lagResult(0, us(1000), us(2000), us(30000)),
		lagResult(10),
		lagResult(20, us(500), us(500), us(500), us(4000)),
		failed,
	}, SLO{})
	rep.Date = time.Date(2026, 7, 24, 10, 0, 0, 0, time.Local)
	return rep
}

// clientLagSection is the Client Lag section of r's block, "" without one.
func clientLagSection(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, r, TextOptions{}))
	_, s, _ := strings.Cut(buf.String(), centre("Client Lag", '-'))
	return s
}

// TestJSONClientLag: the keys of the lag and the per-request client_lags
// are written as documented and read back: the summary from the keys,
// each Result's Arrival and Lags from client_lags, so Summarize over the
// read Results gives the run's ClientLag again, samples and all.
func TestJSONClientLag(t *testing.T) {
	rep := lagRun()
	// 0.5, 0.5, 0.5, 1, 2, 4, 30 ms: median 1 ms; P99 rank 5.94: 30 - 26*0.06 = 28.44 ms.
	require.Equal(t, ClientLag{KernelRequests: 2, ReadRequests: 1, Events: 7, P50: time.Millisecond,
		P99: 28440 * time.Microsecond, Max: 30 * time.Millisecond}, rep.ClientLag)

	summary := writeJSON(t, rep, JSONOptions{})
	assert.Contains(t, string(summary), `"output_token_sources": {"usage": 3}, "arrival_times": "mixed", `+
		`"arrival_time_sources": {"kernel": 2, "read": 1}, "p50_client_lag_ms": 1.0, "p99_client_lag_ms": 28.44, "max_client_lag_ms": 30.0}`)
	assert.NotContains(t, string(summary), "client_lags", "no per-request lags without Detailed")
	back, err := ReadJSON(bytes.NewReader(summary))
	require.NoError(t, err)
	want := rep.ClientLag
	want.Events = 0
	assert.Equal(t, want, back.ClientLag, "ClientLag read from a summary")
	assert.Equal(t, clientLagSection(t, rep), clientLagSection(t, back), "the section and its warning from a summary")
	assert.NotEmpty(t, clientLagSection(t, back))
	assert.Empty(t, back.Metadata, "no lag key read as metadata")

	detailed := writeJSON(t, rep, JSONOptions{Detailed: true})
	assert.Contains(t, string(detailed), `"client_lags": [[1000000, 2000000, 30000000], null, [500000, 500000, 500000, 4000000], []], `)
	back, err = ReadJSON(bytes.NewReader(detailed))
	require.NoError(t, err)
	want.Events = 7
	assert.Equal(t, want, back.ClientLag, "ClientLag read from a detailed file")
	require.Len(t, back.Results, 4)
	for i, w := range rep.Results {
		g := back.Results[i]
		assert.Equal(t, w.Arrival, g.Arrival, "Results[%d].Arrival", i)
		if w.OK() {
			assert.Equal(t, w.Lags, g.Lags, "Results[%d].Lags", i)
		} else {
			assert.Empty(t, g.Lags, "Results[%d].Lags of a failure", i)
		}
	}
	assert.Equal(t, rep.ClientLag, Summarize(summarizeT0, runAt(1000), back.Results, SLO{}).ClientLag, "Summarize over the Results read back")
}

// TestJSONClientLagRead: a run with read times only writes arrival_times
// "read" and nothing else of the lag, detailed or not; a vLLM file, which
// has no arrival_times, reads as read times.
func TestJSONClientLagRead(t *testing.T) {
	rep := Summarize(summarizeT0, runAt(1000), []*Result{lagResult(0), lagResult(10)}, SLO{})
	out := writeJSON(t, rep, JSONOptions{Detailed: true})
	assert.Contains(t, string(out), `"arrival_times": "read"`)
	for _, k := range []string{"arrival_time_sources", "client_lag", "client_lags"} {
		assert.NotContains(t, string(out), k)
	}
	back, err := ReadJSON(bytes.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, ClientLag{ReadRequests: 2}, back.ClientLag)
	for i, r := range back.Results {
		assert.Equal(t, ArrivalRead, r.Arrival, "Results[%d].Arrival", i)
		assert.Nil(t, r.Lags, "Results[%d].Lags", i)
	}
	v, err := ReadJSON(strings.NewReader(vllmV091File))
	require.NoError(t, err)
	assert.Equal(t, ClientLag{ReadRequests: 2}, v.ClientLag, "a vLLM file's")
	assert.Equal(t, "read", v.ClientLag.Source())
}

// TestReadJSONClientLagMalformed: each inconsistency of the lag's keys
// is refused, naming the key.
func TestReadJSONClientLagMalformed(t *testing.T) {
	tests := []struct {
		name, field, msg string
		edit             func(m map[string]any)
	}{
		{"unknown source", "arrival_times", `want "kernel", "read" or "mixed", got "nic"`,
			func(m map[string]any) { m["arrival_times"] = "nic" }},
		{"source disagrees", "arrival_times", `is "kernel", but arrival_time_sources has kernel 2, read 1`,
			func(m map[string]any) { m["arrival_times"] = "kernel" }},
		{"read with lags", "client_lags", `has the lags of 2 requests, but arrival_times is "read"`,
			func(m map[string]any) { m["arrival_times"] = "read" }},
		{"no arrival_times with lags", "client_lags", `has the lags of 2 requests, but arrival_times is "missing"`,
			func(m map[string]any) { delete(m, "arrival_times") }},
		{"missing p99", "p99_client_lag_ms", "missing",
			func(m map[string]any) { delete(m, "p99_client_lag_ms") }},
		{"missing sources", "arrival_time_sources", "missing",
			func(m map[string]any) { delete(m, "arrival_time_sources") }},
		{"bad source key", "arrival_time_sources", `want {"kernel": N, "read": M}, got "nic": 1`,
			func(m map[string]any) { m["arrival_time_sources"] = map[string]any{"kernel": 2, "nic": 1} }},
		{"counts disagree", "client_lags", "has 2 successful requests with lags and 1 without, arrival_time_sources kernel 1, read 2",
			func(m map[string]any) { m["arrival_time_sources"] = map[string]any{"kernel": 1, "read": 2} }},
		{"short", "client_lags", "has 3 entries, the per-request arrays have 4",
			func(m map[string]any) { m["client_lags"] = m["client_lags"].([]any)[:3] }},
		{"lags per event", "client_lags", "entry 0 has 2 lags for 3 token events",
			func(m map[string]any) { m["client_lags"].([]any)[0] = []any{1, 2} }},
		{"lags of a failure", "client_lags", "entry 3 has 1 lags for a failed request",
			func(m map[string]any) { m["client_lags"].([]any)[3] = []any{1} }},
		{"negative", "client_lags", "cannot unmarshal number -1",
			func(m map[string]any) { m["client_lags"].([]any)[0] = []any{-1, 2, 3} }},
		{"beyond saturation", "client_lags", "cannot unmarshal number 4294967296",
			func(m map[string]any) { m["client_lags"].([]any)[0] = []any{4294967296, 2, 3} }},
		{"without the arrays", "client_lags", "without the per-request arrays",
			func(m map[string]any) {
				for _, k := range []string{"input_lens", "output_lens", "ttfts", "itls", "latencies", "start_times",
					"queue_times", "generated_texts", "errors"} {
					delete(m, k)
				}
			}},
	}
	file := writeJSON(t, lagRun(), JSONOptions{Detailed: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(file, &m))
			tt.edit(m)
			data, err := json.Marshal(m)
			require.NoError(t, err)
			_, err = ReadJSON(bytes.NewReader(data))
			var fe *ResultFileError
			require.ErrorAs(t, err, &fe, "ReadJSON(%s)", tt.name)
			assert.Equal(t, tt.field, fe.Field, "ResultFileError.Field")
			assert.Contains(t, fe.Err.Error(), tt.msg)
		})
	}
}

// TestMergeClientLag: shard files saved with their lags (the shard files
// of TestMergeFiles given kernel times: requests 0 and 2 of shard 0/2,
// 1 and the failed 3 of shard 1/2; request 4 has read times) are read
// back and merged; the merged lag is the pooled samples', which no
// combination of the shards' summaries gives: 100, 200, 300, 400, 500,
// 600, 700, 1000, 2000, 3000, 4000, 5000 and 60000 us have median 700 us
// and P99 (rank 11.88) 60000 - 55000*0.12 = 53400 us, where shard 0's
// P99 is 694 us and shard 1's 57250 us.
func TestMergeClientLag(t *testing.T) {
	lags := map[int][]uint32{
		0: {us(100), us(300), us(200)},
		2: {us(700), us(400), us(500), us(600)},
		1: {us(1000), us(2000), us(3000), us(4000), us(60000), us(5000)},
		3: {},
	}
	var shards []*Report
	for _, name := range []string{"shard0.json", "shard1.json"} {
		s := readShardFile(t, name, nil)
		for _, r := range s.Results {
			if l, ok := lags[r.Index]; ok {
				r.Arrival, r.Lags = ArrivalKernel, l
			}
		}
		s.ClientLag = summarizeClientLag(s.Results)
		back, err := ReadJSON(bytes.NewReader(writeJSON(t, s, JSONOptions{Detailed: true})))
		require.NoError(t, err, name)
		shards = append(shards, back)
	}
	assert.Equal(t, 694*time.Microsecond, summarizeClientLag(shards[0].Results).P99, "shard 0's P99")
	assert.Equal(t, 57250*time.Microsecond, summarizeClientLag(shards[1].Results).P99, "shard 1's P99")
	m, err := Merge(shards[1], shards[0])
	require.NoError(t, err)
	assert.Equal(t, ClientLag{KernelRequests: 3, ReadRequests: 1, Events: 13, P50: 700 * time.Microsecond,
		P99: 53400 * time.Microsecond, Max: 60 * time.Millisecond}, m.ClientLag, "merged ClientLag")
	assert.Equal(t, "mixed", m.ClientLag.Source())
	assert.Contains(t, m.Warnings, m.ClientLag.Warning(), "the merged run's warning")
	require.Error(t, m.ClientLag.Warning())
	assert.Contains(t, m.ClientLag.Warning().Error(), "client lag P99 53.40 ms (max 60.00 ms) is above 10.00 ms")
}
