package htmlreport

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds Debian's chromium (package chromium, /usr/bin/chromium).
// Without it the test skips in one line, unless CI=true: CI installs it
// (.ci/install-chromium), so there its absence fails the test, except
// when the install script said why it could not install it, for a reason
// outside the project (SERVINGBENCH_CHROMIUM_UNAVAILABLE).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if reason := os.Getenv("SERVINGBENCH_CHROMIUM_UNAVAILABLE"); reason != "" {
		t.Skip("no chromium: .ci/install-chromium could not install it: " + reason)
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH under CI=true: .ci/install-chromium installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium to run the browser test)")
	return ""
}

// artifactDir is where the screenshot goes: $SERVINGBENCH_ARTIFACTS, else
// servingbench-artifacts in the temporary directory.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("SERVINGBENCH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "servingbench-artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// canvasStats is what the page's canvases hold, as the browser drew them.
type canvasStats struct {
	ID       string `json:"id"`
	Width    int    `json:"w"`
	Height   int    `json:"h"`
	Painted  int    `json:"painted"`  // pixels not transparent
	Expected int    `json:"expected"` // pixels of the chart's first series' colour
	Chart    bool   `json:"chart"`    // Chart.js has a chart on it
}

// canvasJS measures every canvas: painted pixels, and pixels within 8 per
// channel of the colour of the chart's first series (the decode span's
// green for a timeline), so that axes alone do not count as a chart.
const canvasJS = `(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  return Array.from(document.querySelectorAll('canvas')).map(c => {
    const spec = data.charts[c.id];
    const hex = spec.kind === 'timeline' ? '#2ca02c' : spec.series[0].color;
    const want = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0, expected = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      painted++;
      if (Math.abs(d[i] - want[0]) <= 8 && Math.abs(d[i + 1] - want[1]) <= 8 && Math.abs(d[i + 2] - want[2]) <= 8) expected++;
    }
    return {id: c.id, w: c.width, h: c.height, painted, expected, chart: !!Chart.getChart(c)};
  });
})()`

// TestBrowser opens a report in a real headless Chromium: the page loads
// with no JavaScript error or console error, requests nothing but itself,
// every chart of every kind (CDF, timeline, throughput, server gauges,
// failures) has drawn its series, and a full-page screenshot is written
// for CI's artifacts.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	sm := `{"url": "http://127.0.0.1:8000/metrics", "scrapes": 3, "failed_scrapes": 0, "counters": {"vllm:num_preemptions_total": 2}, "gauges": {}}`
	ts := `{"interval_s": 1, "t": [0, 1, 2, 3], "vllm:num_requests_running": [3, 4, 4, 1], "vllm:kv_cache_usage_perc": [0.1, 0.3, 0.35, 0.05]}`
	evil := `fp16 </script><script>alert("x")</script> '"`
	a := fixtureRun(40, evil, "sim-7b-fp16")
	b := fixtureRun(30, "w8a8", "sim-7b-w8a8")
	runs := []*Run{load(t, "fp16.json", serverFile(t, a, sm, ts)), load(t, "w8a8.json", fileOf(t, b, true))}
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, runs))
	d := dataOf(t, page.String())
	kinds := map[string]bool{}
	for _, c := range d.Charts {
		kinds[c.Kind] = true
	}
	require.Len(t, kinds, 5, "the page has every kind of chart: %v", kinds)
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, page.Bytes(), 0o644))
	pageURL := (&url.URL{Scheme: "file", Path: path}).String()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute) // a hang bound, not a speed check
	defer cancelTimeout()

	var mu sync.Mutex
	var problems, requests []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s %+v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if typ := string(ev.Type); typ == "error" || typ == "warning" || typ == "assert" {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", typ, strings.Join(args, " ")))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		}
	}))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitReady("body[data-charts-drawn]")))
	drawn, err := chromedp.Run(ctx, chromedp.AttributeValue("body", "data-charts-drawn"))
	require.NoError(t, err)
	errText, err := chromedp.Run(ctx, chromedp.TextContent("#errors"))
	require.NoError(t, err)
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	stats, err := chromedp.Run(ctx, chromedp.Evaluate[[]canvasStats](canvasJS))
	require.NoError(t, err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, problems, "the page loads without errors")
	assert.Equal(t, []string{pageURL}, requests, "the page requests nothing but itself")
	assert.Empty(t, strings.TrimSpace(errText), "the page's error box")
	assert.Equal(t, "servingbench report", title)
	assert.Equal(t, fmt.Sprint(len(d.Charts)), drawn.Value, "the script drew every chart")
	require.Len(t, stats, len(d.Charts), "a canvas a chart")
	for _, s := range stats {
		assert.True(t, s.Chart, "%s: Chart.js has a chart on the canvas", s.ID)
		assert.Greater(t, s.Width*s.Height, 0, "%s: the canvas has a size", s.ID)
		assert.Greater(t, s.Expected, 50, "%s: the first series is drawn (%d of %d painted pixels in its colour)", s.ID, s.Expected, s.Painted)
	}
	out := filepath.Join(artifactDir(t), "htmlreport-browser.png")
	require.NoError(t, os.WriteFile(out, shot, 0o644))
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))
}
