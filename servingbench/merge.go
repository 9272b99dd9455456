package servingbench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Merge combines the reports of the shards of one run (Config.Shard),
// each with its Results (a run's report, or a --save-detailed result file
// read back by ReadJSON), into the report one client would have made of
// the whole run:
//
//   - Results are the union of the shards' Results, in the order of their
//     index in the schedule, and every metric is Summarize's over them (the
//     percentiles from the pooled samples, exactly as one run's), with
//     Duration from the earliest shard's start to the latest shard's end,
//     so throughputs and goodput are per second of the whole.
//   - NumPrompts is the sum of the shards' (the schedule's requests when
//     every shard ran whole); MaxConcurrency the sum of the shards' (each
//     shard bounds its own requests in flight: the bound on the whole).
//   - ServerMetrics, which every shard scraped from the same server, is the
//     one of the shard whose scrapes span the widest window, with the
//     server's token counters checked against the whole's totals; the
//     others are dropped, never added up. The time series of the result
//     file is computed from the pooled Results, not taken from a shard's.
//   - Partial is set when any shard's was; Warnings are Summarize's and a
//     late shard's (ShardInfo.Late). Identity (backend, model, label,
//     server, metadata, rate, ramp) is shard 0's.
//
// Merge refuses, naming the shard (as K/N) or the report (by its place in
// reports): a report without Shard or without Results, a run of
// conversations, shards of different shard counts, schedules
// (ScheduleID), seeds, schedule sizes or goodput SLOs, a shard given
// twice, a request not the shard's (i mod N != K), beyond the schedule
// or in it twice, and a set of shards with one missing.
// The result's Shard is nil: it is the whole run.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("servingbench: merge: no shards given")
	}
	first := reports[0]
	for i, r := range reports {
		switch {
		case r == nil:
			return nil, fmt.Errorf("servingbench: merge: report %d is nil", i+1)
		case r.Shard == nil:
			return nil, fmt.Errorf("servingbench: merge: report %d has no shard (shard_count): it was not run with --shard K/N", i+1)
		case r.Results == nil:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) has no per-request results: it was not saved with --save-detailed", r.Shard.Shard, i+1)
		case r.Conversations != nil:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) ran conversations, which Merge does not combine", r.Shard.Shard, i+1)
		}
	}
	byIndex := make([]*Report, first.Shard.Count)
	for i, r := range reports {
		s, f := r.Shard, first.Shard
		switch {
		case s.Count != f.Count:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) is one of %d shards, report 1's of %d", s.Shard, i+1, s.Count, f.Count)
		case s.Scenario != f.Scenario:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) ran scenario %s, report 1 scenario %s: not the same requests and schedule", s.Shard, i+1, s.Scenario, f.Scenario)
		case s.Seed != f.Seed:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) has seed %d, report 1 seed %d", s.Shard, i+1, s.Seed, f.Seed)
		case s.Requests != f.Requests:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) has a schedule of %d requests, report 1 of %d", s.Shard, i+1, s.Requests, f.Requests)
		case r.GoodputSLO != first.GoodputSLO:
			return nil, fmt.Errorf("servingbench: merge: shard %v (report %d) has goodput SLO %q, report 1 %q", s.Shard, i+1, r.GoodputSLO, first.GoodputSLO)
		case byIndex[s.Index] != nil:
			return nil, fmt.Errorf("servingbench: merge: shard %v is given twice (reports %d and %d)", s.Shard, slices.Index(reports, byIndex[s.Index])+1, i+1)
		}
		byIndex[s.Index] = r
	}
	var missing []string
	for k, r := range byIndex {
		if r == nil {
			missing = append(missing, Shard{Index: k, Count: first.Shard.Count}.String())
		}
	}
	if missing != nil {
		return nil, fmt.Errorf("servingbench: merge: shard %s of %d missing", strings.Join(missing, ", "), first.Shard.Count)
	}

	var (
		results    []*Result
		start, end time.Time
		owner      = map[int]ShardInfo{}
		numPrompts int
		maxConc    int
		partial    bool
		late       []error
		widest     *Report
	)
	for _, r := range byIndex {
		s := r.Shard
		for _, res := range r.Results {
			if res.Index >= s.Requests {
				return nil, fmt.Errorf("servingbench: merge: shard %v has request %d, beyond its schedule of %d requests", s.Shard, res.Index, s.Requests)
			}
			if res.Index%s.Count != s.Index {
				return nil, fmt.Errorf("servingbench: merge: shard %v has request %d, which is shard %d/%d's", s.Shard, res.Index, res.Index%s.Count, s.Count)
			}
			if o, dup := owner[res.Index]; dup {
				return nil, fmt.Errorf("servingbench: merge: request %d is in shard %v twice", res.Index, o.Shard)
			}
			owner[res.Index] = *s
			results = append(results, res)
		}
		if start.IsZero() || s.Start.Before(start) {
			start = s.Start
		}
		if e := s.Start.Add(r.Duration); e.After(end) {
			end = e
		}
		numPrompts += r.NumPrompts
		maxConc += r.MaxConcurrency
		partial = partial || r.Partial
		if s.Late > 0 {
			late = append(late, lateWarning(s))
		}
		if sm := r.ServerMetrics; sm != nil && sm.Err == nil {
			if widest == nil || sm.End.Sub(sm.Start) > widest.ServerMetrics.End.Sub(widest.ServerMetrics.Start) {
				widest = r
			}
		}
	}
	slices.SortFunc(results, func(a, b *Result) int { return a.Index - b.Index })

	rep := Summarize(start, end, results, first.GoodputSLO)
	rep.Date = start
	rep.Backend, rep.Label, rep.Model, rep.TokenizerID = first.Backend, first.Label, first.Model, first.TokenizerID
	rep.NumPrompts, rep.MaxConcurrency = numPrompts, maxConc
	rep.RequestRate, rep.Burstiness, rep.Ramp = first.RequestRate, first.Burstiness, first.Ramp
	rep.RPSChanges = mergeRPSChanges(byIndex)
	rep.Metadata = first.Metadata
	rep.Server, rep.ServerID = first.Server, first.ServerID
	rep.Partial = partial
	rep.Warnings = append(late, rep.Warnings...)
	if widest != nil {
		sm := *widest.ServerMetrics
		sm.Warnings = slices.Clone(sm.Warnings)
		rep.addServerMetrics(&sm, true)
	}
	return rep, nil
}

// mergeRPSChanges is the union of the shards' rps_change_events: each
// requests-per-second value once, at the earliest time a shard reached it.
func mergeRPSChanges(shards []*Report) []RPSChangeEvent {
	at := map[int]time.Time{}
	for _, r := range shards {
		for _, e := range r.RPSChanges {
			if t, ok := at[e.RPS]; !ok || e.Time.Before(t) {
				at[e.RPS] = e.Time
			}
		}
	}
	if len(at) == 0 {
		return nil
	}
	events := make([]RPSChangeEvent, 0, len(at))
	for rps, t := range at {
		events = append(events, RPSChangeEvent{RPS: rps, Time: t})
	}
	slices.SortFunc(events, func(a, b RPSChangeEvent) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return a.RPS - b.RPS
	})
	return events
}
