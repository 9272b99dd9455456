package servingbench

import (
	"math"
	"time"
)

// TimeSeriesInterval is the width of a TimeSeries bucket.
const TimeSeriesInterval = time.Second

// TimeSeries is a run seen second by second, on the run's clock: bucket
// i holds what happened from Report.Date (the run's start) + i s,
// inclusive, to + (i+1) s, exclusive, for the buckets up to the one
// holding the run's end.
type TimeSeries struct {
	// Interval is the buckets' width, TimeSeriesInterval.
	Interval time.Duration
	// Dispatched counts the requests dispatched (Result.SlotAcquired) in
	// each bucket.
	Dispatched []int
	// InFlight counts the requests sent and not yet ended (Result.Sent <=
	// t < the end Completed uses) at each bucket's end, the instant the server's
	// metrics are scraped during a run.
	InFlight []int
	// Completed and Failed count the requests that ended (Result.Done;
	// without one, the last token event, else Result.Sent) in each
	// bucket, successful or not.
	Completed, Failed []int
	// OutputTokens is the successful requests' output tokens in each
	// bucket, per second: each token counted at its event's time, a
	// request's OutputTokens spread evenly over its events (one token an
	// event when the count is 0), as Report.PeakOutputThroughput, which
	// is their max.
	OutputTokens []float64
	// TTFTCount counts the successful requests whose first token event
	// is in each bucket; TTFTMean and TTFTMax are the mean and max of
	// their TTFTs, 0 where TTFTCount is 0.
	TTFTCount         []int
	TTFTMean, TTFTMax []time.Duration
	// Server holds the server's gauges by bucket, when its metrics were
	// scraped (Report.ServerMetrics).
	Server ServerSeries
}

// ServerSeries is a few of the server's gauges on the buckets of a
// TimeSeries: at bucket i, the sum of the gauge's series at the last
// scrape during the run in (start + i s, start + (i+1) s], the bucket's
// end as for InFlight (with the default interval, the scrape at exactly
// (i+1) s); NaN where there was none (the last bucket, which holds the
// run's end) or the scrape lacked the gauge. At is that scrape's offset
// from the run's start, 0 where none. A gauge the server does not have
// is nil.
type ServerSeries struct {
	At                             []time.Duration
	Running, Waiting, KVCacheUsage []float64
}

// TimeSeries computes r's time series from its Results (see TimeSeries);
// a Report without Results (read from a summary) has empty series.
func (r *Report) TimeSeries() TimeSeries {
	ts := TimeSeries{Interval: TimeSeriesInterval}
	if r.Results == nil {
		return ts
	}
	start := r.Date
	n := max(int(r.Duration/TimeSeriesInterval), 0) + 1
	ts.Dispatched, ts.InFlight = make([]int, n), make([]int, n)
	ts.Completed, ts.Failed = make([]int, n), make([]int, n)
	ts.OutputTokens = make([]float64, n)
	ts.TTFTCount = make([]int, n)
	ts.TTFTMean, ts.TTFTMax = make([]time.Duration, n), make([]time.Duration, n)
	ttftSum := make([]time.Duration, n)
	bucket := func(t time.Time) (int, bool) {
		d := t.Sub(start)
		if t.IsZero() || d < 0 {
			return 0, false
		}
		i := int(d / TimeSeriesInterval)
		return i, i < n
	}
	for _, res := range r.Results {
		if res == nil {
			continue
		}
		if i, ok := bucket(res.SlotAcquired); ok {
			ts.Dispatched[i]++
		}
		done := ended(res)
		if !res.Sent.IsZero() {
			for i := range n {
				at := start.Add(time.Duration(i+1) * TimeSeriesInterval)
				if !res.Sent.After(at) && done.After(at) {
					ts.InFlight[i]++
				}
			}
		}
		ok := res.OK()
		if i, in := bucket(done); in {
			if ok {
				ts.Completed[i]++
			} else {
				ts.Failed[i]++
			}
		}
		if !ok {
			continue
		}
		w := 1.0
		if res.OutputTokens > 0 {
			w = float64(res.OutputTokens) / float64(len(res.Events))
		}
		for _, ev := range res.Events {
			if i, in := bucket(res.Sent.Add(ev)); in {
				ts.OutputTokens[i] += w
			}
		}
		if i, in := bucket(res.EventTime(0)); in {
			ttft := res.TTFT()
			ts.TTFTCount[i]++
			ttftSum[i] += ttft
			ts.TTFTMax[i] = max(ts.TTFTMax[i], ttft)
		}
	}
	for i, c := range ts.TTFTCount {
		if c > 0 {
			ts.TTFTMean[i] = ttftSum[i] / time.Duration(c)
		}
	}
	ts.Server = r.serverSeries(n)
	return ts
}

// ended is when res ended: Done, else (a Result not made by a Client of
// this package) its last token event, else its Sent time.
func ended(res *Result) time.Time {
	switch {
	case !res.Done.IsZero():
		return res.Done
	case len(res.Events) > 0:
		return res.LastEvent()
	}
	return res.Sent
}

// serverSeries is TimeSeries.Server over n buckets.
func (r *Report) serverSeries(n int) ServerSeries {
	s := r.ServerMetrics
	var out ServerSeries
	if !s.Scraped() {
		return out
	}
	names := s.Server
	kv := ""
	for _, k := range names.KVCacheUsage { // the first the scrapes have
		for _, sm := range s.Samples {
			if _, ok := sumOf(sm.Values, k); ok && kv == "" {
				kv = k
			}
		}
	}
	gauges := []struct {
		name string
		to   *[]float64
	}{{names.Running, &out.Running}, {names.Waiting, &out.Waiting}, {kv, &out.KVCacheUsage}}
	out.At = make([]time.Duration, n)
	for _, g := range gauges {
		if g.name != "" {
			*g.to = make([]float64, n)
			for i := range *g.to {
				(*g.to)[i] = math.NaN()
			}
		}
	}
	for _, sm := range s.Samples { // in time order: the last of a bucket wins
		if !sm.At.After(s.Start) || !sm.At.Before(s.End) {
			continue
		}
		off := sm.At.Sub(r.Date)
		i := int((off - 1) / TimeSeriesInterval) // (i s, (i+1) s]
		if i < 0 || i >= n {
			continue
		}
		out.At[i] = off
		for _, g := range gauges {
			if g.name == "" {
				continue
			}
			v, ok := sumOf(sm.Values, g.name)
			if !ok {
				v = math.NaN()
			}
			(*g.to)[i] = v
		}
	}
	return out
}

// sumOf sums the series of the metric name in values.
func sumOf(values map[string]float64, name string) (float64, bool) {
	sum, ok := 0.0, false
	for k, v := range values {
		if k == name || len(k) > len(name) && k[:len(name)] == name && k[len(name)] == '{' {
			sum += v
			ok = true
		}
	}
	return sum, ok
}

// json is the time_series object: interval_s, t (each bucket's start in
// seconds from the run's start), dispatched, in_flight (at each bucket's
// end), completed, failed, output_tokens_per_s, ttft_count, ttft_mean_ms
// and ttft_max_ms (null where no request got its first token), and, when
// the server was scraped, server: {"running", "waiting",
// "kv_cache_usage": [the sums of the gauge's series at each bucket's end,
// null where none], each only when the server has it} (see ServerSeries;
// every array as long as t).
func (ts TimeSeries) json() []byte {
	o := &pyObject{}
	o.float("interval_s", ts.Interval.Seconds())
	var t, disp, infl, comp, fail, tok, cnt, mean, mx pyArray
	for i := range ts.Dispatched {
		t.float(float64(i) * ts.Interval.Seconds())
		disp.int(ts.Dispatched[i])
		infl.int(ts.InFlight[i])
		comp.int(ts.Completed[i])
		fail.int(ts.Failed[i])
		tok.float(ts.OutputTokens[i] / ts.Interval.Seconds())
		cnt.int(ts.TTFTCount[i])
		if ts.TTFTCount[i] == 0 {
			mean.raw([]byte("null"))
			mx.raw([]byte("null"))
		} else {
			mean.float(durationMS(ts.TTFTMean[i]))
			mx.float(durationMS(ts.TTFTMax[i]))
		}
	}
	o.raw("t", t.bytes())
	o.raw("dispatched", disp.bytes())
	o.raw("in_flight", infl.bytes())
	o.raw("completed", comp.bytes())
	o.raw("failed", fail.bytes())
	o.raw("output_tokens_per_s", tok.bytes())
	o.raw("ttft_count", cnt.bytes())
	o.raw("ttft_mean_ms", mean.bytes())
	o.raw("ttft_max_ms", mx.bytes())
	if s := ts.Server; s.At != nil {
		so := &pyObject{}
		for _, g := range []struct {
			key string
			v   []float64
		}{{"running", s.Running}, {"waiting", s.Waiting}, {"kv_cache_usage", s.KVCacheUsage}} {
			if g.v == nil {
				continue
			}
			var a pyArray
			for _, v := range g.v {
				if math.IsNaN(v) {
					a.raw([]byte("null"))
				} else {
					a.float(v)
				}
			}
			so.raw(g.key, a.bytes())
		}
		o.raw("server", so.bytes())
	}
	return o.bytes()
}
