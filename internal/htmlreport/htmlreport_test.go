package htmlreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.Local)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// fixtureRun is a run of known times: request i is scheduled at 100i ms,
// sent 10 ms later, has its first token 50 ms after that and then
// 4 more a 20 ms apart (5 events, 10 output tokens); every fifth request
// fails with HTTP 503 (one with a transport error).
func fixtureRun(n int, label, model string) *servingbench.Report {
	var results []*servingbench.Result
	for i := range n {
		sched := at(100 * float64(i))
		r := &servingbench.Result{Index: i, Scheduled: sched, SlotAcquired: sched.Add(10 * time.Millisecond), Sent: sched.Add(10 * time.Millisecond), InputTokens: 32}
		switch {
		case i%5 == 4 && i == 4:
			r.Err = errors.New("dial tcp 127.0.0.1:1: connection refused")
		case i%5 == 4:
			r.Err = &servingbench.HTTPError{StatusCode: 503, Body: "overloaded"}
		default:
			for k := range 5 {
				r.Events = append(r.Events, time.Duration(50+20*k)*time.Millisecond)
			}
			r.Done = r.EventTime(4)
			r.OutputTokens, r.OutputSource, r.InputSource = 10, servingbench.SourceUsage, servingbench.SourceUsage
		}
		results = append(results, r)
	}
	end := results[len(results)-1].Sent.Add(200 * time.Millisecond)
	rep := servingbench.Summarize(t0, end, results, servingbench.SLO{})
	rep.Date, rep.Label, rep.Model, rep.Backend, rep.NumPrompts = t0.Truncate(time.Second), label, model, "openai", n
	rep.RequestRate, rep.MaxConcurrency = 10, 4
	return rep
}

func fileOf(t *testing.T, rep *servingbench.Report, detailed bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&buf, rep, servingbench.JSONOptions{Detailed: detailed}))
	return buf.Bytes()
}

func load(t *testing.T, name string, data []byte) *Run {
	t.Helper()
	r, err := Load(name, data)
	require.NoError(t, err, "Load(%s)", name)
	return r
}

func TestSeriesExact(t *testing.T) {
	rep := fixtureRun(20, "fp16", "m")
	// Date has whole seconds; the run started at t0 itself.
	rep.Date = t0
	r := load(t, "a.json", fileOf(t, rep, true))

	c, ok := r.CDF("ttft")
	require.True(t, ok)
	assert.Equal(t, 16, c.N, "TTFT CDF over the 16 successful requests")
	assert.Equal(t, Point{50, 1.0 / 16}, c.Points[0])
	assert.Equal(t, Point{50, 1}, c.Points[len(c.Points)-1])
	c, _ = r.CDF("tpot")
	assert.Equal(t, Point{80.0 / 9, 1}, c.Points[len(c.Points)-1], "TPOT = (130 - 50) / (10 - 1) ms")
	c, _ = r.CDF("itl")
	assert.Equal(t, 64, c.N, "4 gaps a request")
	assert.Equal(t, Point{20, 1}, c.Points[len(c.Points)-1])
	c, _ = r.CDF("e2el")
	assert.Equal(t, Point{130, 1}, c.Points[len(c.Points)-1])

	spans, total, ok := r.Timeline()
	require.True(t, ok)
	assert.Equal(t, 16, total)
	assert.Equal(t, Span{Index: 1, Queue: 0.1, Start: 0.11, First: 0.16, End: 0.24, InputTokens: 32, Output: 10}, roundSpan(spans[1]))

	tokens, inFlight, ok := r.Throughput()
	require.True(t, ok)
	assert.Equal(t, rep.PeakOutputThroughput, slices.Max(tokens), "peak tok/s = the file's max_output_tokens_per_s")
	assert.Equal(t, float64(rep.PeakConcurrency), slices.Max(inFlight), "peak in flight = the file's max_concurrent_requests")
	assert.Equal(t, []float64{80, 80, 0, 0}, tokens, "8 successful requests of 10 tokens in each of the first two seconds; ceil(2.11 s) + 1 buckets")

	fails, ok := r.Failures()
	require.True(t, ok)
	require.Len(t, fails, 2)
	assert.Equal(t, "HTTP 503", fails[0].Reason, "the error_counts reason that begins the error")
	assert.Equal(t, []float64{1, 2, 0, 0}, fails[0].Counts, "sent at 1.41 s, 0.91 s and 1.91 s")
	assert.Equal(t, "dial tcp 127.0.0.1:1: connection refused", fails[1].Reason, "an error without a reason of its own is its reason")
}

func roundSpan(s Span) Span {
	s.Queue, s.Start, s.First, s.End = round6(s.Queue), round6(s.Start), round6(s.First), round6(s.End)
	return s
}

func TestCDFBounded(t *testing.T) {
	ms := make([]float64, 10000)
	for i := range ms {
		ms[i] = float64(len(ms) - i)
	}
	c := cdf(ms)
	assert.LessOrEqual(t, len(c.Points), maxCDFPoints+1)
	assert.Equal(t, Point{1, 1e-4}, c.Points[0])
	assert.Equal(t, Point{10000, 1}, c.Points[len(c.Points)-1])
}

// dataOf extracts and decodes the page's JSON data block.
func dataOf(t *testing.T, page string) chartData {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindStringSubmatch(page)
	require.NotNil(t, m, "the page has its data block")
	var d chartData
	require.NoError(t, json.Unmarshal([]byte(m[1]), &d))
	return d
}

func TestHTMLEscaping(t *testing.T) {
	evil := `x</script><script>alert("pwned")</script>'"&<b>`
	rep := fixtureRun(10, "", `model<img src=x onerror=alert(1)>`)
	rep.Metadata = map[string]string{"label": evil}
	r := load(t, "evil.json", fileOf(t, rep, true))
	require.Equal(t, evil, r.Label)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{r}))
	page := buf.String()
	notContains(t, page, `<script>alert`, "a label closes no script element")
	notContains(t, page, `<img src=x`, "a model name is text")
	notContains(t, page, `<b>`, "a label is text")
	assert.Equal(t, 3, strings.Count(page, "</script>"), "the data, the library and the report's script end")
	contains(t, page, "x&lt;/script&gt;&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;&#39;&#34;&amp;&lt;b&gt;", "the label in the tables")
	d := dataOf(t, page)
	assert.Equal(t, evil, d.Runs[0].Label, "the label reaches the charts unchanged")
	assert.Contains(t, d.Charts["cdf-ttft"].Series[0].Label, evil)
}

func TestHTMLNoNetwork(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{load(t, "a.json", fileOf(t, fixtureRun(10, "a", "m"), true))}))
	page := buf.String()
	notContains(t, page, "sourceMappingURL", "no source map to fetch")
	contains(t, page, `default-src 'none'`, "the page's policy forbids every fetch")
	assert.False(t, regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]*\s(src|href)=`).MatchString(page), "no element loads anything")
	contains(t, page, "Chart.js v4.6.1", "the library is inside")
}

func TestHTMLSideBySide(t *testing.T) {
	a := load(t, "fp16.json", fileOf(t, fixtureRun(20, "fp16", "m"), true))
	b := load(t, "w8a8.json", fileOf(t, fixtureRun(10, "w8a8", "m"), true))
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{a, b}))
	page := buf.String()
	contains(t, page, "<th>fp16</th><th>w8a8</th>", "one column a file")
	for _, row := range []string{"request throughput", "output token throughput", "total token throughput", "mean TTFT", "mean TPOT", "mean ITL", "P99 E2EL"} {
		contains(t, page, "<td>"+row+"</td>", "the seed's rows")
	}
	contains(t, page, fmt.Sprintf(`<td class="num">%s</td><td class="num">%s</td>`, fmtFloat(a.Report.RequestThroughput), fmtFloat(b.Report.RequestThroughput)))
	d := dataOf(t, page)
	for _, id := range []string{"cdf-ttft", "cdf-tpot", "cdf-itl", "cdf-e2el"} {
		assert.Len(t, d.Charts[id].Series, 2, "%s overlays both files", id)
	}
	for _, id := range []string{"timeline-0", "timeline-1", "throughput-0", "throughput-1", "failures-0", "failures-1"} {
		assert.Contains(t, d.Charts, id)
		contains(t, page, `<canvas id="`+id+`">`)
	}
	assert.Len(t, regexp.MustCompile(`<canvas id="([^"]+)">`).FindAllString(page, -1), len(d.Charts), "a canvas a chart, a chart a canvas")
}

func TestMissingKeys(t *testing.T) {
	summary := load(t, "summary.json", fileOf(t, fixtureRun(10, "s", "m"), false))
	const v091 = `{"date": "20250724-101500", "backend": "vllm", "model_id": "qwen2.5", "duration": 2.0, "completed": 2, ` +
		`"total_input_tokens": 20, "total_output_tokens": 6, "request_throughput": 1.0, "input_lens": [10, 10], "output_lens": [3, 3], ` +
		`"ttfts": [0.1, 0.2], "itls": [[0.05, 0.05], [0.05, 0.06]], "generated_texts": ["", ""], "errors": ["", ""], "mean_ttft_ms": NaN}`
	old := load(t, "v091.json", []byte(v091))
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{summary, old}))
	page := buf.String()
	d := dataOf(t, page)
	contains(t, page, "s: Time to First Token CDF: not drawn, the file has no ttfts (") // the summary file
	contains(t, page, "v091: Request timeline: not drawn, the file has no start_times, latencies")
	contains(t, page, "--save-detailed")
	assert.Len(t, d.Charts["cdf-ttft"].Series, 1, "v0.9.1's ttfts still give a CDF")
	assert.Len(t, d.Charts["cdf-itl"].Series, 1)
	assert.NotContains(t, d.Charts, "cdf-e2el", "no file has latencies")
	contains(t, page, "End-to-end Latency CDF: no run has a successful request with it.")
	assert.NotContains(t, d.Charts, "timeline-1")
}

func TestLoadErrors(t *testing.T) {
	for name, in := range map[string]string{
		"text":   "============ Serving Benchmark Result ============",
		"array":  `[1, 2]`,
		"no key": `{"backend": "vllm"}`,
	} {
		_, err := Load(name+".json", []byte(in))
		require.Error(t, err, "Load(%q)", in)
		assert.ErrorContains(t, err, name+".json", "the error names the file")
		var fe *servingbench.ResultFileError
		assert.True(t, errors.As(err, &fe), "Load(%q) = %v, want a *servingbench.ResultFileError", in, err)
	}
	assert.ErrorContains(t, WriteHTML(&bytes.Buffer{}, nil), "no result files")
}

// serverFile adds server_metrics and time_series in the shape issue 13
// gives them (the exact shape is the scraper's; the report reads it
// defensively).
func serverFile(t *testing.T, rep *servingbench.Report, serverMetrics, timeSeries string) []byte {
	data := fileOf(t, rep, true)
	return append(data[:len(data)-1], []byte(`, "server_metrics": `+serverMetrics+`, "time_series": `+timeSeries+`}`)...)
}

func TestServerSide(t *testing.T) {
	sm := `{"url": "http://127.0.0.1:8000/metrics", "scrapes": 4, "failed_scrapes": 0, ` +
		`"counters": {"vllm:prompt_tokens_total{model_name=\"m\"}": 512}, ` +
		`"gauges": {"vllm:num_requests_running{model_name=\"m\"}": {"mean": 2.5, "max": 4}}, "samples": []}`
	ts := `{"interval_s": 1, "t": [0, 1, 2], "dispatched": [8, 8, 4], "in_flight": [3, 4, 1], "output_tokens_per_s": [80, 80, 0], ` +
		`"vllm:num_requests_running": [3, 4, null], "server": {"vllm:kv_cache_usage_perc": [0.1, 0.25, 0.05]}, "ttft_ms": [1, 2, 3]}`
	r := load(t, "srv.json", serverFile(t, fixtureRun(20, "srv", "m"), sm, ts))
	require.NotNil(t, r.Server)
	require.NotNil(t, r.Series)
	names := []string{}
	for _, g := range r.Series.Gauges {
		names = append(names, g.Name)
	}
	assert.Equal(t, []string{"vllm:kv_cache_usage_perc", "vllm:num_requests_running"}, names, "the server's series, not the client's")
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, []*Run{r}))
	page := buf.String()
	d := dataOf(t, page)
	require.Contains(t, d.Charts, "gauges-0")
	assert.Equal(t, [][]float64{{0, 3}, {1, 4}}, d.Charts["gauges-0"].Series[1].Points, "a null is left out")
	contains(t, page, "vllm:prompt_tokens_total{model_name=&#34;m&#34;}</td><td class=\"num\">512.00")
	contains(t, page, "<td class=\"num\">2.50</td><td class=\"num\">4.00</td>")

	bad := load(t, "bad.json", serverFile(t, fixtureRun(10, "bad", "m"), `{"counters": [1]}`, `{"t": "now"}`))
	var out bytes.Buffer
	require.NoError(t, WriteHTML(&out, []*Run{bad}), "a bad server side is a note, not a failure")
	contains(t, out.String(), "server_metrics left out")
	contains(t, out.String(), "time_series left out")
}

func TestPNG(t *testing.T) {
	a := load(t, "a.json", fileOf(t, fixtureRun(20, "a", "m"), true))
	b := load(t, "b.json", fileOf(t, fixtureRun(10, "b", "m"), false))
	var buf bytes.Buffer
	require.NoError(t, WritePNG(&buf, []*Run{a, b}))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, pngWidth, img.Bounds().Dx())
	assert.Equal(t, pngHeight, img.Bounds().Dy())
	// Each of the six panels has the first run's blue line in it.
	blue := hexColor(palette[0])
	for row := range 2 {
		for col := range 3 {
			found := false
			for y := row * pngHeight / 2; y < (row+1)*pngHeight/2 && !found; y++ {
				for x := col * pngWidth / 3; x < (col+1)*pngWidth/3; x++ {
					if img.At(x, y) == blue {
						found = true
						break
					}
				}
			}
			assert.True(t, found, "panel (%d, %d) has a line of the first run", row, col)
		}
	}
}

// contains and notContains check a page without printing it whole.
func contains(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	assert.True(t, strings.Contains(page, s), "the page has %q %v", s, msg)
}

func notContains(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	assert.False(t, strings.Contains(page, s), "the page has no %q %v", s, msg)
}
