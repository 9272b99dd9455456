package gate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// metric is one unit of a synthetic benchmark: count samples around
// center, spread uniformly by ±noise (relative).
type metric struct {
	unit   string
	center float64
	noise  float64
}

// benchText returns go test -bench output: header lines, then count result
// lines for name, one per sample, each carrying every metric.
func benchText(seed uint64, header, name string, count int, metrics ...metric) string {
	rng := rand.New(rand.NewPCG(seed, 42))
	var b strings.Builder
	b.WriteString(header)
	for range count {
		fmt.Fprintf(&b, "Benchmark%s \t       1", name)
		for _, m := range metrics {
			v := m.center * (1 + m.noise*(2*rng.Float64()-1))
			fmt.Fprintf(&b, "\t%.6g %s", v, m.unit)
		}
		b.WriteString("\n")
	}
	return b.String()
}

const header = "goos: linux\ngoarch: amd64\npkg: example.com/serving\n"

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func compareText(t *testing.T, old, new string, opt CompareOptions) (*Comparison, error) {
	t.Helper()
	return CompareFiles(writeFile(t, "old.txt", old), writeFile(t, "new.txt", new), opt)
}

func findRow(t *testing.T, c *Comparison, unit string) Row {
	t.Helper()
	for _, r := range c.Rows {
		if r.Unit == unit {
			return r
		}
	}
	require.Failf(t, "no row", "Comparison has no row for unit %q; rows %v", unit, c.Rows)
	return Row{}
}

func TestCompareBaselineVerdicts(t *testing.T) {
	const name = "Serving/model=qwen/rate=8-2"
	tests := []struct {
		name     string
		old, new []metric
		count    int
		unit     string
		want     Verdict
		warning  string // substring of a Comparison warning; "" none
	}{
		{
			name: "TTFT p99 +20% regresses",
			old:  []metric{{"ttft-p99-ns", 500e6, 0.02}}, new: []metric{{"ttft-p99-ns", 600e6, 0.02}},
			count: 10, unit: "ttft-p99-ns", want: Regression,
		},
		{
			name: "TTFT p99 -20% improves",
			old:  []metric{{"ttft-p99-ns", 600e6, 0.02}}, new: []metric{{"ttft-p99-ns", 480e6, 0.02}},
			count: 10, unit: "ttft-p99-ns", want: Improvement,
		},
		{
			name: "noise within threshold",
			old:  []metric{{"ttft-p99-ns", 500e6, 0.03}}, new: []metric{{"ttft-p99-ns", 510e6, 0.03}},
			count: 10, unit: "ttft-p99-ns", want: Same,
		},
		{
			name: "significant but below threshold",
			old:  []metric{{"ttft-p99-ns", 500e6, 0.001}}, new: []metric{{"ttft-p99-ns", 515e6, 0.001}},
			count: 10, unit: "ttft-p99-ns", want: Same,
		},
		{
			name: "throughput increase passes",
			old:  []metric{{"req/s", 8, 0.02}}, new: []metric{{"req/s", 10, 0.02}},
			count: 10, unit: "req/s", want: Improvement,
		},
		{
			name: "throughput drop fails",
			old:  []metric{{"out-tok/s", 1000, 0.02}}, new: []metric{{"out-tok/s", 800, 0.02}},
			count: 10, unit: "out-tok/s", want: Regression,
		},
		{
			name: "goodput drop fails",
			old:  []metric{{"goodput-req/s", 7, 0.02}}, new: []metric{{"goodput-req/s", 5, 0.02}},
			count: 8, unit: "goodput-req/s", want: Regression,
		},
		{
			name: "sla-violations from 0 fails",
			old:  []metric{{"sla-violations", 0, 0}}, new: []metric{{"sla-violations", 2, 0}},
			count: 6, unit: "sla-violations", want: Regression,
		},
		{
			name: "unknown unit changes but never fails",
			old:  []metric{{"peak-concurrency", 10, 0.01}}, new: []metric{{"peak-concurrency", 20, 0.01}},
			count: 10, unit: "peak-concurrency", want: Changed,
		},
		{
			name: "too few samples: no verdict",
			old:  []metric{{"ttft-p99-ns", 500e6, 0.01}}, new: []metric{{"ttft-p99-ns", 900e6, 0.01}},
			count: 3, unit: "ttft-p99-ns", want: Same, warning: "need >= 4 samples to detect a difference",
		},
		{
			name: "no interval under 6 samples",
			old:  []metric{{"ttft-p99-ns", 500e6, 0.01}}, new: []metric{{"ttft-p99-ns", 900e6, 0.01}},
			count: 5, unit: "ttft-p99-ns", want: Regression, warning: "need >= 6 samples for confidence interval",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compareText(t, benchText(1, header, name, tt.count, tt.old...), benchText(2, header, name, tt.count, tt.new...), CompareOptions{})
			require.NoError(t, err)
			row := findRow(t, c, tt.unit)
			assert.Equal(t, tt.want, row.Verdict, "CompareFiles: %s verdict = %v, want %v (delta %.3f p %.4f)", tt.unit, row.Verdict, tt.want, row.Delta, row.P)
			assert.Equal(t, "Serving/model=qwen/rate=8-2", row.Benchmark)
			assert.Equal(t, []string{"goos: linux", "goarch: amd64", "pkg: example.com/serving"}, row.Config)
			assert.Equal(t, tt.count, row.Old.N)
			assert.Equal(t, tt.count, row.New.N)

			if tt.want == Regression {
				require.Len(t, c.Regressions(), 1)
				err := c.Err()
				var re *RegressionError
				require.ErrorAs(t, err, &re, "Err() = %v, want *RegressionError", err)
				assert.Contains(t, err.Error(), "Serving/model=qwen/rate=8-2 "+tt.unit+": "+formatDelta(row.Delta))
			} else {
				assert.Empty(t, c.Regressions(), "Regressions() with verdict %v", row.Verdict)
				assert.NoError(t, c.Err())
			}
			if tt.warning != "" {
				assert.Contains(t, fmt.Sprint(c.Warnings), tt.warning, "Comparison.Warnings")
			}
		})
	}
}

func TestCompareBaselineRegressionDetails(t *testing.T) {
	name := "Serving/rate=8-2"
	old := benchText(1, header, name, 10, metric{"ttft-p99-ns", 500e6, 0.02}, metric{"req/s", 8, 0.02}, metric{"ttft-mean-ns", 200e6, 0.02})
	new := benchText(2, header, name, 10, metric{"ttft-p99-ns", 600e6, 0.02}, metric{"req/s", 6, 0.02}, metric{"ttft-mean-ns", 200e6, 0.02})
	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)

	ttft := findRow(t, c, "ttft-p99-ns")
	assert.Equal(t, "ttft-p99-sec", ttft.TidyUnit)
	assert.Equal(t, LowerIsBetter, ttft.Better)
	assert.InDelta(t, 0.5, ttft.Old.Center, 0.5*0.03, "old median in seconds")
	assert.InDelta(t, 0.6, ttft.New.Center, 0.6*0.03, "new median in seconds")
	assert.Less(t, ttft.Old.Lo, ttft.Old.Center)
	assert.Greater(t, ttft.Old.Hi, ttft.Old.Center)
	assert.GreaterOrEqual(t, ttft.Old.Confidence, 0.95)
	assert.InDelta(t, 0.2, ttft.Delta, 0.05)
	assert.Less(t, ttft.P, 0.001)

	// Every regression is listed, none of the unchanged metrics.
	require.Len(t, c.Regressions(), 2)
	msg := c.Err().Error()
	assert.Contains(t, msg, "gate: 2 regressions (p < 0.05, change > 5%):")
	assert.Contains(t, msg, "Serving/rate=8-2 ttft-p99-ns: +")
	assert.Contains(t, msg, "Serving/rate=8-2 req/s: -")
	assert.Contains(t, msg, "higher is better")
	assert.NotContains(t, msg, "ttft-mean-ns")
	assert.Equal(t, Same, findRow(t, c, "ttft-mean-ns").Verdict)
}

// TestCompareZeroLatency mixes 0 ns samples (benchfmt does not tidy them)
// with others: they stay one metric.
func TestCompareZeroLatency(t *testing.T) {
	old := benchText(1, header, "Serving", 9, metric{"ttft-p99-ns", 500e6, 0.01}) + "BenchmarkServing 1 0 ttft-p99-ns\n"
	new := benchText(2, header, "Serving", 10, metric{"ttft-p99-ns", 500e6, 0.01})
	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)
	require.Len(t, c.Rows, 1, "rows %v", c.Rows)
	assert.Equal(t, 10, c.Rows[0].Old.N)
	assert.Equal(t, "ttft-p99-sec", c.Rows[0].TidyUnit)
	assert.Equal(t, "ttft-p99-ns", c.Rows[0].Unit)
}

func TestCompareOptions(t *testing.T) {
	name := "Serving-2"
	old := benchText(1, header, name, 10, metric{"ttft-p99-ns", 500e6, 0.01}, metric{"score", 10, 0.01})
	new := benchText(2, header, name, 10, metric{"ttft-p99-ns", 540e6, 0.01}, metric{"score", 8, 0.01})

	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, Regression, findRow(t, c, "ttft-p99-ns").Verdict, "+8%% with default MinChange 5%%")
	assert.Equal(t, Changed, findRow(t, c, "score").Verdict, "unknown unit")

	c, err = CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{
		MinChange: 0.10,
		Better: func(unit string) Better {
			if unit == "score" {
				return HigherIsBetter
			}
			return BetterUnknown
		},
	})
	require.NoError(t, err)
	assert.Equal(t, Same, findRow(t, c, "ttft-p99-ns").Verdict, "+8%% with MinChange 10%%")
	assert.Equal(t, Regression, findRow(t, c, "score").Verdict, "score with Better higher")

	// Unit metadata in the file gives a direction too.
	withMeta := "Unit score better=higher\n" + new
	c, err = CompareBaseline(strings.NewReader(old), strings.NewReader(withMeta), CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, Regression, findRow(t, c, "score").Verdict, "score with better=higher metadata")

	// A filter keeps only matching results.
	c, err = CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{Filter: ".unit:score"})
	require.NoError(t, err)
	require.Len(t, c.Rows, 1)
	assert.Equal(t, "score", c.Rows[0].Unit)
}

func TestCompareOptionsInvalid(t *testing.T) {
	text := benchText(1, header, "Serving", 6, metric{"req/s", 8, 0.01})
	tests := []struct {
		opt  CompareOptions
		want string
	}{
		{CompareOptions{Alpha: -0.1}, "CompareOptions.Alpha must be in [0,1), got -0.1"},
		{CompareOptions{Alpha: 1}, "CompareOptions.Alpha"},
		{CompareOptions{MinChange: -1}, "CompareOptions.MinChange must be >= 0, got -1"},
		{CompareOptions{Confidence: 1.5}, "CompareOptions.Confidence"},
		{CompareOptions{Filter: "(("}, "CompareOptions.Filter"},
		{CompareOptions{Ignore: []string{"(("}}, "CompareOptions.Ignore"},
	}
	for _, tt := range tests {
		c, err := CompareBaseline(strings.NewReader(text), strings.NewReader(text), tt.opt)
		require.Error(t, err, "CompareBaseline(%+v) = %v, want error", tt.opt, c)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestCompareConfigurationKeys(t *testing.T) {
	oldHeader := header + "cpu: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
	newHeader := header + "cpu: AMD EPYC 7B13\n"
	old := benchText(1, oldHeader, "Serving/rate=8-8", 10, metric{"ttft-p99-ns", 500e6, 0.01})
	new := benchText(2, newHeader, "Serving/rate=8-2", 10, metric{"ttft-p99-ns", 650e6, 0.01})

	_, err := compareText(t, old, new, CompareOptions{})
	require.Error(t, err, "nothing matches when cpu and GOMAXPROCS differ")
	assert.Contains(t, err.Error(), "no metric of")
	assert.Contains(t, err.Error(), "Serving/rate=8-8 ttft-p99-ns: only in")

	_, err = compareText(t, old, new, CompareOptions{Ignore: []string{"cpu"}})
	require.Error(t, err, "GOMAXPROCS still differs")

	c, err := compareText(t, old, new, CompareOptions{Ignore: []string{"cpu", "/gomaxprocs"}})
	require.NoError(t, err)
	require.Len(t, c.Rows, 1)
	row := findRow(t, c, "ttft-p99-ns")
	assert.Equal(t, Regression, row.Verdict)
	assert.Equal(t, []string{"goos: linux", "goarch: amd64", "pkg: example.com/serving"}, row.Config)

	// Two configurations in one file stay apart.
	twoModels := benchText(3, header+"model: fp16\n", "Serving", 6, metric{"req/s", 8, 0.01}) +
		benchText(4, "model: w8a8\n", "Serving", 6, metric{"req/s", 12, 0.01})
	c, err = CompareBaseline(strings.NewReader(twoModels), strings.NewReader(twoModels), CompareOptions{})
	require.NoError(t, err)
	var configs []string
	for _, r := range c.Rows {
		if r.Unit == "req/s" {
			configs = append(configs, r.Config[len(r.Config)-1])
			assert.Equal(t, Same, r.Verdict)
		}
	}
	assert.Equal(t, []string{"model: fp16", "model: w8a8"}, configs)
}

func TestCompareOneSided(t *testing.T) {
	old := benchText(1, header, "Serving/rate=8", 6, metric{"req/s", 8, 0.01}) +
		benchText(1, "", "Serving/rate=16", 6, metric{"req/s", 15, 0.01})
	new := benchText(2, header, "Serving/rate=8", 6, metric{"req/s", 8, 0.01}, metric{"goodput-req/s", 6, 0.01})
	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)
	w := fmt.Sprint(c.Warnings)
	assert.Contains(t, w, "Serving/rate=16 req/s: only in old")
	assert.Contains(t, w, "Serving/rate=8 goodput-req/s: only in new")
	assert.NoError(t, c.Err())
}

func TestCompareMalformed(t *testing.T) {
	good := benchText(1, header, "Serving", 6, metric{"req/s", 8, 0.01})
	tests := []struct {
		name, old, new string
		want           string
	}{
		{"bad value", header + "BenchmarkServing 1 fast req/s\n", good, "old.txt:4:"},
		{"missing unit", good, header + "BenchmarkServing 1 5\n", "new.txt:4:"},
		{"bad iterations", good, "BenchmarkServing x 5 req/s\n", "new.txt:1:"},
		{"empty", "", good, "old.txt: no benchmark results"},
		{"no results", good, "PASS\nok  \texample.com/serving\t1.2s\n", "new.txt: no benchmark results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compareText(t, tt.old, tt.new, CompareOptions{})
			require.Error(t, err, "CompareFiles = %v, want error", c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	_, err := CompareFiles(filepath.Join(t.TempDir(), "missing.txt"), "x", CompareOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestCompareReaders reads through testing/iotest readers: split reads give
// the same comparison; a read error is reported with the input's label.
func TestCompareReaders(t *testing.T) {
	old := benchText(1, header, "Serving", 10, metric{"ttft-p99-ns", 500e6, 0.02})
	new := benchText(2, header, "Serving", 10, metric{"ttft-p99-ns", 600e6, 0.02})
	want, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"OneByte": iotest.OneByteReader,
		"Half":    iotest.HalfReader,
		"DataErr": iotest.DataErrReader,
	} {
		got, err := CompareBaseline(wrap(strings.NewReader(old)), wrap(strings.NewReader(new)), CompareOptions{})
		require.NoError(t, err, name)
		assert.Equal(t, want.Rows, got.Rows, "%s reader", name)
	}

	boom := errors.New("boom")
	cut := strings.Index(new[100:], "\n") + 101
	_, err = CompareBaseline(strings.NewReader(old), io.MultiReader(strings.NewReader(new[:cut]), iotest.ErrReader(boom)),
		CompareOptions{NewLabel: "candidate.txt"})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "reading candidate.txt")
}

func TestWriteTableGolden(t *testing.T) {
	name := "Serving/model=qwen2.5-7b/rate=8-2"
	old := benchText(1, header, name, 10,
		metric{"ttft-p99-ns", 500e6, 0.02}, metric{"tpot-mean-ns", 40e6, 0.02}, metric{"req/s", 8, 0.02},
		metric{"out-tok/s", 1000, 0.02}, metric{"sla-violations", 0, 0}, metric{"peak-concurrency", 30, 0.01})
	new := benchText(2, header, name, 10,
		metric{"ttft-p99-ns", 600e6, 0.02}, metric{"tpot-mean-ns", 40.4e6, 0.02}, metric{"req/s", 9.6, 0.02},
		metric{"out-tok/s", 1005, 0.02}, metric{"sla-violations", 0, 0}, metric{"peak-concurrency", 40, 0.01})
	c, err := compareText(t, old, new, CompareOptions{OldLabel: "fp16.txt", NewLabel: "w8a8.txt"})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, c.WriteTable(&buf))

	golden := filepath.Join("testdata", "compare.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), buf.String(), "WriteTable output differs from %s (go test -update to rewrite)", golden)

	out := buf.String()
	assert.Contains(t, out, "ttft-p99-sec")
	assert.Contains(t, out, "REGRESSION")
	assert.Contains(t, out, "1 REGRESSION(S)")
	assert.NotContains(t, out, "Mns", "latencies must be scaled as seconds")
}

// TestCompareAssumeExact honors assume=exact unit metadata: one sample a
// side is enough.
func TestCompareAssumeExact(t *testing.T) {
	meta := "Unit model-B assume=exact better=lower\n"
	old := meta + "BenchmarkLoad 1 100 model-B\n"
	new := meta + "BenchmarkLoad 1 130 model-B\n"
	c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
	require.NoError(t, err)
	require.Len(t, c.Rows, 1)
	assert.Equal(t, Regression, c.Rows[0].Verdict, "row %+v", c.Rows[0])
	assert.InDelta(t, 0.3, c.Rows[0].Delta, 1e-12)
}

func TestCompareNoMatchListsFew(t *testing.T) {
	var old, new strings.Builder
	for i := range 10 {
		old.WriteString(benchText(1, "", fmt.Sprintf("A%d", i), 2, metric{"req/s", 1, 0}))
		new.WriteString(benchText(1, "", fmt.Sprintf("B%d", i), 2, metric{"req/s", 1, 0}))
	}
	_, err := CompareBaseline(strings.NewReader(old.String()), strings.NewReader(new.String()), CompareOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "A0 req/s: only in old")
	assert.Contains(t, err.Error(), "and 14 more")
	assert.NotContains(t, err.Error(), "B9")
	var nm *NoMatchError
	require.ErrorAs(t, err, &nm, "CompareBaseline error = %v, want *NoMatchError", err)
	assert.Len(t, nm.Unmatched, 20, "NoMatchError.Unmatched")
	assert.Contains(t, nm.Message("-ignore and -filter"), "(see -ignore and -filter):\nA0 req/s: only in old")
}

// TestCompareOptionError: a Filter or Ignore that does not parse is an
// *OptionError naming the field and its value.
func TestCompareOptionError(t *testing.T) {
	text := benchText(1, header, "Serving", 6, metric{"req/s", 8, 0.01})
	for _, tt := range []struct {
		opt          CompareOptions
		field, value string
	}{
		{CompareOptions{Filter: "(("}, "Filter", "(("},
		{CompareOptions{Ignore: []string{"cpu", "(("}}, "Ignore", "cpu,(("},
	} {
		_, err := CompareBaseline(strings.NewReader(text), strings.NewReader(text), tt.opt)
		var oe *OptionError
		require.ErrorAs(t, err, &oe, "CompareBaseline(%+v) = %v, want *OptionError", tt.opt, err)
		assert.Equal(t, tt.field, oe.Field)
		assert.Equal(t, tt.value, oe.Value)
	}
}

// FuzzCompareBaseline feeds arbitrary text as the new file: CompareBaseline
// returns an error or a Comparison whose table prints, never panics.
func FuzzCompareBaseline(f *testing.F) {
	old := benchText(1, header, "Serving/rate=8-2", 6, metric{"ttft-p99-ns", 500e6, 0.02}, metric{"req/s", 8, 0.02})
	f.Add(benchText(2, header, "Serving/rate=8-2", 6, metric{"ttft-p99-ns", 600e6, 0.02}, metric{"req/s", 8, 0.02}))
	f.Add("Unit req/s better=lower assume=exact\nBenchmarkServing/rate=8-2 1 0 req/s 0 ttft-p99-ns\n")
	f.Add("cpu: x\nBenchmarkServing/rate=8-2 1 NaN req/s\n")
	f.Add("label: a\n# server-id: 3fa9c2e1b7d0 llama.cpp at http://h:1\nBenchmarkServing/rate=8-2 1 5 req/s\n" +
		"label: b\n#server-id: 5d2e8a0c4b11\r\nBenchmarkServing/rate=8-2 1 6 req/s\n# server-id:")
	f.Fuzz(func(t *testing.T, new string) {
		c, err := CompareBaseline(strings.NewReader(old), strings.NewReader(new), CompareOptions{})
		if err != nil {
			return
		}
		if err := c.WriteTable(io.Discard); err != nil {
			t.Fatalf("WriteTable: %v", err)
		}
		_ = c.Err()
	})
}

// TestCompareTestingOutput feeds the gate lines formatted by the testing
// package itself (BenchmarkResult.String, as go test -bench prints them),
// with ns/op hidden and a ReportSLA metric.
func TestCompareTestingOutput(t *testing.T) {
	run := func(ttft, rps float64, i int) string {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ttft*(1+0.01*float64(i%5)), LatencyUnit("ttft", "p99"))
			b.ReportMetric(rps*(1-0.01*float64(i%3)), UnitRequestThroughput)
			b.ReportMetric(0, UnitSLAViolations)
		})
		return "BenchmarkServing/model=fp16-2\t" + res.String() + "\n"
	}
	var old, new strings.Builder
	old.WriteString(header)
	new.WriteString(header)
	for i := range 10 {
		old.WriteString(run(500e6, 8, i))
		new.WriteString(run(650e6, 8, i))
	}
	assert.NotContains(t, old.String(), "ns/op", "ns/op is hidden")
	c, err := CompareBaseline(strings.NewReader(old.String()), strings.NewReader(new.String()), CompareOptions{})
	require.NoError(t, err, "input:\n%s", old.String())
	require.Len(t, c.Rows, 3, "rows %v", c.Rows)
	assert.Equal(t, Regression, findRow(t, c, "ttft-p99-ns").Verdict)
	assert.Equal(t, Same, findRow(t, c, "req/s").Verdict)
	assert.Equal(t, Same, findRow(t, c, "sla-violations").Verdict)
	assert.Equal(t, "Serving/model=fp16-2", c.Rows[0].Benchmark)
}
