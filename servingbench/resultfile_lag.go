package servingbench

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The result file's keys of the source of the event times and the client
// lag (Report.ClientLag), in vLLM's naming style (p99_ttft_ms): WriteJSON
// writes them, ReadJSON reads them back. None is vLLM's.
func init() {
	for _, k := range []string{"arrival_times", "arrival_time_sources", "p50_client_lag_ms", "p99_client_lag_ms",
		"max_client_lag_ms", "client_lags"} {
		resultFileKeys[k] = true
	}
}

// writeClientLag writes arrival_times, ClientLag.Source ("kernel", "read"
// or "mixed"), and for a run with kernel times arrival_time_sources (the
// successful requests of each source, {"kernel": 600, "read": 40}) and
// p50_client_lag_ms, p99_client_lag_ms and max_client_lag_ms.
func writeClientLag(o *pyObject, r *Report) {
	c := r.ClientLag
	o.str("arrival_times", c.Source())
	if c.KernelRequests == 0 {
		return
	}
	sources := &pyObject{}
	sources.int(ArrivalKernel.String(), c.KernelRequests)
	if c.ReadRequests > 0 {
		sources.int(ArrivalRead.String(), c.ReadRequests)
	}
	o.raw("arrival_time_sources", sources.bytes())
	o.float("p50_client_lag_ms", durationMS(c.P50))
	o.float("p99_client_lag_ms", durationMS(c.P99))
	o.float("max_client_lag_ms", durationMS(c.Max))
}

// writeClientLagDetail writes client_lags, in the order of results, when
// some request had kernel times: each request's Result.Lags in
// nanoseconds, one an event, [] for a failed request (the file keeps no
// events of one), null for a request with read times.
func writeClientLagDetail(o *pyObject, results []*Result) {
	if !slices.ContainsFunc(results, func(r *Result) bool { return r != nil && r.Arrival == ArrivalKernel }) {
		return
	}
	var all pyArray
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Arrival != ArrivalKernel {
			all.raw([]byte("null"))
			continue
		}
		var lags pyArray
		if r.OK() {
			for _, l := range r.Lags {
				lags.int(int(l))
			}
		}
		all.raw(lags.bytes())
	}
	o.raw("client_lags", all.bytes())
}

// clientLag reads writeClientLag's keys into r.ClientLag, and client_lags
// into the Results: a file without arrival_times (vLLM's) has read times.
// The counts of arrival_time_sources must give arrival_times, and agree
// with client_lags when the file has it; ClientLag.Events is counted from
// client_lags, and Samples are left nil like every summary's.
func (d *fileDecoder) clientLag(r *Report) {
	kernel, read, withLags := d.clientLags(r.Results)
	c := &r.ClientLag
	switch src := d.str("arrival_times"); src {
	case "", ArrivalRead.String():
		c.ReadRequests = r.Completed
		if kernel > 0 {
			d.fail("client_lags", fmt.Errorf("has the lags of %s, but arrival_times is %q", countText(kernel), cmpOrStr(src, "missing")))
		}
		return
	case ArrivalKernel.String(), "mixed":
		d.require("arrival_time_sources", "p50_client_lag_ms", "p99_client_lag_ms", "max_client_lag_ms")
		var sources map[string]int
		d.decode("arrival_time_sources", &sources)
		for _, k := range slices.Sorted(maps.Keys(sources)) {
			if k != ArrivalKernel.String() && k != ArrivalRead.String() || sources[k] < 0 {
				d.fail("arrival_time_sources", fmt.Errorf("want {\"kernel\": N, \"read\": M}, got %q: %d", k, sources[k]))
			}
		}
		c.KernelRequests, c.ReadRequests = sources[ArrivalKernel.String()], sources[ArrivalRead.String()]
		if c.Source() != src {
			d.fail("arrival_times", fmt.Errorf("is %q, but arrival_time_sources has kernel %d, read %d", src, c.KernelRequests, c.ReadRequests))
		}
		if withLags && (kernel != c.KernelRequests || read != c.ReadRequests) {
			d.fail("client_lags", fmt.Errorf("has %d successful requests with lags and %d without, arrival_time_sources kernel %d, read %d",
				kernel, read, c.KernelRequests, c.ReadRequests))
		}
		c.P50 = millis(d.float("p50_client_lag_ms"))
		c.P99 = millis(d.float("p99_client_lag_ms"))
		c.Max = millis(d.float("max_client_lag_ms"))
		for _, res := range r.Results {
			if res.OK() {
				c.Events += len(res.Lags)
			}
		}
	default:
		d.fail("arrival_times", fmt.Errorf(`want "kernel", "read" or "mixed", got %q`, src))
	}
}

// clientLags sets the Arrival and Lags of results from client_lags, when
// the file has it (withLags), and counts the successful requests with
// lags (kernel) and without (read). A successful request must have one
// lag an event, a failed one none.
func (d *fileDecoder) clientLags(results []*Result) (kernel, read int, withLags bool) {
	var all []*[]uint32
	if !d.decode("client_lags", &all) {
		return 0, 0, false
	}
	if results == nil {
		d.fail("client_lags", errors.New("without the per-request arrays (input_lens, ttfts, ...)"))
		return 0, 0, false
	}
	if len(all) != len(results) {
		d.fail("client_lags", fmt.Errorf("has %d entries, the per-request arrays have %d", len(all), len(results)))
		return 0, 0, false
	}
	for i, res := range results {
		lags := all[i]
		if lags == nil {
			if res.OK() {
				read++
			}
			continue
		}
		switch {
		case res.OK() && len(*lags) != len(res.Events):
			d.fail("client_lags", fmt.Errorf("entry %d has %d lags for %d token events", i, len(*lags), len(res.Events)))
			return 0, 0, false
		case !res.OK() && len(*lags) > 0:
			d.fail("client_lags", fmt.Errorf("entry %d has %d lags for a failed request", i, len(*lags)))
			return 0, 0, false
		}
		res.Arrival, res.Lags = ArrivalKernel, *lags
		if res.OK() {
			kernel++
		}
	}
	return kernel, read, true
}

func cmpOrStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
