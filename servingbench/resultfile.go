package servingbench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// JSONOptions selects what WriteJSON writes. The zero value writes vLLM's
// default summary.
type JSONOptions struct {
	// Percentiles are written as p<p>_<metric>_ms keys; each in [0,100].
	// Nil or empty means {99}.
	Percentiles []float64
	// Detailed adds the per-request arrays of vLLM's --save-detailed
	// (input_lens, output_lens, ttfts, itls, generated_texts, errors) and of
	// vLLM bench serve (latencies, start_times, queue_times). It needs
	// Report.Results.
	Detailed bool
}

// resultDateLayout is vLLM's "%Y%m%d-%H%M%S".
const resultDateLayout = "20060102-150405"

// Keys of the result file that are not metadata.
var resultFileKeys = map[string]bool{
	"date": true, "backend": true, "label": true, "model_id": true, "tokenizer_id": true, "num_prompts": true,
	"request_rate": true, "burstiness": true, "max_concurrency": true, "duration": true,
	"completed": true, "failed": true, "total_input_tokens": true, "total_output_tokens": true,
	"request_throughput": true, "request_goodput": true, "request_goodput:": true,
	"output_throughput": true, "total_token_throughput": true,
	"input_lens": true, "output_lens": true, "ttfts": true, "itls": true, "latencies": true,
	"start_times": true, "queue_times": true, "generated_texts": true, "errors": true,
	"max_output_tokens_per_s": true, "max_concurrent_requests": true, "rtfx": true,
	"goodput_slo": true, "error_counts": true, "partial": true,
	"input_token_sources": true, "output_token_sources": true,
	"resent_requests": true, "streams_without_done": true,
	"server": true, "server_id": true,
	"reasoning_requests": true, "reasoning_only_requests": true, "total_reasoning_tokens": true,
	"total_answer_tokens": true, "mean_reasoning_tokens": true, "mean_answer_tokens": true,
	"reasoning_token_sources": true, "ttfos": true, "reasoning_lens": true, "answer_lens": true,
	"ramp_up_strategy": true, "ramp_up_start_rps": true, "ramp_up_end_rps": true, "rps_change_events": true,
	"spec_decode_acceptance_rate": true, "spec_decode_acceptance_length": true, "spec_decode_num_drafts": true,
	"spec_decode_draft_tokens": true, "spec_decode_accepted_tokens": true, "spec_decode_per_position_acceptance_rates": true,
	"server_metrics": true, "time_series": true,
}

// WriteJSON writes r as vLLM's --save-result file: one line of JSON in
// Python's json.dump style (", " and ": " separators, ASCII-only strings,
// floats as Python prints them), keys in vLLM's order: date, backend,
// label (null without a Label, as vllm bench serve writes it; a Metadata
// "label" stands in for an empty Label, as vLLM's --metadata label=X
// overwrites it), model_id, tokenizer_id, num_prompts, Metadata (sorted;
// keys that clash with ours are dropped), request_rate ("inf" or a
// number), burstiness, max_concurrency (null when unset), for a ramp-up
// run (Report.Ramp) ramp_up_strategy, ramp_up_start_rps and
// ramp_up_end_rps (vllm bench serve's keys; integers unless the rates are
// fractional), duration (s), completed, failed, total_input_tokens, total_output_tokens, request_throughput,
// request_goodput (null without an SLO), output_throughput,
// total_token_throughput, the detailed arrays when asked (times in
// seconds, like vLLM; errors "" for a success; queue_times null for a
// request without a Scheduled time; start_times, vllm bench serve's key,
// each request's Sent time in seconds from the run's start, detailOrigin,
// null for a request never sent), max_output_tokens_per_s,
// max_concurrent_requests (vLLM bench serve's names), for a ramp-up run
// rps_change_events (vLLM's list of {"rps": N, "timestamp": T}, T as
// Python's datetime.isoformat writes local time: to the microsecond, the
// fraction left out when it is zero), then
// mean/median/std/p<p>_<m>_ms for m in ttft, tpot, itl, e2el and, when
// they have samples, ttfo (a run that saw reasoning output) and
// client_queue_time. Our own keys follow: goodput_slo (when set),
// error_counts, partial, resent_requests, streams_without_done,
// input_token_sources, output_token_sources, the source of the event
// times and the client lag (writeClientLag), for a run that saw reasoning
// output (Report.ReasoningRequests > 0) reasoning_requests,
// reasoning_only_requests, total_reasoning_tokens, total_answer_tokens,
// mean_reasoning_tokens, mean_answer_tokens and reasoning_token_sources,
// then server and server_id when Server and ServerID are set, then a
// shard's keys (writeShard), then the server's metrics and the time series (writeServerJSON). The
// detailed arrays of a reasoning run add ttfos (seconds, null for a
// request without an answer token or a failure), reasoning_lens and
// answer_lens (0 for a failure), after errors; those of a run with
// kernel times client_lags (writeClientLagDetail).
//
// Where Python would write NaN or Infinity (not JSON), WriteJSON writes
// null. A percentile a summary-only Report does not know is left out.
func WriteJSON(w io.Writer, r *Report, opt JSONOptions) error {
	percentiles, err := resolvePercentiles("JSONOptions", opt.Percentiles)
	if err != nil {
		return err
	}
	o := &pyObject{}
	o.str("date", r.Date.Format(resultDateLayout))
	o.str("backend", r.Backend)
	switch md, inMetadata := r.Metadata["label"]; {
	case r.Label != "":
		o.str("label", r.Label)
	case inMetadata:
		o.str("label", md)
	default:
		o.null("label")
	}
	o.str("model_id", r.Model)
	o.str("tokenizer_id", r.TokenizerID)
	o.int("num_prompts", r.NumPrompts)
	for _, k := range slices.Sorted(maps.Keys(r.Metadata)) {
		if !resultFileKeys[k] && !metricKeyRE.MatchString(k) {
			o.str(k, r.Metadata[k])
		}
	}
	if rateIsInf(r.RequestRate) {
		o.str("request_rate", "inf")
	} else {
		o.float("request_rate", r.RequestRate)
	}
	o.float("burstiness", cmpOr(r.Burstiness, 1))
	if r.MaxConcurrency > 0 {
		o.int("max_concurrency", r.MaxConcurrency)
	} else {
		o.null("max_concurrency")
	}
	if r.Ramp != nil {
		o.str("ramp_up_strategy", r.Ramp.Strategy.String())
		o.raw("ramp_up_start_rps", []byte(rpsNumber(r.Ramp.Start)))
		o.raw("ramp_up_end_rps", []byte(rpsNumber(r.Ramp.End)))
	}
	o.float("duration", r.Duration.Seconds())
	o.int("completed", r.Completed)
	o.int("failed", r.Failed)
	o.int("total_input_tokens", r.TotalInputTokens)
	o.int("total_output_tokens", r.TotalOutputTokens)
	o.float("request_throughput", r.RequestThroughput)
	if r.GoodputSLO.IsZero() {
		o.null("request_goodput")
	} else {
		o.float("request_goodput", r.Goodput)
	}
	o.float("output_throughput", r.OutputThroughput)
	o.float("total_token_throughput", r.TotalTokenThroughput)
	if opt.Detailed && r.Results != nil {
		writeDetail(o, r.Results)
		if r.ReasoningRequests > 0 {
			writeReasoningDetail(o, r.Results)
		}
		writeClientLagDetail(o, r.Results) // resultfile_lag.go
		if r.Conversations != nil {
			writeConversationDetail(o, r.Results, r.Conversations.IDs)
		}
	}
	o.float("max_output_tokens_per_s", r.PeakOutputThroughput)
	o.int("max_concurrent_requests", r.PeakConcurrency)
	if r.Ramp != nil {
		var events pyArray
		for _, e := range r.RPSChanges {
			ev := &pyObject{}
			ev.int("rps", e.RPS)
			ev.str("timestamp", rpsChangeTimestamp(e.Time))
			events.raw(ev.bytes())
		}
		o.raw("rps_change_events", events.bytes())
	}
	for _, m := range latencyMetrics {
		s := m.Of(r)
		if !m.VLLM && s.Count == 0 {
			continue
		}
		o.float("mean_"+m.Key+"_ms", durationMS(s.Mean))
		o.float("median_"+m.Key+"_ms", durationMS(s.Median))
		o.float("std_"+m.Key+"_ms", durationMS(s.Std))
		for _, p := range percentiles {
			if v, ok := s.Percentile(p); ok {
				o.float("p"+percentileWord(p)+"_"+m.Key+"_ms", durationMS(v))
			}
		}
	}
	if !r.GoodputSLO.IsZero() {
		o.str("goodput_slo", r.GoodputSLO.String())
	}
	counts := &pyObject{}
	for _, e := range r.Errors {
		counts.int(e.Reason, e.Count)
	}
	o.raw("error_counts", counts.bytes())
	o.raw("partial", []byte(strconv.FormatBool(r.Partial)))
	o.int("resent_requests", r.Resent)
	o.int("streams_without_done", r.NoDone)
	o.raw("input_token_sources", sourcesObject(r.InputSources))
	o.raw("output_token_sources", sourcesObject(r.OutputSources))
	writeClientLag(o, r) // resultfile_lag.go
	if r.ReasoningRequests > 0 {
		writeReasoning(o, r)
	}
	if r.Conversations != nil {
		writeConversations(o, r.Conversations) // resultfile_conversation.go
	}
	if r.Server != "" {
		o.str("server", r.Server)
	}
	if r.ServerID != "" {
		o.str("server_id", r.ServerID)
	}
	writeShard(o, r, opt.Detailed) // resultfile_shard.go
	writeServerJSON(o, r, opt.Detailed)
	_, err = w.Write(o.bytes())
	return err
}

// writeDetail writes the per-request arrays, in the order of results.
func writeDetail(o *pyObject, results []*Result) {
	var in, out, ttft, itl, lat, starts, queue, text, errs pyArray
	origin := detailOrigin(results)
	for _, r := range results {
		if r == nil {
			continue
		}
		ok := r.OK()
		in.int(r.InputTokens)
		text.str(r.Text)
		var gaps pyArray
		if ok {
			out.int(r.OutputTokens)
			ttft.float(r.TTFT().Seconds())
			lat.float(r.E2EL().Seconds())
			for _, g := range r.AppendITL(nil) {
				gaps.float(g.Seconds())
			}
			errs.str("")
		} else {
			out.int(0)
			ttft.float(0)
			lat.float(0)
			errs.str(resultError(r))
		}
		itl.raw(gaps.bytes())
		if r.Sent.IsZero() {
			starts.raw([]byte("null"))
		} else {
			starts.float(r.Sent.Sub(origin).Seconds())
		}
		if r.Scheduled.IsZero() {
			queue.raw([]byte("null"))
		} else {
			queue.float(r.QueueDelay().Seconds())
		}
	}
	o.raw("input_lens", in.bytes())
	o.raw("output_lens", out.bytes())
	o.raw("ttfts", ttft.bytes())
	o.raw("itls", itl.bytes())
	o.raw("latencies", lat.bytes())
	o.raw("start_times", starts.bytes())
	o.raw("queue_times", queue.bytes())
	o.raw("generated_texts", text.bytes())
	o.raw("errors", errs.bytes())
}

// detailOrigin is the time start_times count from: the earliest Scheduled
// time of results, which is the run's start (Run schedules its first
// request at its start for every arrival but a Trace whose first offset
// is not 0), or the earliest Sent time when no result has a Scheduled one.
func detailOrigin(results []*Result) time.Time {
	var scheduled, sent time.Time
	for _, r := range results {
		if r == nil {
			continue
		}
		if !r.Scheduled.IsZero() && (scheduled.IsZero() || r.Scheduled.Before(scheduled)) {
			scheduled = r.Scheduled
		}
		if !r.Sent.IsZero() && (sent.IsZero() || r.Sent.Before(sent)) {
			sent = r.Sent
		}
	}
	if !scheduled.IsZero() {
		return scheduled
	}
	return sent
}

// resultError is the per-request error text of a failed request.
func resultError(r *Result) string {
	if r.Err == nil {
		return "no token events"
	}
	return r.Err.Error()
}

func sourcesObject(m map[CountSource]int) []byte {
	o := &pyObject{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		o.int(k.String(), m[k])
	}
	return o.bytes()
}

func rateIsInf(rate float64) bool { return math.IsInf(rate, 1) || !(rate > 0) }

func cmpOr(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// ResultFilename is vLLM's default result file name:
// {label}-{rate}qps[-concurrency{N}]-{model}-{YYYYMMDD-HHMMSS}.json, where
// label is r.Label or, without one, r.Backend (vllm bench serve's rule;
// v0.9.1, which had no label, always used the backend), rate is "inf" or
// the rate as Python prints a float ("8.0") and model is the part of
// r.Model after its last "/". A ramp-up run (r.Ramp) is named
// {label}-ramp-up-{strategy}-{start}qps-{end}qps[-concurrency{N}]-{model}-{YYYYMMDD-HHMMSS}.json,
// with its start and end rates as vllm bench serve prints its integer
// flags ("1", "8"). One shard of several (r.Shard) ends in
// -shard{K}of{N} before .json, so that the shards of a run saved to one
// directory keep apart.
func ResultFilename(r *Report) string {
	rate := "inf"
	if !rateIsInf(r.RequestRate) {
		rate = pyRepr(r.RequestRate)
	}
	if r.Ramp != nil {
		rate = "ramp-up-" + r.Ramp.Strategy.String() + "-" + rpsNumber(r.Ramp.Start) + "qps-" + rpsNumber(r.Ramp.End)
	}
	conc := ""
	if r.MaxConcurrency > 0 {
		conc = "-concurrency" + strconv.Itoa(r.MaxConcurrency)
	}
	model := r.Model[strings.LastIndex(r.Model, "/")+1:]
	prefix := r.Label
	if prefix == "" {
		prefix = r.Backend
	}
	shard := ""
	if r.Shard != nil && r.Shard.Count > 1 {
		shard = fmt.Sprintf("-shard%dof%d", r.Shard.Index, r.Shard.Count)
	}
	return fmt.Sprintf("%s-%sqps%s-%s-%s%s.json", prefix, rate, conc, model, r.Date.Format(resultDateLayout), shard)
}

// rpsNumber is a ramp's rate as vLLM writes its integer --ramp-up-*-rps
// flags, "8"; a fractional rate, which vLLM does not take, as Python
// prints a float, "0.5".
func rpsNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return pyNumber(v)
}

// rpsTimestampLayout is Python's datetime.isoformat() of a naive datetime
// with microseconds; without them isoformat leaves the fraction out.
const rpsTimestampLayout = "2006-01-02T15:04:05.000000"

// rpsChangeTimestamp formats t as vLLM stamps its rps_change_events,
// datetime.now().isoformat(): local time to the microsecond (truncated),
// "2026-11-29T14:03:07.120431", the fraction left out when it is zero.
func rpsChangeTimestamp(t time.Time) string {
	t = t.Local().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format(rpsTimestampLayout)
}

// MaxLabelLen bounds a label, in bytes: it begins the default result file
// name, and file systems hold names of 255 bytes at most.
const MaxLabelLen = 128

// labelUnsafe are the characters some file system does not allow in a
// file name (Windows' reserved ones include Linux's "/").
const labelUnsafe = `/\:*?"<>|`

// CheckLabel says what makes label unusable as a Report.Label (vLLM's
// --label), for the caller to word in its own terms (a flag, an
// environment variable); nil when it is fine. A label is one line of
// valid UTF-8 without control characters, not empty and without white
// space at either end (callers trim what the user typed), at most
// MaxLabelLen bytes and without the characters / \ : * ? " < > |, since it
// begins the default result file name (ResultFilename).
func CheckLabel(label string) error {
	if strings.TrimSpace(label) == "" {
		return errors.New("a label must not be empty")
	}
	if !utf8.ValidString(label) {
		return errors.New("a label must be valid UTF-8")
	}
	if strings.TrimSpace(label) != label {
		return errors.New("a label must not begin or end with white space")
	}
	for _, r := range label {
		switch {
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return errors.New("a label must be one line")
		case unicode.IsControl(r):
			return fmt.Errorf("a label must be printable text, not the control character %U", r)
		case strings.ContainsRune(labelUnsafe, r):
			return fmt.Errorf("a label begins the result file's name, so it must not hold %q (nor any of %s)", r, labelUnsafe)
		}
	}
	if len(label) > MaxLabelLen {
		return fmt.Errorf("a label begins the result file's name, so it must be at most %d bytes, got %d", MaxLabelLen, len(label))
	}
	return nil
}

// pyObject builds a JSON object in json.dump's style, keys in call order.
type pyObject struct{ b bytes.Buffer }

func (o *pyObject) key(k string) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteString(", ")
	}
	o.b.WriteString(pyString(k))
	o.b.WriteString(": ")
}

func (o *pyObject) raw(k string, v []byte)    { o.key(k); o.b.Write(v) }
func (o *pyObject) str(k, v string)           { o.raw(k, []byte(pyString(v))) }
func (o *pyObject) int(k string, v int)       { o.raw(k, []byte(strconv.Itoa(v))) }
func (o *pyObject) float(k string, v float64) { o.raw(k, []byte(pyNumber(v))) }
func (o *pyObject) null(k string)             { o.raw(k, []byte("null")) }

func (o *pyObject) bytes() []byte {
	if o.b.Len() == 0 {
		return []byte("{}")
	}
	return append(o.b.Bytes(), '}')
}

// pyArray builds a JSON array in json.dump's style.
type pyArray struct {
	b bytes.Buffer
	n int
}

func (a *pyArray) raw(v []byte) {
	if a.n > 0 {
		a.b.WriteString(", ")
	}
	a.n++
	a.b.Write(v)
}

func (a *pyArray) int(v int)       { a.raw([]byte(strconv.Itoa(v))) }
func (a *pyArray) float(v float64) { a.raw([]byte(pyNumber(v))) }
func (a *pyArray) str(v string)    { a.raw([]byte(pyString(v))) }
func (a *pyArray) bytes() []byte   { return []byte("[" + a.b.String() + "]") }

// pyNumber is a float as json.dump writes it, with null for NaN and ±Inf.
func pyNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return pyRepr(v)
}

// pyString is json.dump's ensure_ascii string encoding.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < utf8.RuneSelf):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= utf8.RuneSelf && r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		case r >= utf8.RuneSelf:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// metricKeyRE matches a summary key: mean|median|std|p<p>, metric.
var metricKeyRE = regexp.MustCompile(`^(mean|median|std|p[0-9.]+)_(` + latencyKeys("|") + `)_ms$`)
