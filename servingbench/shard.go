package servingbench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Shard selects one part of a run's schedule, so that N client processes
// (on N machines) together send the run one process would: every shard
// computes the same Requests and arrival offsets from the same seed and
// dispatches request i when i mod Count == Index (0-based). Interleaving
// keeps each shard's load shape the whole's, thinned N times: a Gamma
// process of rate R has every shard sending at R/N over the whole run and
// a ramp ramps in every shard, where contiguous segments (k6's execution
// segments over a schedule) would give shard 0 the ramp's start and the
// last shard its end. The zero value (Count 0) and Count 1 are the whole
// run. MaxConcurrency is per shard: it bounds each process's own requests
// in flight, so N shards bound the whole at N times it (dividing a total
// is the user's choice, made when the flag is given).
type Shard struct {
	Index, Count int
}

// ParseShard reads "K/N": shard K (0-based, 0 <= K < N) of N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("want K/N (shard K of N, K from 0 to N-1), got %q", s)
	}
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("want K/N with integers K and N, got %q", s)
	}
	sh := Shard{Index: ki, Count: ni}
	if err := sh.validate(); err != nil || ni < 1 {
		if err == nil {
			err = fmt.Errorf("shard count must be >= 1, got index %d of count %d", ki, ni)
		}
		return Shard{}, err
	}
	return sh, nil
}

func (s Shard) validate() error {
	if s.Count < 0 || s.Index < 0 || (s.Count > 0 && s.Index >= s.Count) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("shard index must be in [0, count) and count >= 1, got index %d of count %d", s.Index, s.Count)
	}
	return nil
}

// String is "K/N", as ParseShard reads it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// owns reports whether request (or conversation) i of the schedule is this
// shard's.
func (s Shard) owns(i int) bool { return s.Count <= 1 || i%s.Count == s.Index }

// ShardInfo is what a report records of the shard that produced it, so
// that Merge can check its shards belong together and put their requests
// on one clock. The result file writes it as the keys shard_index,
// shard_count, schedule_requests, seed, scenario_id, run_start, start_at
// (null without one), start_late (seconds) and, with the detailed arrays,
// request_indices and start_times_origin.
type ShardInfo struct {
	Shard
	// Requests is the number of requests (or conversations) of the whole
	// schedule, every shard's.
	Requests int
	// Seed is Config.Seed: the seed the schedule was generated with.
	Seed int64
	// Scenario fingerprints the whole schedule (ScheduleID): shards of
	// different requests or offsets have different ones.
	Scenario string
	// Start is the run's start to the nanosecond (Report.Date, which the
	// result file's date key keeps to the second only).
	Start time.Time
	// StartAt is Config.StartAt, zero without one; Late is how long after
	// it the shard was ready to dispatch (0 when on time).
	StartAt time.Time
	Late    time.Duration
}

// ScheduleID fingerprints a schedule: 16 hex digits of a SHA-256 over
// every request's prompt, messages, prompt tokens and max tokens and
// every offset. Shards that computed the same requests and arrival from
// the same seed have the same ScheduleID.
func ScheduleID(reqs []Request, offsets []time.Duration) string {
	h := sha256.New()
	var b [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	text := func(s string) { num(int64(len(s))); h.Write([]byte(s)) }
	num(int64(len(reqs)))
	for i, r := range reqs {
		text(r.Prompt)
		num(int64(len(r.Messages)))
		for _, m := range r.Messages {
			text(m.Role)
			text(m.Content)
		}
		num(int64(r.PromptTokens))
		num(int64(r.MaxTokens))
		num(int64(offsets[i]))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// waitStartAt waits until cfg.StartAt, when it is set and ahead, and
// returns how late the run was for it (0 when on time or without one). A
// ctx that ends first returns an error wrapping ErrNotStarted.
func (cfg *Config) waitStartAt(ctx context.Context) (late time.Duration, err error) {
	if cfg.StartAt.IsZero() {
		return 0, nil
	}
	d := time.Until(cfg.StartAt)
	if d <= 0 {
		return -d, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		return 0, notStarted(ctx, "wait for Config.StartAt")
	}
}

// runStart is the start of a run that begins dispatching now: StartAt
// when set (the schedule counts from it), else now.
func (cfg *Config) runStart() time.Time {
	if cfg.StartAt.IsZero() {
		return time.Now()
	}
	return cfg.StartAt
}

// shardInfo is the ShardInfo of a run of cfg started at start, of the
// schedule reqs at offsets; nil for a run with neither a Shard nor a
// StartAt.
func (cfg *Config) shardInfo(start time.Time, late time.Duration, reqs []Request, offsets []time.Duration) *ShardInfo {
	if cfg.Shard.Count == 0 && cfg.StartAt.IsZero() {
		return nil
	}
	sh := cfg.Shard
	sh.Count = max(sh.Count, 1)
	return &ShardInfo{Shard: sh, Requests: len(reqs), Seed: cfg.Seed, Scenario: ScheduleID(reqs, offsets),
		Start: start, StartAt: cfg.StartAt, Late: late}
}

// lateWarning is the warning of a shard that was ready to dispatch late
// after Config.StartAt: its offsets still count from StartAt (so the union
// of the shards stays the one schedule), so its first requests go out at
// once, late, with the lateness in their queue delay.
func lateWarning(info *ShardInfo) error {
	return fmt.Errorf("servingbench: shard %v started %v after its start-at time %s: its offsets still count from start-at, so its requests due before it started were sent late (their queue delay counts it)",
		info.Shard, info.Late.Round(time.Microsecond), info.StartAt.Format(time.RFC3339Nano))
}

// Size is the number of requests (or conversations) of a schedule of n
// that are this shard's.
func (s Shard) Size(n int) int {
	if s.Count <= 1 {
		return n
	}
	return (n - s.Index + s.Count - 1) / s.Count
}
