package servingbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/servingbench/servingbench/servingbench/servermetrics"
)

// addServerMetrics puts the run's server metrics into r: the summary,
// the warnings of its scrapes and, when the server's token counters and
// r's totals disagree (servermetrics.Summary.CheckTokens), a warning of
// that (not for one shard of several, Config.Shard: the server counts
// every shard's tokens; Merge checks the whole's). The scrape before the run is taken after the warm-ups, so the
// server's counters count the run's requests only.
func (r *Report) addServerMetrics(s *servermetrics.Summary, checkTokens bool) {
	if s == nil {
		return
	}
	if checkTokens {
		s.Warnings = append(s.Warnings, s.CheckTokens(r.TotalInputTokens, r.TotalOutputTokens, r.Failed)...)
	}
	r.ServerMetrics = s
	r.Warnings = append(r.Warnings, s.Warnings...)
}

// serverMetricsText prints, inside the result block after Run Details,
// a "Server Metrics" section when the server's page was scraped: the
// page, the scrapes (and failed ones), the server's prompt and generation
// tokens over the run, the mean and peak of its running and waiting
// requests and KV-cache usage over the scrapes during the run, the prefix
// cache's hit rate and the preemptions, each when the server has it
// (servermetrics.Names); then, when the server drafted tokens, vllm bench
// serve's "Speculative Decoding" section, line for line.
func serverMetricsText(b *strings.Builder, r *Report) {
	s := r.ServerMetrics
	if !s.Scraped() {
		return
	}
	b.WriteString(centre("Server Metrics", '-') + "\n")
	valueLine(b, "Metrics page:", s.URL)
	intLine(b, "Scrapes:", s.Scrapes)
	if s.FailedScrapes > 0 {
		intLine(b, "Failed scrapes:", s.FailedScrapes)
	}
	if v, _, ok := s.PromptTokens(); ok {
		valueLine(b, "Server prompt tokens:", formatCount(v))
	}
	if v, _, ok := s.GenerationTokens(); ok {
		valueLine(b, "Server generation tokens:", formatCount(v))
	}
	gauge := func(what string, g servermetrics.GaugeStat, ok bool, scale float64) {
		if ok {
			floatLine(b, "Mean "+what, g.Mean*scale)
			floatLine(b, "Peak "+what, g.Max*scale)
		}
	}
	g, ok := s.Running()
	gauge("running requests:", g, ok, 1)
	g, ok = s.Waiting()
	gauge("waiting requests:", g, ok, 1)
	g, ok = s.KVCacheUsage()
	gauge("KV-cache usage (%):", g, ok, 100)
	if rate, ok := s.PrefixCacheHitRate(); ok {
		floatLine(b, "Prefix cache hit rate (%):", rate*100)
	}
	if v, ok := s.Preemptions(); ok {
		valueLine(b, "Preemptions:", formatCount(v))
	}
	if sd, ok := s.SpecDecode(); ok {
		b.WriteString(centre("Speculative Decoding", '-') + "\n")
		floatLine(b, "Acceptance rate (%):", sd.AcceptanceRate)
		floatLine(b, "Acceptance length:", sd.AcceptanceLength)
		intLine(b, "Drafts:", int(sd.Drafts))
		intLine(b, "Draft tokens:", int(sd.DraftTokens))
		intLine(b, "Accepted tokens:", int(sd.AcceptedTokens))
		if len(sd.PerPosition) > 0 {
			b.WriteString("Per-position acceptance (%):\n")
			for i, rate := range sd.PerPosition {
				floatLine(b, fmt.Sprintf("  Position %d:", i), rate*100)
			}
		}
	}
}

// formatCount writes a counter's delta: an integer as one, else with two
// decimals (a histogram's _sum of seconds, say).
func formatCount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return pyFixed2(v)
}

// specDecodeJSON writes vllm bench serve's spec_decode_* keys, as its
// serve.py names them, when the server drafted tokens during the run.
func specDecodeJSON(o *pyObject, s *servermetrics.Summary) {
	if !s.Scraped() {
		return
	}
	sd, ok := s.SpecDecode()
	if !ok {
		return
	}
	o.float("spec_decode_acceptance_rate", sd.AcceptanceRate)
	o.float("spec_decode_acceptance_length", sd.AcceptanceLength)
	o.int("spec_decode_num_drafts", int(sd.Drafts))
	o.int("spec_decode_draft_tokens", int(sd.DraftTokens))
	o.int("spec_decode_accepted_tokens", int(sd.AcceptedTokens))
	var rates pyArray
	for _, v := range sd.PerPosition {
		rates.float(v)
	}
	o.raw("spec_decode_per_position_acceptance_rates", rates.bytes())
}

// serverMetricsJSON is the server_metrics object: url; error when the
// page was not scraped (and nothing else); else server (the known
// server's name, null for none), scrapes, failed_scrapes, interval_s,
// counters (series -> delta over the run, sorted), gauges (series ->
// {"mean", "max"} over the scrapes during the run), the figures the text
// block prints under "figures" (prompt_tokens, generation_tokens,
// running, waiting and kv_cache_usage as {"mean", "max"},
// prefix_cache_hit_rate as a fraction, preemptions; each only when the
// server has it), warnings, and with detailed the samples: {"t": [the
// scrapes' offsets from the run's start in seconds, the scrape before it
// negative], "values": {series: [its value at each scrape, null where
// missing]}}.
func serverMetricsJSON(s *servermetrics.Summary, detailed bool) []byte {
	o := &pyObject{}
	o.str("url", s.URL)
	if s.Err != nil {
		o.str("error", s.NotScraped())
		return o.bytes()
	}
	if s.Server.Server != "" {
		o.str("server", s.Server.Server)
	} else {
		o.null("server")
	}
	o.int("scrapes", s.Scrapes)
	o.int("failed_scrapes", s.FailedScrapes)
	counters := &pyObject{}
	for _, k := range slices.Sorted(maps.Keys(s.Counters)) {
		counters.float(k, s.Counters[k])
	}
	o.raw("counters", counters.bytes())
	gauges := &pyObject{}
	for _, k := range slices.Sorted(maps.Keys(s.Gauges)) {
		gauges.raw(k, gaugeJSON(s.Gauges[k]))
	}
	o.raw("gauges", gauges.bytes())
	o.raw("figures", figuresJSON(s))
	var warns pyArray
	for _, w := range s.Warnings {
		warns.str(w.Error())
	}
	o.raw("warnings", warns.bytes())
	if detailed {
		o.raw("samples", samplesJSON(s))
	}
	return o.bytes()
}

func gaugeJSON(g servermetrics.GaugeStat) []byte {
	o := &pyObject{}
	o.float("mean", g.Mean)
	o.float("max", g.Max)
	return o.bytes()
}

// figuresJSON is server_metrics.figures (see serverMetricsJSON).
func figuresJSON(s *servermetrics.Summary) []byte {
	o := &pyObject{}
	if v, _, ok := s.PromptTokens(); ok {
		o.float("prompt_tokens", v)
	}
	if v, _, ok := s.GenerationTokens(); ok {
		o.float("generation_tokens", v)
	}
	for _, f := range []struct {
		key string
		get func() (servermetrics.GaugeStat, bool)
	}{{"running", s.Running}, {"waiting", s.Waiting}, {"kv_cache_usage", s.KVCacheUsage}} {
		if g, ok := f.get(); ok {
			o.raw(f.key, gaugeJSON(g))
		}
	}
	if v, ok := s.PrefixCacheHitRate(); ok {
		o.float("prefix_cache_hit_rate", v)
	}
	if v, ok := s.Preemptions(); ok {
		o.float("preemptions", v)
	}
	return o.bytes()
}

// samplesJSON is server_metrics.samples (see serverMetricsJSON).
func samplesJSON(s *servermetrics.Summary) []byte {
	var t pyArray
	names := map[string]bool{}
	for _, sm := range s.Samples {
		t.float(sm.At.Sub(s.Start).Seconds())
		for k := range sm.Values {
			names[k] = true
		}
	}
	values := &pyObject{}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		var a pyArray
		for _, sm := range s.Samples {
			if v, ok := sm.Values[k]; ok {
				a.float(v)
			} else {
				a.raw([]byte("null"))
			}
		}
		values.raw(k, a.bytes())
	}
	o := &pyObject{}
	o.raw("t", t.bytes())
	o.raw("values", values.bytes())
	return o.bytes()
}

// readServerMetrics reads server_metrics back: the url, error, scrapes,
// counters, gauges and warnings (the samples are not read: a Report read
// from a file has no samples of any kind); nil without the key, and for
// one of another shape (not this package's to fail the file on).
func (d *fileDecoder) readServerMetrics() *servermetrics.Summary {
	var f struct {
		URL           string                        `json:"url"`
		Error         string                        `json:"error"`
		Server        string                        `json:"server"`
		Scrapes       int                           `json:"scrapes"`
		FailedScrapes int                           `json:"failed_scrapes"`
		Counters      map[string]float64            `json:"counters"`
		Gauges        map[string]map[string]float64 `json:"gauges"`
		Warnings      []string                      `json:"warnings"`
	}
	raw, ok := d.fields["server_metrics"]
	if !ok || json.Unmarshal(raw, &f) != nil || f.URL == "" {
		return nil // not ours to fail the file on: the summary keys are read
	}
	s := &servermetrics.Summary{URL: f.URL, Scrapes: f.Scrapes, FailedScrapes: f.FailedScrapes, Counters: f.Counters}
	if f.Error != "" {
		s.Err = errors.New(strings.TrimSuffix(strings.TrimPrefix(f.Error, "server metrics: "), ", not scraped"))
		return s
	}
	for _, n := range servermetrics.Known {
		if n.Server == f.Server {
			s.Server = n
		}
	}
	s.Gauges = map[string]servermetrics.GaugeStat{}
	for k, g := range f.Gauges {
		s.Gauges[k] = servermetrics.GaugeStat{Mean: g["mean"], Max: g["max"]}
	}
	for _, w := range f.Warnings {
		s.Warnings = append(s.Warnings, errors.New(w))
	}
	return s
}

// writeServerJSON writes the keys of the server's metrics and the time
// series: vllm bench serve's spec_decode_* keys when the server drafted
// tokens during the run, server_metrics when Report.ServerMetrics is set
// (see serverMetricsJSON), and with detailed and Results time_series
// (see TimeSeries; a Report read from a file writes the file's back).
func writeServerJSON(o *pyObject, r *Report, detailed bool) {
	if s := r.ServerMetrics; s != nil {
		specDecodeJSON(o, s)
		o.raw("server_metrics", serverMetricsJSON(s, detailed))
	}
	switch {
	case !detailed:
	case r.timeSeries != nil:
		o.raw("time_series", r.timeSeries)
	case r.Results != nil:
		o.raw("time_series", r.TimeSeries().json())
	}
}
