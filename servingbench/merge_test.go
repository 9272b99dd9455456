package servingbench

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// readShardFile reads testdata/shards/name, edited by edit (nil: as it is).
func readShardFile(t *testing.T, name string, edit func(map[string]any)) *Report {
	t.Helper()
	data, err := os.ReadFile("testdata/shards/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	r, err := ReadJSON(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// TestMergeFiles merges two hand-written shard files of a 5-request
// schedule (shard 0/2: requests 0, 2, 4 from 07:00:00; shard 1/2: 1 and
// a failed 3, from 07:00:00.5, its start_times counted from 07:00:00.6)
// and checks every figure against the pooled requests, worked out by hand
// (numpy's linear percentiles): TTFT 100, 300, 900 and 600 ms pool to a
// mean of 475 ms, median 450 ms, P25 250 ms and P99 891 ms, where the
// shards' own P99s are 888 and 600 ms; TPOT 10, 20, 10, 30 ms; 14 ITL
// gaps (six of 10 ms, three of 20, five of 30) with median 20 ms; the
// duration from 07:00:00 to shard 1's end at 07:00:01.7.
func TestMergeFiles(t *testing.T) {
	s0, s1 := readShardFile(t, "shard0.json", nil), readShardFile(t, "shard1.json", nil)
	m, err := Merge(s1, s0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	if !m.Date.Equal(start) || m.Duration != 1700*ms || m.Completed != 4 || m.Failed != 1 || m.NumPrompts != 5 ||
		m.MaxConcurrency != 16 || m.TotalInputTokens != 47 || m.TotalOutputTokens != 18 || m.Shard != nil {
		t.Fatalf("merged Date %v duration %v completed %d failed %d prompts %d conc %d in %d out %d shard %v",
			m.Date, m.Duration, m.Completed, m.Failed, m.NumPrompts, m.MaxConcurrency, m.TotalInputTokens, m.TotalOutputTokens, m.Shard)
	}
	if m.RequestThroughput != 4/1.7 || m.OutputThroughput != 18/1.7 || m.TotalTokenThroughput != 65/1.7 {
		t.Errorf("throughputs %v %v %v, want 4/1.7, 18/1.7, 65/1.7", m.RequestThroughput, m.OutputThroughput, m.TotalTokenThroughput)
	}
	var idx []int
	var sent []time.Duration
	for _, r := range m.Results {
		idx = append(idx, r.Index)
		sent = append(sent, r.Sent.Sub(start))
	}
	if !slices.Equal(idx, []int{0, 1, 2, 3, 4}) || !slices.Equal(sent, []time.Duration{0, 600 * ms, 200 * ms, 800 * ms, 400 * ms}) {
		t.Fatalf("merged requests %v sent at %v", idx, sent)
	}
	check := func(name string, s Summary, samples []time.Duration, mean, median time.Duration, pct map[float64]time.Duration) {
		t.Helper()
		if !slices.Equal(s.SortedSamples(), samples) || s.Mean != mean || s.Median != median {
			t.Errorf("%s: samples %v mean %v median %v; want %v, %v, %v", name, s.SortedSamples(), s.Mean, s.Median, samples, mean, median)
		}
		for p, want := range pct {
			if got, _ := s.Percentile(p); got != want {
				t.Errorf("%s P%v = %v, want %v", name, p, got, want)
			}
		}
	}
	check("TTFT", m.TTFT, []time.Duration{100 * ms, 300 * ms, 600 * ms, 900 * ms}, 475*ms, 450*ms, map[float64]time.Duration{25: 250 * ms, 99: 891 * ms})
	check("TPOT", m.TPOT, []time.Duration{10 * ms, 10 * ms, 20 * ms, 30 * ms}, 17500*time.Microsecond, 15*ms, map[float64]time.Duration{99: 29700 * time.Microsecond})
	itl := slices.Concat(slices.Repeat([]time.Duration{10 * ms}, 6), slices.Repeat([]time.Duration{20 * ms}, 3), slices.Repeat([]time.Duration{30 * ms}, 5))
	check("ITL", m.ITL, itl, (60+60+150)*ms/14, 20*ms, map[float64]time.Duration{99: 30 * ms})
	if len(m.Errors) != 1 || m.Errors[0].Reason != "HTTP 500: boom" || m.Errors[0].Count != 1 {
		t.Errorf("errors %+v", m.Errors)
	}
	// The shards' own P99 TTFTs, which a merge of summaries would have had to combine.
	if p0, _ := Summarize(s0.Date, s0.Date.Add(s0.Duration), s0.Results, SLO{}).TTFT.Percentile(99); p0 != 888*ms {
		t.Errorf("shard 0's P99 TTFT %v, want 888ms", p0)
	}
}

// TestMergeRefuses checks each refusal's error on edits of the shard files.
func TestMergeRefuses(t *testing.T) {
	set := func(key string, v any) func(map[string]any) { return func(m map[string]any) { m[key] = v } }
	del := func(keys ...string) func(map[string]any) {
		return func(m map[string]any) {
			for _, k := range keys {
				delete(m, k)
			}
		}
	}
	s0 := readShardFile(t, "shard0.json", nil)
	for _, tc := range []struct {
		name   string
		shards []*Report
		want   string
	}{
		{"other scenario", []*Report{s0, readShardFile(t, "shard1.json", set("scenario_id", "fedcba9876543210"))},
			"shard 1/2 (report 2) ran scenario fedcba9876543210, report 1 scenario 0123456789abcdef: not the same requests and schedule"},
		{"other seed", []*Report{s0, readShardFile(t, "shard1.json", set("seed", 43))}, "shard 1/2 (report 2) has seed 43, report 1 seed 42"},
		{"other count", []*Report{s0, readShardFile(t, "shard1.json", set("shard_count", 3))}, "shard 1/3 (report 2) is one of 3 shards, report 1's of 2"},
		{"other schedule size", []*Report{s0, readShardFile(t, "shard1.json", set("schedule_requests", 6))}, "shard 1/2 (report 2) has a schedule of 6 requests, report 1 of 5"},
		{"other SLO", []*Report{s0, readShardFile(t, "shard1.json", set("goodput_slo", "ttft:100"))}, `shard 1/2 (report 2) has goodput SLO "ttft:100", report 1 ""`},
		{"twice", []*Report{s0, readShardFile(t, "shard0.json", nil)}, "shard 0/2 is given twice (reports 1 and 2)"},
		{"missing", []*Report{s0}, "shard 1/2 of 2 missing"},
		{"request of another shard", []*Report{s0, readShardFile(t, "shard1.json", set("request_indices", []int{1, 4}))}, "shard 1/2 has request 4, which is shard 0/2's"},
		{"request twice", []*Report{s0, readShardFile(t, "shard1.json", set("request_indices", []int{1, 1}))}, "request 1 is in shard 1/2 twice"},
		{"request beyond the schedule", []*Report{s0, readShardFile(t, "shard1.json", set("request_indices", []int{1, 5}))}, "shard 1/2 has request 5, beyond its schedule of 5 requests"},
		{"not detailed", []*Report{s0, readShardFile(t, "shard1.json", del("input_lens", "output_lens", "ttfts", "itls", "latencies", "start_times", "generated_texts", "errors", "request_indices"))},
			"shard 1/2 (report 2) has no per-request results: it was not saved with --save-detailed"},
		{"not a shard", []*Report{s0, readShardFile(t, "shard1.json", del("shard_count"))}, "report 2 has no shard (shard_count): it was not run with --shard K/N"},
		{"none", nil, "no shards given"},
	} {
		_, err := Merge(tc.shards...)
		if err == nil || err.Error() != "servingbench: merge: "+tc.want {
			t.Errorf("%s: error %v\nwant servingbench: merge: %s", tc.name, err, tc.want)
		}
	}
}

// TestShardFileRoundTrip: a shard's keys written by WriteJSON read back
// as they were, with the run's start and every Sent time to the
// nanosecond, though date keeps the second only.
func TestShardFileRoundTrip(t *testing.T) {
	s1 := readShardFile(t, "shard1.json", nil)
	s1.Shard.StartAt = s1.Shard.Start.Add(-time.Millisecond)
	s1.Shard.Late = time.Millisecond
	var b strings.Builder
	if err := WriteJSON(&b, s1, JSONOptions{Detailed: true}); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if *back.Shard != *s1.Shard || !back.Date.Equal(s1.Shard.Start) || back.Metadata != nil {
		t.Fatalf("read back shard %+v date %v metadata %v, wrote %+v", back.Shard, back.Date, back.Metadata, s1.Shard)
	}
	for i, r := range back.Results {
		if r.Index != s1.Results[i].Index || !r.Sent.Equal(s1.Results[i].Sent) {
			t.Errorf("request %d read back as %d sent %v, wrote %d sent %v", i, r.Index, r.Sent, s1.Results[i].Index, s1.Results[i].Sent)
		}
	}
}
