package servingbench

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Result file keys of a shard (Report.Shard); see writeShard.
func init() {
	for _, k := range []string{"shard_index", "shard_count", "schedule_requests", "seed", "scenario_id",
		"run_start", "start_at", "start_late", "request_indices", "start_times_origin"} {
		resultFileKeys[k] = true
	}
}

// writeShard writes Report.Shard, when set: shard_index and shard_count
// (0-based index), schedule_requests (the whole schedule's requests),
// seed, scenario_id (ScheduleID), run_start (the run's start, RFC 3339
// to the nanosecond, which date keeps to the second), start_at (RFC 3339,
// null without one) and start_late (seconds late for it). With the
// detailed arrays it adds request_indices (each request's index in the
// whole schedule, in the order of the arrays) and start_times_origin (the
// time start_times count from, RFC 3339 to the nanosecond), so that
// Merge puts every shard's requests on one clock.
func writeShard(o *pyObject, r *Report, detailed bool) {
	s := r.Shard
	if s == nil {
		return
	}
	o.int("shard_index", s.Index)
	o.int("shard_count", s.Count)
	o.int("schedule_requests", s.Requests)
	o.raw("seed", []byte(strconv.FormatInt(s.Seed, 10)))
	o.str("scenario_id", s.Scenario)
	o.str("run_start", s.Start.Format(time.RFC3339Nano))
	if s.StartAt.IsZero() {
		o.null("start_at")
	} else {
		o.str("start_at", s.StartAt.Format(time.RFC3339Nano))
	}
	o.float("start_late", s.Late.Seconds())
	if !detailed || r.Results == nil {
		return
	}
	var idx pyArray
	for _, res := range r.Results {
		if res != nil {
			idx.int(res.Index)
		}
	}
	o.raw("request_indices", idx.bytes())
	o.str("start_times_origin", detailOrigin(r.Results).Format(time.RFC3339Nano))
}

// shard reads writeShard's keys into r.Shard (nil without shard_count)
// and returns the time start_times count from: start_times_origin when
// the file has it, else r.Date.
func (d *fileDecoder) shard(r *Report) time.Time {
	if _, ok := d.fields["shard_count"]; !ok {
		return r.Date
	}
	d.require("shard_index", "schedule_requests", "seed", "scenario_id", "run_start")
	s := &ShardInfo{
		Shard:    Shard{Index: d.int("shard_index"), Count: d.int("shard_count")},
		Requests: d.int("schedule_requests"),
		Scenario: d.str("scenario_id"),
		Late:     seconds(d.float("start_late")),
	}
	if err := s.Shard.validate(); err != nil || s.Count == 0 {
		d.fail("shard_count", fmt.Errorf("shard_index %d of shard_count %d: want 0 <= index < count", s.Index, s.Count))
	}
	var seed int64
	d.decode("seed", &seed)
	s.Seed = seed
	s.Start = d.rfc3339("run_start")
	s.StartAt = d.rfc3339("start_at")
	r.Shard = s
	if !s.Start.IsZero() {
		r.Date = s.Start
	}
	if origin := d.rfc3339("start_times_origin"); !origin.IsZero() {
		return origin
	}
	return r.Date
}

// rfc3339 reads an RFC 3339 time; zero when the key is missing or null.
func (d *fileDecoder) rfc3339(key string) time.Time {
	s := d.str(key)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(key, fmt.Errorf("want an RFC 3339 time, got %q", s))
	}
	return t
}

// shardIndices sets each Result's Index from request_indices.
func (d *fileDecoder) shardIndices(results []*Result) {
	var idx []int
	if !d.decode("request_indices", &idx) {
		return
	}
	if len(idx) != len(results) {
		d.fail("request_indices", fmt.Errorf("has %d entries, the per-request arrays have %d", len(idx), len(results)))
		return
	}
	for i, res := range results {
		if idx[i] < 0 {
			d.fail("request_indices", errors.New("entry "+strconv.Itoa(i)+" is negative"))
			return
		}
		res.Index = idx[i]
	}
}
