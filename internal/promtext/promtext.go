// Package promtext reads a server's /metrics, the Prometheus text
// exposition format, with the Prometheus project's own parser
// (github.com/prometheus/common/expfmt), into one value per series.
//
// github.com/prometheus/common stays at v0.72.1: v0.73's expfmt imports
// github.com/pandatix/go-abnf, which imports the testing package, and the
// CLI binary links no testing (cmd/servingbench's TestNoTestingDeps).
package promtext

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples holds one scrape: the value of each series, keyed by the series
// in Prometheus text form, the metric name followed by its labels sorted
// by name ("llamacpp:tokens_predicted_total",
// `vllm:prefix_cache_hits_total{engine="0",model_name="qwen"}`).
// Histograms and summaries give their _bucket (with le), quantile, _sum
// and _count series, as the text format writes them.
type Samples map[string]float64

// Parse reads a text exposition (version 0.0.4, which llama.cpp, vLLM,
// SGLang and TGI serve). Metric names may hold colons, as vLLM's and
// llama.cpp's do. A malformed exposition is an error naming the line, as
// expfmt reports it.
func Parse(r io.Reader) (Samples, error) {
	s, _, err := parse(r, false)
	return s, err
}

// parse is Parse, and with kinds the Kind of every series too.
func parse(r io.Reader, withKinds bool) (Samples, Kinds, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, nil, fmt.Errorf("promtext: %w", err)
	}
	s := Samples{}
	var kinds Kinds
	if withKinds {
		kinds = Kinds{}
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			if dup := s.add(name, f.GetType(), m, kinds); dup != "" {
				return nil, nil, fmt.Errorf("promtext: series %s appears twice", dup)
			}
		}
	}
	return s, kinds, nil
}

// add records the series of one metric; it returns a series already
// recorded, which the text format does not allow (it would leave two
// values for one series), else "".
func (s Samples) add(name string, typ dto.MetricType, m *dto.Metric, kinds Kinds) (dup string) {
	set := func(k string, kind Kind, v float64) {
		if _, ok := s[k]; ok && dup == "" {
			dup = k
		}
		s[k] = v
		if kinds != nil {
			kinds[k] = kind
		}
	}
	labels := m.GetLabel()
	switch typ {
	case dto.MetricType_COUNTER:
		set(series(name, labels), Counter, m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		set(series(name, labels), Gauge, m.GetGauge().GetValue())
	case dto.MetricType_SUMMARY:
		sum := m.GetSummary()
		for _, q := range sum.GetQuantile() {
			set(series(name, labels, "quantile", formatFloat(q.GetQuantile())), Gauge, q.GetValue())
		}
		set(series(name+"_sum", labels), Counter, sum.GetSampleSum())
		set(series(name+"_count", labels), Counter, float64(sum.GetSampleCount()))
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			set(series(name+"_bucket", labels, "le", formatFloat(b.GetUpperBound())), Counter, float64(b.GetCumulativeCount()))
		}
		set(series(name+"_sum", labels), Counter, h.GetSampleSum())
		set(series(name+"_count", labels), Counter, float64(h.GetSampleCount()))
	default: // untyped
		set(series(name, labels), Untyped, m.GetUntyped().GetValue())
	}
	return dup
}

// Sum adds the values of every series of the metric name, whatever its
// labels (vLLM exposes one series per engine); ok is false when there is
// none.
func (s Samples) Sum(name string) (sum float64, ok bool) {
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
			ok = true
		}
	}
	return sum, ok
}

// Sub returns s[name] - old[name], and an error naming the series when
// either scrape lacks it.
func (s Samples) Sub(old Samples, name string) (float64, error) {
	now, ok := s[name]
	if !ok {
		return 0, fmt.Errorf("promtext: metric %s missing from the later scrape", name)
	}
	then, ok := old[name]
	if !ok {
		return 0, fmt.Errorf("promtext: metric %s missing from the earlier scrape", name)
	}
	return now - then, nil
}

// series is name{labels} with the labels, plus an extra pair when given,
// sorted by name, values quoted as the text format escapes them.
func series(name string, labels []*dto.LabelPair, extra ...string) string {
	pairs := make([][2]string, 0, len(labels)+1)
	for _, l := range labels {
		pairs = append(pairs, [2]string{l.GetName(), l.GetValue()})
	}
	if len(extra) == 2 {
		pairs = append(pairs, [2]string{extra[0], extra[1]})
	}
	if len(pairs) == 0 {
		return name
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p[0])
		b.WriteString(`="`)
		b.WriteString(escape(p[1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// escape escapes a label value as the text format does: backslash, double
// quote and line feed.
func escape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// formatFloat writes a bound or quantile as the text format does: +Inf,
// -Inf, NaN, or the shortest decimal.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
