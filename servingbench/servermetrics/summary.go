package servermetrics

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/internal/promtext"
)

// Summary is what a server's /metrics said about a run: counter deltas
// from the scrape before the run to the one after, and the gauges'
// mean and max over the scrapes during it.
type Summary struct {
	// URL is the page scraped.
	URL string
	// Err, when set, is why nothing was scraped: the scrape before the
	// run failed (a *StatusError for a server without the page). The
	// other fields are then zero.
	Err error
	// Server is the known server the page's names are of (Detect); its
	// Server field is "" for a page of none.
	Server Names
	// Scrapes counts the successful scrapes, the one before and the one
	// after the run included; FailedScrapes those that failed during or
	// after it.
	Scrapes, FailedScrapes int
	// Start and End are the run's; the samples' offsets are from Start.
	Start, End time.Time
	// Counters maps each counter series (by its full name with labels in
	// Prometheus text form, as internal/promtext keys it) to its increase
	// over the run: the sum of its increases between consecutive scrapes.
	// A value that went down (the server restarted: a counter reset)
	// counts from 0, as Prometheus' increase() treats it, and is said in
	// Resets; a series that first appears during the run counts from 0.
	Counters map[string]float64
	// Gauges maps each gauge series to its mean and max over the scrapes
	// during the run (those after Start and before End: a run shorter
	// than the interval has none, and Gauges is empty).
	Gauges map[string]GaugeStat
	// Resets lists the counter resets seen, one a series.
	Resets []Reset
	// Warnings are diagnostics: failed scrapes, resets, a failed scrape
	// after the run, token counts that disagree with the client's
	// (CheckTokens).
	Warnings []error
	// Samples holds every successful scrape: its time and the values of
	// the counters and gauges (not the histogram buckets).
	Samples []Sample
}

// GaugeStat is a gauge's mean and max over a run's scrapes.
type GaugeStat struct {
	Mean, Max float64
	// N counts the scrapes the gauge was in.
	N int
}

// Reset is a counter that went down between two scrapes.
type Reset struct {
	Series   string
	From, To float64
	At       time.Time
}

// Sample is one scrape: when it was answered and its values by series.
type Sample struct {
	At     time.Time
	Values map[string]float64
}

// summary builds the run's Summary from the scrapes; warn, when not nil,
// is a warning to add. w.mu is held.
func (w *Watch) summary(end time.Time, warn error) *Summary {
	s := &Summary{
		URL: w.s.URL, Scrapes: len(w.scrapes), FailedScrapes: w.failed,
		Start: w.start, End: end,
		Counters: map[string]float64{}, Gauges: map[string]GaugeStat{},
	}
	s.Server, _ = Detect(slices.Collect(maps.Keys(w.kinds)))
	kind := func(series string) promtext.Kind {
		if k := w.kinds[series]; k != promtext.Untyped {
			return k
		}
		return kindByName(series)
	}
	last := map[string]float64{}
	for i, sc := range w.scrapes {
		sample := Sample{At: sc.at, Values: map[string]float64{}}
		for series, v := range sc.values {
			bucket := strings.Contains(series, "_bucket{")
			if !bucket {
				sample.Values[series] = v
			}
			switch {
			case bucket || kind(series) == promtext.Counter:
				resets := &s.Resets
				if bucket { // a histogram's reset shows in its _count
					resets = nil
				}
				d := 0.0
				if i > 0 {
					d = increase(last, series, v, resets, sc.at)
				}
				s.Counters[series] += d
				last[series] = v
			default:
				if sc.at.After(w.start) && sc.at.Before(end) {
					g := s.Gauges[series]
					g.Mean += v // the sum until divided below
					if g.N == 0 || v > g.Max {
						g.Max = v
					}
					g.N++
					s.Gauges[series] = g
				}
			}
		}
		s.Samples = append(s.Samples, sample)
	}
	for k, g := range s.Gauges {
		g.Mean /= float64(g.N)
		s.Gauges[k] = g
	}
	slices.SortFunc(s.Resets, func(a, b Reset) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Series, b.Series)
	})
	if w.failed > 0 {
		s.Warnings = append(s.Warnings, fmt.Errorf("server metrics: %d of %d scrapes of %s failed (the first: %v); the run went on", w.failed, w.failed+len(w.scrapes), w.s.URL, w.firstErr))
	}
	for _, r := range s.Resets {
		s.Warnings = append(s.Warnings, fmt.Errorf("server metrics: counter %s went down from %s to %s at %.1f s into the run (the server restarted?): its delta counts from 0 after the reset",
			r.Series, formatValue(r.From), formatValue(r.To), r.At.Sub(w.start).Seconds()))
	}
	if warn != nil {
		s.Warnings = append(s.Warnings, warn)
	}
	return s
}

// increase is series' increase from its value in last to v; a decrease is
// a reset, recorded in resets when not nil, after which v counts from 0.
func increase(last map[string]float64, series string, v float64, resets *[]Reset, at time.Time) float64 {
	prev, ok := last[series]
	if !ok {
		return v // appeared during the run: counts from 0
	}
	if v < prev {
		if resets != nil {
			*resets = append(*resets, Reset{Series: series, From: prev, To: v, At: at})
		}
		return v
	}
	return v - prev
}

// formatValue writes a sample value as the text format does.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Scraped reports whether the page was scraped: s is not nil and the
// scrape before the run succeeded.
func (s *Summary) Scraped() bool { return s != nil && s.Err == nil }

// NotScraped is the one line that says the page was not scraped, and
// why: "server metrics: GET http://host/metrics: 404, not scraped"; ""
// when it was.
func (s *Summary) NotScraped() string {
	if s == nil || s.Err == nil {
		return ""
	}
	msg := s.Err.Error()
	return "server metrics: " + msg + ", " + errNotScraped.Error()
}

// Counter is the sum of the deltas of every series of the metric name
// (whatever its labels); ok is false when the page has none.
func (s *Summary) Counter(name string) (sum float64, ok bool) {
	return sumSeries(s.Counters, name)
}

// sumSeries sums m's series of the metric name.
func sumSeries(m map[string]float64, name string) (sum float64, ok bool) {
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
			ok = true
		}
	}
	return sum, ok
}

// counters sums the deltas of several metrics; ok when every one is there.
func (s *Summary) counters(names []string) (sum float64, ok bool) {
	if len(names) == 0 {
		return 0, false
	}
	for _, n := range names {
		v, has := s.Counter(n)
		if !has {
			return 0, false
		}
		sum += v
	}
	return sum, true
}

// Gauge is the mean and max over the run's scrapes of the sum of the
// metric name's series (one per engine, say) at each scrape; ok is false
// when no scrape during the run had it. A Summary without Samples (read
// back from a result file) has only Gauges: a metric of one series is
// its GaugeStat, one of several is not known.
func (s *Summary) Gauge(name string) (g GaugeStat, ok bool) {
	if name == "" {
		return GaugeStat{}, false
	}
	if s.Samples == nil { // read from a result file: Gauges, of one series
		var found []string
		for k := range s.Gauges {
			if k == name || strings.HasPrefix(k, name+"{") {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			return GaugeStat{}, false
		}
		return s.Gauges[found[0]], true
	}
	for _, sm := range s.Samples {
		if !sm.At.After(s.Start) || !sm.At.Before(s.End) {
			continue
		}
		v, has := sumSeries(sm.Values, name)
		if !has {
			continue
		}
		if g.N == 0 || v > g.Max {
			g.Max = v
		}
		g.Mean += v
		g.N++
	}
	if g.N == 0 {
		return GaugeStat{}, false
	}
	g.Mean /= float64(g.N)
	return g, true
}
