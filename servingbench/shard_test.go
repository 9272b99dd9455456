package servingbench

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// sizedClient answers a request after MaxTokens milliseconds with
// MaxTokens token events 1 ms apart, on the caller's clock: each
// request's latencies are its own, whichever shard sends it.
type sizedClient struct{}

func (sizedClient) Send(ctx context.Context, req *Request, res *Result) {
	res.Sent = time.Now()
	time.Sleep(time.Duration(req.MaxTokens) * time.Millisecond)
	for i := range req.MaxTokens {
		if i > 0 {
			time.Sleep(time.Millisecond)
		}
		res.Events = append(res.Events, time.Since(res.Sent))
	}
	res.InputTokens, res.OutputTokens = req.PromptTokens, req.MaxTokens
	res.InputSource, res.OutputSource = SourceUsage, SourceUsage
	res.Done = time.Now()
}

func shardRequests(n int) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{Prompt: strings.Repeat("x", i+1), PromptTokens: 10 + i, MaxTokens: 1 + (i*7)%13}
	}
	return reqs
}

// TestShardsMergeToTheWholeRun runs a seeded Gamma schedule of 23 requests
// whole and as 1, 2, 3 and 4 shards, each in a synctest bubble with the
// same StartAt ahead, and checks that every shard sends exactly its
// requests (i mod N == K) at StartAt plus their offsets, and that Merge
// of the shards is the whole run's report: the same requests, totals,
// duration and every latency distribution to the nanosecond.
func TestShardsMergeToTheWholeRun(t *testing.T) {
	reqs := shardRequests(23)
	arrival := Gamma{Rate: 40, Burstiness: 0.5, Seed: 7}
	offsets := arrival.Offsets(len(reqs))
	run := func(sh Shard) *Report {
		var rep *Report
		synctest.Test(t, func(t *testing.T) {
			startAt := time.Now().Add(3 * time.Second)
			var err error
			rep, err = Run(context.Background(), Config{Client: sizedClient{}, Requests: reqs, Arrival: arrival,
				Shard: sh, StartAt: startAt, Seed: 7, Goodput: SLO{E2EL: 15 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Date.Equal(startAt) || rep.Shard.Late != 0 || len(rep.Warnings) != 0 {
				t.Fatalf("shard %v: Date %v, Late %v, warnings %v; want the start-at time %v, on time, none", sh, rep.Date, rep.Shard.Late, rep.Warnings, startAt)
			}
			for _, r := range rep.Results {
				if !sh.owns(r.Index) || !r.Scheduled.Equal(startAt.Add(offsets[r.Index])) {
					t.Errorf("shard %v sent request %d scheduled at %v; want only i mod %d == %d, at start-at + %v", sh, r.Index, r.Scheduled.Sub(startAt), sh.Count, sh.Index, offsets[r.Index])
				}
			}
		})
		return rep
	}
	whole := run(Shard{})
	if whole.Shard.Count != 1 || whole.Shard.Requests != 23 || whole.Shard.Seed != 7 || whole.Shard.Scenario != ScheduleID(reqs, offsets) {
		t.Fatalf("whole run's Shard = %+v", whole.Shard)
	}
	for _, n := range []int{1, 2, 3, 4} {
		shards := make([]*Report, n)
		total := 0
		for k := range n {
			shards[n-1-k] = run(Shard{Index: k, Count: n}) // Merge takes them in any order
			if got, want := len(shards[n-1-k].Results), (Shard{Index: k, Count: n}).Size(23); got != want || shards[n-1-k].NumPrompts != want {
				t.Fatalf("shard %d/%d: %d results, NumPrompts %d; want %d", k, n, got, shards[n-1-k].NumPrompts, want)
			}
			total += len(shards[n-1-k].Results)
		}
		if total != 23 {
			t.Fatalf("%d shards sent %d requests, want 23", n, total)
		}
		m, err := Merge(shards...)
		if err != nil {
			t.Fatal(err)
		}
		var idx []int
		for _, r := range m.Results {
			idx = append(idx, r.Index)
		}
		if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}; !slices.Equal(idx, want) {
			t.Fatalf("N=%d: merged indices %v", n, idx)
		}
		if m.Duration != whole.Duration || m.Completed != 23 || m.NumPrompts != 23 ||
			m.TotalInputTokens != whole.TotalInputTokens || m.TotalOutputTokens != whole.TotalOutputTokens ||
			m.RequestThroughput != whole.RequestThroughput || m.Goodput != whole.Goodput || m.Goodput == 0 ||
			m.PeakOutputThroughput != whole.PeakOutputThroughput || m.PeakConcurrency != whole.PeakConcurrency {
			t.Errorf("N=%d: merged %v %d/%d in %d out %d tput %v goodput %v peaks %v %d; whole %v %d in %d out %d tput %v goodput %v peaks %v %d", n,
				m.Duration, m.Completed, m.NumPrompts, m.TotalInputTokens, m.TotalOutputTokens, m.RequestThroughput, m.Goodput, m.PeakOutputThroughput, m.PeakConcurrency,
				whole.Duration, whole.Completed, whole.TotalInputTokens, whole.TotalOutputTokens, whole.RequestThroughput, whole.Goodput, whole.PeakOutputThroughput, whole.PeakConcurrency)
		}
		for _, lm := range latencyMetrics {
			if got, want := lm.Of(m), lm.Of(whole); !slices.Equal(got.SortedSamples(), want.SortedSamples()) || got.Mean != want.Mean || got.Median != want.Median || got.Std != want.Std {
				t.Errorf("N=%d: merged %s %+v, whole run's %+v", n, lm.Key, got, want)
			}
		}
	}
}

// TestShardLateForStartAt: a shard ready 250 ms after its StartAt still
// counts its schedule from StartAt, sends what was due at once with the
// lateness in its queue delay, and warns by exactly how much it was late.
func TestShardLateForStartAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		startAt := time.Now().Add(-250 * time.Millisecond)
		rep, err := Run(context.Background(), Config{Client: sizedClient{}, Requests: shardRequests(4),
			Arrival: Trace{0, 100 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}, Shard: Shard{Index: 1, Count: 2}, StartAt: startAt})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Shard.Late != 250*time.Millisecond || !rep.Date.Equal(startAt) {
			t.Fatalf("Late %v, Date %v; want 250ms, the start-at time %v", rep.Shard.Late, rep.Date, startAt)
		}
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), "shard 1/2 started 250ms after its start-at time") {
			t.Fatalf("warnings %v", rep.Warnings)
		}
		if q := []time.Duration{rep.Results[0].QueueDelay(), rep.Results[1].QueueDelay()}; q[0] != 150*time.Millisecond || q[1] != 0 {
			t.Fatalf("queue delays of requests 1 and 3: %v, want [150ms 0s]", q)
		}
	})
}

// TestParseShard checks --shard's syntax and bounds.
func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{Index: 2, Count: 4}) || s.String() != "2/4" {
		t.Fatalf("ParseShard(2/4) = %v, %v", s, err)
	}
	for in, want := range map[string]string{
		"4/4": "got index 4 of count 4", "-1/2": "got index -1 of count 2", "0/0": "got index 0 of count 0",
		"1": `want K/N (shard K of N, K from 0 to N-1), got "1"`, "a/2": `want K/N with integers K and N, got "a/2"`,
	} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseShard(%q) error %v, want %q", in, err, want)
		}
	}
}

// TestShardPrewarm: a shard prewarms connections for its own requests of
// the first second only (1, 5 and 9 of shard 1/4), not the schedule's.
func TestShardPrewarm(t *testing.T) {
	cfg := Config{Shard: Shard{Index: 1, Count: 4}}
	offsets := make([]time.Duration, 12)
	offsets[9] = 2 * time.Second
	if n := cfg.prewarmConns(offsets); n != 2 {
		t.Fatalf("shard 1/4 prewarms %d connections, want 2 (requests 1 and 5; 9 is after the first second)", n)
	}
	if n := (&Config{}).prewarmConns(offsets); n != 11 {
		t.Fatalf("the whole run prewarms %d, want 11", n)
	}
}
