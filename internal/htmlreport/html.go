package htmlreport

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// chartJS is Chart.js's UMD build from the npm package chart.js (see
// chartjs/README.md for the version and how it was taken).
//
//go:embed chartjs/chart.umd.min.js
var chartJS []byte

//go:embed chartjs/LICENSE.md
var chartJSLicense string

//go:embed report.js
var reportJS string

//go:embed report.tmpl
var reportTmpl string

var page = template.Must(template.New("report").Parse(reportTmpl))

// palette colours the runs, then the series within one chart.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// chartData is everything the page's script draws, marshalled as JSON
// into the page. Every chart is a canvas whose id is a key of Charts.
type chartData struct {
	Runs   []runData            `json:"runs"`
	Charts map[string]chartSpec `json:"charts"`
}

type runData struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// chartSpec is one chart: its kind (cdf, timeline, throughput, gauges,
// failures), its axes' titles and its series.
type chartSpec struct {
	Kind   string       `json:"kind"`
	X      string       `json:"x"`
	Y      string       `json:"y"`
	Y2     string       `json:"y2,omitempty"`
	Series []seriesSpec `json:"series"`
	// Timeline only: the requests, top to bottom.
	Requests []timelineRow `json:"requests,omitempty"`
}

type seriesSpec struct {
	Label  string      `json:"label"`
	Color  string      `json:"color"`
	Axis   string      `json:"axis,omitempty"`
	Points [][]float64 `json:"points"`
}

type timelineRow struct {
	Label string     `json:"label"`
	Queue [2]float64 `json:"queue"`
	Pre   [2]float64 `json:"prefill"`
	Dec   [2]float64 `json:"decode"`
}

// section is one heading of the page with its charts and notes.
type section struct {
	Title  string
	Charts []chartRef
	Notes  []string
}

type chartRef struct {
	ID, Title string
	Tall      bool
}

type pageData struct {
	Title    string
	Headers  []runHeader
	Columns  []string
	Rows     []summaryRow
	PerTurn  []perTurnRow
	Server   []serverTable
	Sections []section
	Notes    []string
	Data     template.JS
	Script   template.JS
	ChartJS  template.JS
	License  string
}

// runHeader names one run: its file and what it measured.
type runHeader struct {
	Label, File, Model, Backend, Date, Server, Load string
	Partial                                         bool
}

func headerOf(r *Run) runHeader {
	rep := r.Report
	load := "request rate inf"
	if !math.IsInf(rep.RequestRate, 1) && rep.RequestRate > 0 {
		load = "request rate " + strconv.FormatFloat(rep.RequestRate, 'f', -1, 64) + "/s"
	}
	if rep.MaxConcurrency > 0 {
		load += ", max concurrency " + strconv.Itoa(rep.MaxConcurrency)
	}
	if rep.NumPrompts > 0 {
		load += ", " + strconv.Itoa(rep.NumPrompts) + " prompts"
	}
	return runHeader{Label: r.Label, File: r.Name, Model: rep.Model, Backend: rep.Backend,
		Date: dateText(rep.Date), Server: rep.Server, Load: load, Partial: rep.Partial}
}

// serverTable lists one run's server_metrics.
type serverTable struct {
	Label, URL             string
	Scrapes, FailedScrapes int
	Counters               []nameValue
	Gauges                 []gaugeRow
}

type nameValue struct{ Name, Value string }
type gaugeRow struct{ Name, Mean, Max string }

// WriteHTML writes the report of runs as one HTML page that needs no
// network: the chart library, the script and the data are inside it.
// Labels, model names and error messages from the files are text to it:
// the page's template escapes them, the data is JSON with <, > and &
// escaped inside a script element of type application/json, and the
// charts draw them on canvases.
func WriteHTML(w io.Writer, runs []*Run) error {
	if len(runs) == 0 {
		return fmt.Errorf("htmlreport: no result files")
	}
	pd, err := build(runs)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, pd); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// build lays out the page: which charts each section has and their data.
func build(runs []*Run) (*pageData, error) {
	for _, r := range runs {
		r.Notes = slices.Clone(r.loadNotes)
	}
	d := chartData{Charts: map[string]chartSpec{}}
	pd := &pageData{Title: "servingbench report"}
	for i, r := range runs {
		pd.Headers = append(pd.Headers, headerOf(r))
		d.Runs = append(d.Runs, runData{Label: r.Label, Color: palette[i%len(palette)]})
		pd.Columns = append(pd.Columns, r.Label)
	}
	pd.Rows = summaryRows(runs)
	pd.PerTurn = perTurnRows(runs) // perturn.go

	// CDFs, all runs on each.
	cdfs := section{Title: "Latency distributions (CDF)"}
	for _, m := range cdfMetrics {
		spec := chartSpec{Kind: "cdf", X: m.Title + " (ms)", Y: "fraction of requests ≤ x"}
		if m.Key == "itl" {
			spec.Y = "fraction of gaps ≤ x"
		}
		for i, r := range runs {
			c, ok := r.CDF(m.Key)
			if !ok || c.N == 0 {
				continue
			}
			s := seriesSpec{Label: fmt.Sprintf("%s (n=%d)", r.Label, c.N), Color: palette[i%len(palette)]}
			for _, p := range c.Points {
				s.Points = append(s.Points, []float64{round6(p.X), round6(p.Y)})
			}
			spec.Series = append(spec.Series, s)
		}
		if len(spec.Series) == 0 {
			cdfs.Notes = append(cdfs.Notes, m.Title+" CDF: no run has a successful request with it.")
			continue
		}
		id := "cdf-" + m.Key
		d.Charts[id] = spec
		cdfs.Charts = append(cdfs.Charts, chartRef{ID: id, Title: m.Title})
	}
	pd.Sections = append(pd.Sections, cdfs)

	timeline := section{Title: "Request timeline: queue, prefill (TTFT), decode"}
	over := section{Title: "Output tokens per second and requests active in each second"}
	gauges := section{Title: "Server gauges over time"}
	fails := section{Title: "Failures over time, by reason"}
	for i, r := range runs {
		if spans, total, ok := r.Timeline(); ok && total > 0 {
			id := fmt.Sprintf("timeline-%d", i)
			spec := chartSpec{Kind: "timeline", X: "seconds since the run's start", Y: "request"}
			for _, s := range spans {
				spec.Requests = append(spec.Requests, timelineRow{
					Label: fmt.Sprintf("req %d (%d in, %d out)", s.Index, s.InputTokens, s.Output),
					Queue: [2]float64{round6(s.Queue), round6(s.Start)},
					Pre:   [2]float64{round6(s.Start), round6(s.First)},
					Dec:   [2]float64{round6(s.First), round6(s.End)},
				})
			}
			d.Charts[id] = spec
			title := r.Label
			if len(spans) < total {
				title += fmt.Sprintf(" (the first %d of %d successful requests)", len(spans), total)
			}
			timeline.Charts = append(timeline.Charts, chartRef{ID: id, Title: title, Tall: true})
		} else if ok {
			timeline.Notes = append(timeline.Notes, r.Label+": no successful request to draw.")
		}
		if tokens, inFlight, ok := r.Throughput(); ok {
			id := fmt.Sprintf("throughput-%d", i)
			d.Charts[id] = chartSpec{Kind: "throughput", X: "second of the run", Y: "output tokens / s", Y2: "requests active in the second",
				Series: []seriesSpec{
					{Label: "output tok/s", Color: palette[0], Points: indexed(tokens)},
					{Label: "active in the second", Color: palette[1], Axis: "y2", Points: indexed(inFlight)},
				}}
			over.Charts = append(over.Charts, chartRef{ID: id, Title: r.Label})
		}
		if r.Series != nil && len(r.Series.Gauges) > 0 {
			id := fmt.Sprintf("gauges-%d", i)
			spec := chartSpec{Kind: "gauges", X: "seconds since the run's start", Y: "value"}
			for j, g := range r.Series.Gauges {
				s := seriesSpec{Label: g.Name, Color: palette[j%len(palette)]}
				for k, v := range g.Values {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						s.Points = append(s.Points, []float64{round6(r.Series.T[k]), round6(v)})
					}
				}
				spec.Series = append(spec.Series, s)
			}
			d.Charts[id] = spec
			gauges.Charts = append(gauges.Charts, chartRef{ID: id, Title: r.Label})
		}
		if series, ok := r.Failures(); ok && len(series) > 0 {
			id := fmt.Sprintf("failures-%d", i)
			spec := chartSpec{Kind: "failures", X: "second the request was sent in", Y: "failed requests"}
			for j, s := range series {
				spec.Series = append(spec.Series, seriesSpec{Label: s.Reason, Color: palette[(j+1)%len(palette)], Points: indexed(s.Counts)})
			}
			d.Charts[id] = spec
			fails.Charts = append(fails.Charts, chartRef{ID: id, Title: r.Label})
		} else if ok {
			fails.Notes = append(fails.Notes, r.Label+": no request failed.")
		}
		if r.Series == nil && r.Server == nil {
			gauges.Notes = append(gauges.Notes, r.Label+": the file has no server_metrics or time_series (the server's /metrics was not scraped).")
		} else if r.Series == nil {
			gauges.Notes = append(gauges.Notes, r.Label+": the file has no time_series; its server_metrics are in the table above.")
		}
		if r.Server != nil {
			pd.Server = append(pd.Server, serverTableOf(r))
		}
	}
	pd.Sections = append(pd.Sections, timeline, over, gauges, fails)
	for _, r := range runs {
		for _, n := range r.Notes {
			pd.Notes = append(pd.Notes, r.Label+": "+n)
		}
	}
	js, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("htmlreport: %w", err)
	}
	pd.Data = template.JS(js)
	pd.Script = template.JS(reportJS)
	pd.ChartJS = template.JS(withoutSourceMap(chartJS))
	pd.License = chartJSLicense
	return pd, nil
}

// withoutSourceMap drops the "//# sourceMappingURL=" line at the end of the
// minified library: the map is not in the page, and nothing may be fetched.
func withoutSourceMap(js []byte) []byte {
	if i := bytes.LastIndex(js, []byte("//# sourceMappingURL=")); i >= 0 {
		return js[:i]
	}
	return js
}

func serverTableOf(r *Run) serverTable {
	t := serverTable{Label: r.Label, URL: r.Server.URL, Scrapes: r.Server.Scrapes, FailedScrapes: r.Server.FailedScrapes}
	for _, k := range slices.Sorted(maps.Keys(r.Server.Counters)) {
		t.Counters = append(t.Counters, nameValue{k, fmtFloat(r.Server.Counters[k])})
	}
	for _, k := range slices.Sorted(maps.Keys(r.Server.Gauges)) {
		g := r.Server.Gauges[k]
		t.Gauges = append(t.Gauges, gaugeRow{k, fmtFloat(g.Mean), fmtFloat(g.Max)})
	}
	return t
}

// indexed pairs each value with its index (its second of the run).
func indexed(vs []float64) [][]float64 {
	out := make([][]float64, len(vs))
	for i, v := range vs {
		out[i] = []float64{float64(i), round6(v)}
	}
	return out
}

// round6 keeps six decimals, enough for microseconds in seconds and for
// the fractions of a CDF, and makes the page smaller.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// fmtFloat is a value as the printed block writes floats: two decimals.
func fmtFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtInt(v int) string { return strconv.Itoa(v) }

// pctWord is a percentile as vLLM names it: 99, 99.9.
func pctWord(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// dateText is a run's date for the page, "" when the file has none.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05")
}
