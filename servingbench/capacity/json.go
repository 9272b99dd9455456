package capacity

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/servingbench/servingbench/servingbench"
)

// WriteJSON writes the result as the capacity command's --save-result
// file, indented JSON ending in a newline:
//
//	{
//	  "capacity": 4,                  // 0 when nothing passed
//	  "search": "max-concurrency",    // or "request-rate"
//	  "unit": "concurrency",          // or "req/s"
//	  "at_least": false,
//	  "sla": "ttft.p99<=50ms failed<=0",
//	  "stopped": "resolved",          // a Stop
//	  "reason": "max-concurrency=5: ttft.p99 = 111ms, want <= 50ms (+122.0%)",
//	  "requests_per_point": 100,
//	  "resolution": 0,                // relative; 0: exact (1) for concurrency
//	  "noise": 0.05, "repeats": 3,
//	  "duration": 123.4,              // seconds
//	  "points": [{
//	    "load": 5,                    // the value on the searched dimension
//	    "request_rate": "inf",        // "inf" or a number
//	    "max_concurrency": 5,         // null when unbounded
//	    "num_prompts": 100,
//	    "verdict": "fail",            // "pass" or "fail"
//	    "repeated": false,            // Point.Marginal
//	    "flipped": false,
//	    "violations": [{"limit": "ttft.p99<=50ms", "value": 111.2, "unit": "ms",
//	                    "excess": 61.2, "excess_ratio": 1.224}],
//	    "metrics": {...},             // the judged run's vLLM result (servingbench.WriteJSON)
//	    "trials": [{"verdict", "violations", "metrics"}, ...]  // every run, only when repeated
//	  }, ...]
//	}
//
// A violation's value, excess (value beyond the bound, in its unit) and
// excess_ratio (excess over the bound; null for a bound of 0) are in
// milliseconds for latencies, as vLLM's *_ms keys; a value that could not
// be measured has "unknown" (the reason) instead. The metrics objects are
// vLLM's result JSON written with opt (its Percentiles, and Detailed for
// the per-request arrays).
func (r *SearchResult) WriteJSON(w io.Writer, opt servingbench.JSONOptions) error {
	out := searchJSON{
		Capacity:   r.Capacity,
		Search:     r.Dimension.String(),
		Unit:       r.Dimension.Unit(),
		AtLeast:    r.AtLeast,
		SLA:        r.SLA.String(),
		Stopped:    string(r.Stop),
		Reason:     r.Reason(),
		Requests:   r.Requests,
		Resolution: r.Resolution,
		Noise:      r.Noise,
		Repeats:    r.Repeats,
		Duration:   r.Elapsed.Seconds(),
		Points:     []pointJSON{},
	}
	for i := range r.Points {
		p := &r.Points[i]
		pj := pointJSON{
			Load:     r.Dimension.Of(p.Load),
			loadJSON: newLoadJSON(p.Load),
			Repeated: p.Marginal,
			Flipped:  p.Flipped,
		}
		judged, err := newTrialJSON(&p.Trials[p.Judged], p.Pass, opt)
		if err != nil {
			return err
		}
		pj.Verdict, pj.Violations, pj.Metrics = judged.Verdict, judged.Violations, judged.Metrics
		if len(p.Trials) > 1 {
			for j := range p.Trials {
				tj, err := newTrialJSON(&p.Trials[j], p.Trials[j].Pass, opt)
				if err != nil {
					return err
				}
				pj.Trials = append(pj.Trials, tj)
			}
		}
		out.Points = append(out.Points, pj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

type searchJSON struct {
	Capacity   float64     `json:"capacity"`
	Search     string      `json:"search"`
	Unit       string      `json:"unit"`
	AtLeast    bool        `json:"at_least"`
	SLA        string      `json:"sla"`
	Stopped    string      `json:"stopped"`
	Reason     string      `json:"reason"`
	Requests   int         `json:"requests_per_point"`
	Resolution float64     `json:"resolution"`
	Noise      float64     `json:"noise"`
	Repeats    int         `json:"repeats"`
	Duration   float64     `json:"duration"`
	Points     []pointJSON `json:"points"`
}

// loadJSON is a load in vLLM's result-file keys.
type loadJSON struct {
	RequestRate    rateJSON `json:"request_rate"`
	MaxConcurrency *int     `json:"max_concurrency"`
	NumPrompts     *int     `json:"num_prompts"`
}

func newLoadJSON(l Load) loadJSON {
	lj := loadJSON{RequestRate: rateJSON(l.Rate)}
	if l.Concurrency > 0 {
		lj.MaxConcurrency = &l.Concurrency
	}
	if l.Requests > 0 {
		lj.NumPrompts = &l.Requests
	}
	return lj
}

type pointJSON struct {
	Load float64 `json:"load"`
	loadJSON
	Verdict    string          `json:"verdict"`
	Repeated   bool            `json:"repeated"`
	Flipped    bool            `json:"flipped"`
	Violations []violationJSON `json:"violations"`
	Metrics    json.RawMessage `json:"metrics"`
	Trials     []trialJSON     `json:"trials,omitempty"`
}

type trialJSON struct {
	Verdict    string          `json:"verdict"`
	Violations []violationJSON `json:"violations"`
	Metrics    json.RawMessage `json:"metrics"`
}

func newTrialJSON(t *Trial, pass bool, opt servingbench.JSONOptions) (trialJSON, error) {
	tj := trialJSON{Verdict: verdictWord(pass), Violations: []violationJSON{}}
	for _, m := range t.Measurements {
		if !m.Holds() {
			tj.Violations = append(tj.Violations, newViolationJSON(m))
		}
	}
	var b bytes.Buffer
	if err := servingbench.WriteJSON(&b, t.Report, opt); err != nil {
		return tj, err
	}
	tj.Metrics = b.Bytes()
	return tj, nil
}

func verdictWord(pass bool) string {
	if pass {
		return "pass"
	}
	return "fail"
}

type violationJSON struct {
	Limit   string     `json:"limit"`
	Value   *float64   `json:"value,omitempty"`
	Unit    string     `json:"unit,omitempty"`
	Excess  *float64   `json:"excess,omitempty"`
	Ratio   *floatJSON `json:"excess_ratio,omitempty"`
	Unknown string     `json:"unknown,omitempty"`
}

func newViolationJSON(m Measurement) violationJSON {
	v := violationJSON{Limit: m.Limit.String()}
	if m.Unknown != "" {
		v.Unknown = m.Unknown
		return v
	}
	scale := 1.0
	v.Unit = metricUnit(m.Limit.Metric)
	if m.Limit.Metric.IsLatency() {
		scale = 1e6 // nanoseconds to milliseconds
	}
	value, excess := m.Value/scale, m.Excess()/scale
	v.Value, v.Excess = &value, &excess
	ratio := floatJSON(m.Ratio())
	v.Ratio = &ratio
	return v
}

// metricUnit is the unit of a limit's value in the JSON.
func metricUnit(m servingbench.Metric) string {
	switch {
	case m.IsLatency():
		return "ms"
	case m == servingbench.MetricThroughput || m == servingbench.MetricGoodput:
		return "req/s"
	case m == servingbench.MetricOutputThroughput || m == servingbench.MetricTotalThroughput:
		return "tok/s"
	case m == servingbench.MetricFailedRate:
		return "fraction"
	}
	return "requests"
}

// rateJSON is a request rate as vLLM writes it: "inf" or a number.
type rateJSON float64

func (r rateJSON) MarshalJSON() ([]byte, error) {
	if r == 0 || math.IsInf(float64(r), 1) {
		return []byte(`"inf"`), nil
	}
	return strconv.AppendFloat(nil, float64(r), 'g', -1, 64), nil
}

// floatJSON is a number, or null when it is not finite.
type floatJSON float64

func (f *floatJSON) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(*f)) || math.IsInf(float64(*f), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(*f), 'g', -1, 64), nil
}
