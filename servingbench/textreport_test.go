package servingbench

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// updateGolden rewrites the files under testdata/golden: go test -run
// Golden -update. It is the package's only -update flag.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden files")

// checkGolden compares got with testdata/golden/name byte for byte.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file (create it with -update)")
	assert.Equal(t, string(want), string(got), "output differs from %s (rerun with -update if intended)", path)
}

// seedReport is the run of the seed document's result block
// (seed/seed-en.md), built by hand: a summary without samples.
func seedReport() *Report {
	msToDur := func(v float64) time.Duration { return time.Duration(math.Round(v * 1e6)) }
	return &Report{
		Date:                 time.Date(2025, 7, 24, 15, 4, 5, 0, time.Local),
		Backend:              "vllm",
		Model:                "qwen2.5",
		TokenizerID:          "/data/models/llm/qwen/Qwen2.5-32B-Instruct",
		NumPrompts:           640,
		RequestRate:          math.Inf(1),
		Burstiness:           1,
		Duration:             msToDur(48470),
		Completed:            640,
		TotalInputTokens:     1307017,
		TotalOutputTokens:    78908,
		RequestThroughput:    13.204,
		OutputThroughput:     1627.94,
		TotalTokenThroughput: 28592.80,
		TTFT:                 Summary{Count: 640, Mean: msToDur(31861.01), Median: msToDur(31476.59), Std: msToDur(5000), Percentiles: map[float64]time.Duration{99: msToDur(43942.40)}},
		TPOT:                 Summary{Count: 640, Mean: msToDur(56.84), Median: msToDur(57.52), Std: msToDur(2), Percentiles: map[float64]time.Duration{99: msToDur(59.11)}},
		ITL:                  Summary{Count: 78268, Mean: msToDur(56.87), Median: msToDur(58.39), Std: msToDur(9), Percentiles: map[float64]time.Duration{99: msToDur(70.63)}},
		E2EL:                 Summary{Count: 640, Mean: msToDur(38800), Median: msToDur(38700), Std: msToDur(5100), Percentiles: map[float64]time.Duration{99: msToDur(50800)}},
	}
}

// seedBlock is the seed document's block with its "#" annotations removed
// (the document strips Python's trailing padding, so lines are compared
// with trailing spaces trimmed).
const seedBlock = `============ Serving Benchmark Result ============
Successful requests:                     640
Benchmark duration (s):                  48.47
Total input tokens:                      1307017
Total generated tokens:                  78908
Request throughput (req/s):              13.20
Output token throughput (tok/s):         1627.94
Total Token throughput (tok/s):          28592.80
---------------Time to First Token----------------
Mean TTFT (ms):                          31861.01
Median TTFT (ms):                        31476.59
P99 TTFT (ms):                           43942.40
-----Time per Output Token (excl. 1st token)------
Mean TPOT (ms):                          56.84
Median TPOT (ms):                        57.52
P99 TPOT (ms):                           59.11
---------------Inter-token Latency----------------
Mean ITL (ms):                           56.87
Median ITL (ms):                         58.39
P99 ITL (ms):                            70.63
==================================================
`

func TestWriteTextSeed(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, seedReport(), TextOptions{}))
	var trimmed []string
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		trimmed = append(trimmed, strings.TrimRight(l, " \n"))
	}
	assert.Equal(t, seedBlock, strings.Join(trimmed, "\n"), "WriteText(seed) differs from the seed document's block")
	// Python's "{:<40} {:<10}" pads every value line to 51 columns.
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		assert.GreaterOrEqual(t, len(l), 50, "line %q shorter than Python's padding", l)
	}
	checkGolden(t, "seed.txt", buf.Bytes())
}

// fullReport exercises every line WriteText can print.
func fullReport() *Report {
	rep := Summarize(summarizeT0, runAt(4000), summarizeFixture(), SLO{TTFT: msDur(250), TPOT: msDur(100)})
	rep.Date = time.Date(2026, 7, 24, 10, 0, 0, 0, time.Local)
	rep.Backend = "openai-chat"
	rep.Model = "Qwen/Qwen2.5-7B-Instruct"
	rep.TokenizerID = "Qwen/Qwen2.5-7B-Instruct"
	rep.NumPrompts = 7
	rep.RequestRate = 8
	rep.Burstiness = 1
	rep.MaxConcurrency = 4
	rep.Partial = true
	rep.Metadata = map[string]string{"build": "w8a8", "gpu": "910B4"}
	return rep
}

func TestWriteTextGolden(t *testing.T) {
	tests := []struct {
		name string
		rep  *Report
		opt  TextOptions
	}{
		{"full.txt", fullReport(), TextOptions{Metrics: []string{"e2el", "ttft", "tpot", "itl"}, Percentiles: []float64{50, 90, 99, 99.9}}},
		{"defaults.txt", fullReport(), TextOptions{}},
		{"empty.txt", Summarize(summarizeT0, summarizeT0, nil, SLO{}), TextOptions{Metrics: []string{"e2el"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteText(&buf, tt.rep, tt.opt))
			checkGolden(t, tt.name, buf.Bytes())
		})
	}
}

func TestWriteTextLines(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, fullReport(), TextOptions{Metrics: []string{"itl"}, Percentiles: []float64{99, 99.9}}))
	out := buf.String()
	for _, want := range []string{
		"Request goodput (req/s):                 0.50      \n",
		"P99.9 ITL (ms):                          299.60    \n",
		"P99 ITL (ms):                            296.00    \n",
		"-------------------Run Details--------------------\n",
		"Failed requests:                         4         \n",
		"Resent on a new connection:              2         \n",
		"Streams ended without [DONE]:            1         \n",
		"  HTTP 503:                              2         \n",
		"Peak concurrent requests:                2.00      \n",
		"Output token counts from:                usage 2, tokenizer 1\n",
		"Partial:                                 yes (cancelled)\n",
		"---------------Client-side Queueing---------------\n",
	} {
		assert.Contains(t, out, want, "WriteText output lacks %q", want)
	}
	assert.NotContains(t, out, "TTFT", "metrics not selected are not printed")
	// Sections print in vLLM's order whatever the order of Metrics.
	buf.Reset()
	require.NoError(t, WriteText(&buf, fullReport(), TextOptions{Metrics: []string{"e2el", "ttft"}}))
	assert.Less(t, strings.Index(buf.String(), "TTFT"), strings.Index(buf.String(), "E2EL"), "TTFT before E2EL")
}

func TestWriteTextManyReasons(t *testing.T) {
	rep := &Report{Failed: 0}
	for i := range 12 {
		rep.Errors = append(rep.Errors, ErrorCount{Reason: fmt.Sprintf("reason %02d\nsecond line", i), Count: 20 - i})
		rep.Failed += 20 - i
	}
	rep.Errors[0].Reason = strings.Repeat("x", 100)
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, rep, TextOptions{}))
	out := buf.String()
	assert.Contains(t, out, "  "+strings.Repeat("x", 57)+"...: 20        \n", "long reason shortened")
	assert.Contains(t, out, "  reason 08 second line:                 12        \n", "newlines folded")
	// 9 reasons listed, then the other 3: 11 + 10 + 9.
	assert.Contains(t, out, "  (3 other reasons):                     30        \n")
	assert.NotContains(t, out, "reason 09")
}

func TestWriteTextOptionErrors(t *testing.T) {
	tests := []struct {
		opt  TextOptions
		want string
	}{
		{TextOptions{Metrics: []string{"ttft", "latency"}}, `TextOptions.Metrics: unknown metric "latency"`},
		{TextOptions{Percentiles: []float64{99, 101}}, "TextOptions.Percentiles: 101"},
		{TextOptions{Percentiles: []float64{math.NaN()}}, "TextOptions.Percentiles: NaN"},
	}
	for _, tt := range tests {
		err := WriteText(&bytes.Buffer{}, seedReport(), tt.opt)
		assert.ErrorContains(t, err, tt.want, "WriteText(%+v)", tt.opt)
	}
}

func TestWriteTextWriteError(t *testing.T) {
	boom := errors.New("disk full")
	err := WriteText(iotest.TruncateWriter(errWriter{boom}, 10), seedReport(), TextOptions{})
	assert.ErrorIs(t, err, boom)
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteTextUnknownPercentile(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, seedReport(), TextOptions{Percentiles: []float64{99, 99.9}}))
	assert.Contains(t, buf.String(), "P99.9 TTFT (ms):                         n/a       \n")
}

func TestPythonFormatting(t *testing.T) {
	centreTests := []struct {
		s    string
		fill byte
		want string
	}{
		{" Serving Benchmark Result ", '=', "============ Serving Benchmark Result ============"},
		{"Time to First Token", '-', "---------------Time to First Token----------------"},
		{"Time per Output Token (excl. 1st token)", '-', "-----Time per Output Token (excl. 1st token)------"},
		{"Inter-token Latency", '-', "---------------Inter-token Latency----------------"},
		{"End-to-end Latency", '-', "----------------End-to-end Latency----------------"},
		{strings.Repeat("y", 55), '-', strings.Repeat("y", 55)},
	}
	for _, tt := range centreTests {
		assert.Equal(t, tt.want, centre(tt.s, tt.fill), "centre(%q)", tt.s)
	}
	reprTests := []struct {
		v    float64
		want string
	}{
		{8, "8.0"}, {0.5, "0.5"}, {48.47, "48.47"}, {math.Copysign(0, -1), "-0.0"}, {0, "0.0"},
		{1e16, "1e+16"}, {1.5e16, "1.5e+16"}, {123456789012345.6, "123456789012345.6"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.25e-7, "1.25e-07"},
		{math.Inf(1), "inf"}, {math.NaN(), "nan"},
	}
	for _, tt := range reprTests {
		assert.Equal(t, tt.want, pyRepr(tt.v), "pyRepr(%v)", tt.v)
	}
	wordTests := []struct {
		p    float64
		want string
	}{{99, "99"}, {99.9, "99.9"}, {50, "50"}, {99.99, "99.99"}, {0, "0"}, {100, "100"}}
	for _, tt := range wordTests {
		assert.Equal(t, tt.want, percentileWord(tt.p), "percentileWord(%v)", tt.p)
	}
	fixedTests := []struct {
		v    float64
		want string
	}{{13.204, "13.20"}, {2.675, "2.67"}, {0.125, "0.12"}, {0.375, "0.38"}, {math.NaN(), "nan"}, {math.Inf(-1), "-inf"}}
	for _, tt := range fixedTests {
		// Python rounds the exact binary value: format(2.675, ".2f") ==
		// "2.67", format(0.125, ".2f") == "0.12" (half to even).
		assert.Equal(t, tt.want, pyFixed2(tt.v), "pyFixed2(%v)", tt.v)
	}
}
