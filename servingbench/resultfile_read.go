package servingbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/servingbench/servingbench/internal/pyjson"
)

// ResultFileError reports a result file ReadJSON cannot use.
type ResultFileError struct {
	// Field is the offending key; "" when the file as a whole is bad.
	Field string
	Err   error
}

func (e *ResultFileError) Error() string {
	if e.Field == "" {
		return "servingbench: result file: " + e.Err.Error()
	}
	return fmt.Sprintf("servingbench: result file: field %q: %v", e.Field, e.Err)
}

func (e *ResultFileError) Unwrap() error { return e.Err }

// ReadJSON reads a result file written by WriteJSON or by vLLM's
// --save-result (v0.9.1's misspelt "request_goodput:" key and the bare
// NaN/Infinity Python may write are accepted; the latter read as null).
// "duration" and "completed" are required; other missing keys leave their
// fields zero (a null or missing "label", as v0.9.1 files have it, is no
// Label). Top-level string values under keys that are not result keys
// become Metadata.
//
// Summaries have no samples: Mean, Median, Std and the percentiles found
// (p<p>_<metric>_ms keys) are filled in. When the file has per-request
// arrays, Results are rebuilt from them: each request appears sent at Date
// plus its start_times entry (at Date without one, as in v0.9.1's files);
// a request with an empty error has token events at its TTFT and each ITL
// after it, and the counts and text of the file; a request with an error
// has that error and no events. Summary.Count is then exact; without the
// arrays it is Completed (so that the percentiles read back are reported).
// A goodput read from a vLLM file without our goodput_slo key has no SLO.
// vllm bench serve's ramp-up keys (ramp_up_strategy, ramp_up_start_rps,
// ramp_up_end_rps) give a Ramp without a Seed, and its rps_change_events
// the RPSChanges. A reasoning run's keys (resultfile_reasoning.go) give
// the reasoning counts, TTFO's summary and, from the arrays, each
// Result's FirstAnswer and split. A run of conversations' keys
// (resultfile_conversation.go) give Conversations, and its arrays each
// Result's Turn and Conversation. The client lag's keys
// (resultfile_lag.go) give ClientLag, and client_lags each Result's
// Arrival and Lags.
func ReadJSON(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("servingbench: reading result file: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(pyjson.Nulls(data), &fields); err != nil {
		return nil, &ResultFileError{Err: err}
	}
	if fields == nil {
		return nil, &ResultFileError{Err: errors.New("not a JSON object")}
	}
	d := &fileDecoder{fields: fields}
	r := d.report()
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// fileDecoder decodes fields, keeping the first error.
type fileDecoder struct {
	fields map[string]json.RawMessage
	err    error
}

func (d *fileDecoder) fail(key string, err error) {
	if d.err == nil {
		d.err = &ResultFileError{Field: key, Err: err}
	}
}

// decode unmarshals key into v and reports whether it was present and
// not null.
func (d *fileDecoder) decode(key string, v any) bool {
	raw, ok := d.fields[key]
	if !ok || string(raw) == "null" {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		d.fail(key, err)
		return false
	}
	return true
}

func (d *fileDecoder) require(keys ...string) {
	for _, k := range keys {
		if _, ok := d.fields[k]; !ok {
			d.fail(k, errors.New("missing"))
		}
	}
}

func (d *fileDecoder) str(key string) string {
	var s string
	d.decode(key, &s)
	return s
}

func (d *fileDecoder) num(key string) (float64, bool) {
	var f float64
	ok := d.decode(key, &f)
	return f, ok
}

func (d *fileDecoder) float(key string) float64 { f, _ := d.num(key); return f }

// int accepts integral numbers, also written as floats (64.0).
func (d *fileDecoder) int(key string) int {
	f, ok := d.num(key)
	if ok && (f != math.Trunc(f) || math.Abs(f) > 1<<53) {
		d.fail(key, fmt.Errorf("want an integer, got %v", f))
		return 0
	}
	return int(f)
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
func millis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

func (d *fileDecoder) report() *Report {
	d.require("duration", "completed")
	r := &Report{
		Backend:              d.str("backend"),
		Label:                d.str("label"),
		Model:                d.str("model_id"),
		TokenizerID:          d.str("tokenizer_id"),
		NumPrompts:           d.int("num_prompts"),
		Burstiness:           d.float("burstiness"),
		MaxConcurrency:       d.int("max_concurrency"),
		Duration:             seconds(d.float("duration")),
		Completed:            d.int("completed"),
		Failed:               d.int("failed"),
		TotalInputTokens:     d.int("total_input_tokens"),
		TotalOutputTokens:    d.int("total_output_tokens"),
		RequestThroughput:    d.float("request_throughput"),
		OutputThroughput:     d.float("output_throughput"),
		TotalTokenThroughput: d.float("total_token_throughput"),
		PeakOutputThroughput: d.float("max_output_tokens_per_s"),
		PeakConcurrency:      d.int("max_concurrent_requests"),
		Resent:               d.int("resent_requests"),
		NoDone:               d.int("streams_without_done"),
		Server:               d.str("server"),
		ServerID:             d.str("server_id"),
	}
	d.decode("partial", &r.Partial)
	if s := d.str("date"); s != "" {
		t, err := time.ParseInLocation(resultDateLayout, s, time.Local)
		if err != nil {
			d.fail("date", fmt.Errorf("want YYYYMMDD-HHMMSS, got %q", s))
		}
		r.Date = t
	}
	r.RequestRate = d.rate()
	r.Ramp = d.ramp(r.Burstiness)
	r.RPSChanges = d.rpsChanges()
	r.Goodput = d.float("request_goodput")
	if g, ok := d.num("request_goodput:"); ok { // vLLM v0.9.1's key
		r.Goodput = g
	}
	if s := d.str("goodput_slo"); s != "" {
		slo, err := ParseSLO(s)
		if err != nil {
			d.fail("goodput_slo", err)
		}
		r.GoodputSLO = slo
	}
	r.InputSources = d.sources("input_token_sources")
	r.OutputSources = d.sources("output_token_sources")
	var counts map[string]int
	if d.decode("error_counts", &counts) {
		r.Errors = groupErrors(counts, nil)
	}
	d.reasoning(r)
	origin := d.shard(r) // resultfile_shard.go
	r.Results = d.results(origin, r.ReasoningSources)
	d.shardIndices(r.Results)
	d.clientLag(r) // resultfile_lag.go
	if r.Errors == nil && r.Results != nil {
		reasons := map[string]int{}
		for _, res := range r.Results {
			if !res.OK() {
				reasons[resultReason(res)]++
			}
		}
		r.Errors = groupErrors(reasons, nil)
	}
	d.summaries(r)
	d.conversations(r, r.Results) // resultfile_conversation.go
	r.ServerMetrics = d.readServerMetrics()
	if raw, ok := d.fields["time_series"]; ok && string(raw) != "null" {
		r.timeSeries = slices.Clone([]byte(raw))
	}
	r.Metadata = d.metadata()
	return r
}

// rate reads request_rate: "inf" or a number.
func (d *fileDecoder) rate() float64 {
	raw, ok := d.fields["request_rate"]
	if !ok || string(raw) == "null" {
		return 0
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "inf" {
			d.fail("request_rate", fmt.Errorf(`want a number or "inf", got %q`, s))
		}
		return math.Inf(1)
	}
	return d.float("request_rate")
}

// ramp reads vllm bench serve's ramp_up_strategy, ramp_up_start_rps and
// ramp_up_end_rps; nil when the file has no ramp_up_strategy.
func (d *fileDecoder) ramp(burstiness float64) *Ramp {
	name := d.str("ramp_up_strategy")
	if name == "" {
		return nil
	}
	strategy, err := ParseRampStrategy(name)
	if err != nil {
		d.fail("ramp_up_strategy", fmt.Errorf("want linear or exponential, got %q", name))
		return nil
	}
	d.require("ramp_up_start_rps", "ramp_up_end_rps")
	return &Ramp{Strategy: strategy, Start: d.float("ramp_up_start_rps"), End: d.float("ramp_up_end_rps"), Burstiness: burstiness}
}

// rpsChanges reads rps_change_events: [{"rps": N, "timestamp": T}], T as
// Python's datetime.isoformat writes it (local time unless it carries an
// offset).
func (d *fileDecoder) rpsChanges() []RPSChangeEvent {
	var raw []struct {
		RPS       *float64 `json:"rps"`
		Timestamp *string  `json:"timestamp"`
	}
	if !d.decode("rps_change_events", &raw) {
		return nil
	}
	events := make([]RPSChangeEvent, 0, len(raw))
	for i, e := range raw {
		if e.RPS == nil || e.Timestamp == nil {
			d.fail("rps_change_events", fmt.Errorf("entry %d: want {\"rps\": N, \"timestamp\": T}", i))
			return nil
		}
		if *e.RPS != math.Trunc(*e.RPS) || math.Abs(*e.RPS) > 1<<53 {
			d.fail("rps_change_events", fmt.Errorf("entry %d: rps: want an integer, got %v", i, *e.RPS))
			return nil
		}
		t, err := parseISOTime(*e.Timestamp)
		if err != nil {
			d.fail("rps_change_events", fmt.Errorf("entry %d: timestamp: want an ISO 8601 time such as 2026-11-29T14:03:07.120431, got %q", i, *e.Timestamp))
			return nil
		}
		events = append(events, RPSChangeEvent{RPS: int(*e.RPS), Time: t})
	}
	return events
}

// parseISOTime reads Python's datetime.isoformat: local time without an
// offset, else with one; fractional seconds optional.
func parseISOTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05Z07:00", s)
}

func (d *fileDecoder) sources(key string) map[CountSource]int {
	var m map[string]int
	if !d.decode(key, &m) {
		return nil
	}
	out := make(map[CountSource]int, len(m))
	for name, n := range m {
		src, ok := countSourceByName(name)
		if !ok {
			d.fail(key, fmt.Errorf("unknown source %q (want none, usage, tokenizer or events)", name))
		}
		out[src] = n
	}
	return out
}

func countSourceByName(name string) (CountSource, bool) {
	for s := SourceNone; s <= SourceEvents; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// summaries fills the summaries from the mean/median/std/p keys.
func (d *fileDecoder) summaries(r *Report) {
	for key := range d.fields {
		m := metricKeyRE.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		lm, _ := latencyMetric(m[2]) // metricKeyRE matches only the table's keys
		s := lm.summary(r)
		v := millis(d.float(key))
		switch stat := m[1]; stat {
		case "mean":
			s.Mean = v
		case "median":
			s.Median = v
		case "std":
			s.Std = v
		default:
			p, err := strconv.ParseFloat(stat[1:], 64)
			if err != nil || p < 0 || p > 100 {
				d.fail(key, fmt.Errorf("bad percentile %q", stat[1:]))
				continue
			}
			if s.Percentiles == nil {
				s.Percentiles = map[float64]time.Duration{}
			}
			s.Percentiles[p] = v
		}
		s.Count = r.Completed
	}
	if r.Results == nil {
		return
	}
	// Exact counts from the per-request detail.
	for _, m := range latencyMetrics {
		s := m.summary(r)
		if s.Count == 0 {
			continue
		}
		s.Count = 0
		for _, res := range r.Results {
			if res.OK() {
				s.Count += m.samples(res)
			}
		}
	}
}

func (d *fileDecoder) metadata() map[string]string {
	var md map[string]string
	for key, raw := range d.fields {
		if resultFileKeys[key] || metricKeyRE.MatchString(key) {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if md == nil {
				md = map[string]string{}
			}
			md[key] = s
		}
	}
	return md
}

// results rebuilds Results from the per-request arrays; nil without them.
func (d *fileDecoder) results(base time.Time, reasoningSources map[CountSource]int) []*Result {
	var (
		inLens, outLens  []int
		ttfts, latencies []float64
		queues, starts   []*float64
		itls             [][]float64
		texts, errs      []*string
		reasoning        reasoningArrays
	)
	arrays := []detailArray{
		{"input_lens", &inLens, func() int { return len(inLens) }},
		{"output_lens", &outLens, func() int { return len(outLens) }},
		{"ttfts", &ttfts, func() int { return len(ttfts) }},
		{"itls", &itls, func() int { return len(itls) }},
		{"latencies", &latencies, func() int { return len(latencies) }},
		{"start_times", &starts, func() int { return len(starts) }},
		{"queue_times", &queues, func() int { return len(queues) }},
		{"generated_texts", &texts, func() int { return len(texts) }},
		{"errors", &errs, func() int { return len(errs) }},
	}
	arrays = append(arrays, reasoning.keys()...)
	n, first := -1, ""
	for _, a := range arrays {
		if !d.decode(a.key, a.v) {
			continue
		}
		if n < 0 {
			n, first = a.n(), a.key
		} else if a.n() != n {
			d.fail(a.key, fmt.Errorf("has %d entries, %s has %d", a.n(), first, n))
		}
	}
	if n < 0 || d.err != nil {
		return nil
	}
	results := make([]*Result, n)
	for i := range results {
		sent := base
		if starts != nil && starts[i] != nil {
			sent = base.Add(seconds(*starts[i]))
		}
		res := &Result{Index: i, Scheduled: sent, SlotAcquired: sent, Sent: sent, Done: sent}
		if inLens != nil {
			res.InputTokens = inLens[i]
		}
		if texts != nil && texts[i] != nil {
			res.Text = *texts[i]
		}
		if queues != nil {
			if queues[i] == nil {
				res.Scheduled, res.SlotAcquired = time.Time{}, time.Time{}
			} else {
				res.Scheduled = sent.Add(-seconds(*queues[i]))
			}
		}
		if errs != nil && errs[i] != nil && *errs[i] != "" {
			res.Err = errors.New(*errs[i])
			results[i] = res
			continue
		}
		if outLens != nil {
			res.OutputTokens = outLens[i]
		}
		var at time.Duration // offset from sent
		if ttfts != nil {
			at = seconds(ttfts[i])
		}
		nev := 1
		if itls != nil {
			nev += len(itls[i])
		}
		res.Events = make([]time.Duration, 1, nev)
		res.Events[0] = at
		if itls != nil {
			for _, g := range itls[i] {
				at += seconds(g)
				res.Events = append(res.Events, at)
			}
		}
		res.Done = sent.Add(at)
		if latencies != nil {
			res.Done = sent.Add(seconds(latencies[i]))
		}
		reasoning.apply(res, i, reasoningSources)
		results[i] = res
	}
	return results
}
