// Package htmlreport turns result files (vLLM's --save-result JSON, as
// servingbench.WriteJSON writes it) into one self-contained HTML page, and
// the main charts into a PNG.
//
// The page holds the seed-style summary table (one column a file), CDFs of
// TTFT, TPOT, ITL and E2EL overlaid per file, a request timeline (each
// request's queue, prefill and decode spans, vLLM's --plot-timeline
// analogue), output tokens per second and requests active in each second,
// failures over time by reason, and the server's gauges and counters when
// the file has them. It fetches nothing: Chart.js (the chartjs directory,
// with its license) and the data, as JSON, are inside the page.
//
// What is read: the summary keys through servingbench.ReadJSON, and for
// the charts vLLM's per-request keys of --save-detailed: ttfts, itls,
// latencies, output_lens, start_times, queue_times and errors. A chart
// whose keys a file lacks is left out with a note naming them. The
// server's side is read when present, defensively: server_metrics (its
// url, scrapes, failed_scrapes, counters {series: delta} and gauges
// {series: {mean, max}}) and time_series (t, and every other array of
// numbers as long as t, at the top level or one object down, that is not
// one of the client series: a server gauge on the run's clock). A run of
// conversations' per_turn (through ReadJSON) gives the per-turn table.
//
// Functions are safe for concurrent use.
package htmlreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/servingbench/servingbench/internal/pyjson"
	"github.com/servingbench/servingbench/servingbench"
)

// Run is one result file as the report shows it.
type Run struct {
	// Name is the file's name as given; Label is what the page calls the
	// run: the file's label, else Name's base without .json.
	Name  string
	Label string
	// Report is the file as servingbench.ReadJSON reads it.
	Report *servingbench.Report
	// has says which top-level keys the file has.
	has map[string]bool
	// t0 is the time start_times count from (see origin).
	t0     time.Time
	Server *ServerMetrics
	Series *TimeSeries
	// Notes say what the file could not give (a chart left out and why),
	// as of the last WriteHTML or WritePNG of the run.
	Notes []string
	// loadNotes are the notes of Load, which every report starts from.
	loadNotes []string
}

// ServerMetrics is the result file's server_metrics key, as far as the
// report reads it.
type ServerMetrics struct {
	URL           string                  `json:"url"`
	Scrapes       int                     `json:"scrapes"`
	FailedScrapes int                     `json:"failed_scrapes"`
	Counters      map[string]float64      `json:"counters"`
	Gauges        map[string]GaugeSummary `json:"gauges"`
}

// GaugeSummary is one gauge's mean and max over the run.
type GaugeSummary struct {
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// TimeSeries holds the server's gauges from the result file's time_series
// key: T in seconds on the run's clock, one value a series per T (NaN for
// a null).
type TimeSeries struct {
	T      []float64
	Gauges []NamedSeries
}

// NamedSeries is one series of TimeSeries.
type NamedSeries struct {
	Name   string
	Values []float64
}

// clientSeries are the time_series keys that are the client's own (drawn
// from the per-request keys instead), not server gauges.
var clientSeries = map[string]bool{
	"t": true, "interval_s": true, "dispatched": true, "in_flight": true, "completed": true,
	"failed": true, "output_tokens_per_s": true,
}

// Load reads one result file. It fails when data is not a result file
// (servingbench.ReadJSON's error, naming the file); a file without the
// per-request keys loads, with Notes saying which charts it cannot give.
func Load(name string, data []byte) (*Run, error) {
	rep, err := servingbench.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("htmlreport: %s: %w", name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(pyjson.Nulls(data), &fields); err != nil {
		return nil, fmt.Errorf("htmlreport: %s: %w", name, err) // ReadJSON took it: cannot happen
	}
	r := &Run{Name: name, Report: rep, has: map[string]bool{}}
	for k, v := range fields {
		r.has[k] = string(v) != "null"
	}
	r.Label = rep.Label
	if r.Label == "" {
		r.Label = strings.TrimSuffix(filepath.Base(name), ".json")
	}
	r.t0 = r.origin()
	if raw, ok := fields["server_metrics"]; ok && r.has["server_metrics"] {
		sm, err := decodeServerMetrics(raw)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("server_metrics left out: %v", err))
		} else {
			r.Server = sm
		}
	}
	if raw, ok := fields["time_series"]; ok && r.has["time_series"] {
		ts, err := decodeTimeSeries(raw)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("time_series left out: %v", err))
		} else {
			r.Series = ts
		}
	}
	r.loadNotes = slices.Clone(r.Notes)
	return r, nil
}

// missing returns the keys of keys the file lacks (absent or null).
func (r *Run) missing(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if !r.has[k] {
			out = append(out, k)
		}
	}
	return out
}

// need says whether the file has every key a chart needs; when not, it
// adds a note naming the chart and the keys, and returns false.
func (r *Run) need(chart string, keys ...string) bool {
	m := r.missing(keys...)
	if len(m) == 0 {
		return true
	}
	r.Notes = append(r.Notes, fmt.Sprintf("%s: not drawn, the file has no %s (servingbench and vllm bench serve write it with --save-detailed)", chart, strings.Join(m, ", ")))
	return false
}

// origin is the time the run's clock starts at: the file's Date, which
// ReadJSON adds start_times to (servingbench's start_times count from the
// run's start); when the earliest start time is later than the run's
// duration, the start times are on a clock of their own (vllm bench
// serve writes time.perf_counter()), and the clock starts at the earliest,
// as vLLM's timeline plot does.
func (r *Run) origin() time.Time {
	t0 := r.Report.Date
	var first time.Time
	for _, res := range r.Report.Results {
		if first.IsZero() || res.Sent.Before(first) {
			first = res.Sent
		}
	}
	if !first.IsZero() && first.Sub(t0) > r.Report.Duration+time.Second {
		return first
	}
	return t0
}

func decodeServerMetrics(raw json.RawMessage) (*ServerMetrics, error) {
	var sm ServerMetrics
	if err := json.Unmarshal(raw, &sm); err != nil {
		return nil, fmt.Errorf("want {url, scrapes, failed_scrapes, counters: {series: delta}, gauges: {series: {mean, max}}}: %w", err)
	}
	return &sm, nil
}

// decodeTimeSeries reads time_series: t, then every array of numbers (or
// nulls) of len(t) entries, at the top level or inside an object one level
// down, that is not a client series.
func decodeTimeSeries(raw json.RawMessage) (*TimeSeries, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("want an object: %w", err)
	}
	var t []float64
	if err := json.Unmarshal(obj["t"], &t); err != nil || len(t) == 0 {
		return nil, errors.New(`want "t", the seconds of each entry, as an array of numbers`)
	}
	ts := &TimeSeries{T: t}
	var walk func(prefix string, obj map[string]json.RawMessage, depth int)
	walk = func(prefix string, obj map[string]json.RawMessage, depth int) {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if depth == 0 && (clientSeries[k] || strings.HasPrefix(k, "ttft")) {
				continue
			}
			var vals []*float64
			if json.Unmarshal(obj[k], &vals) == nil && len(vals) == len(t) {
				s := NamedSeries{Name: prefix + k, Values: make([]float64, len(vals))}
				for i, v := range vals {
					s.Values[i] = nan
					if v != nil {
						s.Values[i] = *v
					}
				}
				ts.Gauges = append(ts.Gauges, s)
				continue
			}
			var sub map[string]json.RawMessage
			if depth == 0 && json.Unmarshal(obj[k], &sub) == nil {
				walk("", sub, depth+1)
			}
		}
	}
	walk("", obj, 0)
	return ts, nil
}
