package llamacpp_test

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/gomodtest"
	"github.com/servingbench/servingbench/internal/llamacpp"
)

// buildsBenchmark is the benchmark file of the README's real-server
// comparison: the seed document's scenario, resized by the environment.
const buildsBenchmark = `package serving

import (
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

func BenchmarkSeed(b *testing.B) { benchtest.Run(b, scenarios.SeedRandom256()) }
`

// buildsCount is -count: 5 samples a side is the fewest with which the
// Mann-Whitney U test can reach p < 0.05 (p = 0.008 when the samples do
// not overlap).
const buildsCount = 5

// TestConformanceBuilds is the seed document's FP16-vs-W8A8 comparison on
// a real server: two llama-server processes serve the same tiny model as
// F16 and as Q8_0 (made by llama-quantize at install) under the same
// model name, and the README's route measures them: go test -bench with
// benchtest.Main, SERVINGBENCH_LABEL naming each build, benchstat -col
// label side by side, and servingbench compare gating Q8_0 (baseline)
// against F16 (new).
//
// It asserts structure and direction, never a speed: two columns labelled
// f16 and q8_0, the identity lines each file carries, no failed requests
// and no prefix-cache warning (each run draws fresh prompts), and that
// Q8_0's median TPOT is below F16's. On this CPU (no AMX: ggml's zen4 and
// sapphirerapids variants) Q8_0 decodes about twice as fast as F16, since
// decoding a model this small is bound by memory bandwidth and Q8_0 reads
// half the bytes per weight; with 5 runs a side the gate then sees no
// overlap, so going from Q8_0 back to F16 must fail it on TPOT.
func TestConformanceBuilds(t *testing.T) {
	if raceEnabled {
		t.Skip("real-server conformance runs without -race (.ci/run's conformance step)")
	}
	in := llamacpp.Require(t)
	root := "../.."
	mod := gomodtest.New(t, root)
	mod.Write("serving_test.go", buildsBenchmark)
	benchstat := mod.Benchstat()
	cli := mod.BuildCLI()

	builds := []struct{ label, model string }{{"f16", llamacpp.ModelF16}, {"q8_0", llamacpp.ModelQ8}}
	files := map[string]string{}
	for _, b := range builds {
		srv := llamacpp.Serve(t, in, llamacpp.Options{Model: b.model, Parallel: slots})
		env := []string{
			"SERVINGBENCH_BASE_URL=" + srv.URL, "SERVINGBENCH_MODEL=" + srv.Alias, "SERVINGBENCH_BACKEND=llama.cpp",
			"SERVINGBENCH_LABEL=" + b.label,
			// The seed's 640 prompts of 256 tokens and 128 output tokens
			// take about 10 minutes a run on this CPU; 16 of 64 tokens,
			// 32 out, keep its shape (everything sent at once, 4 slots).
			"SERVINGBENCH_NUM_PROMPTS=16", "SERVINGBENCH_INPUT_LEN=64", "SERVINGBENCH_OUTPUT_LEN=32",
		}
		out := mod.Go(env, "test", "-run", "^$", "-bench", ".", "-benchtime=1x", "-count="+strconv.Itoa(buildsCount), "-timeout=10m")
		t.Logf("%s:\n%s", b.label, out)
		checkIdentityLines(t, out, b.label)
		assert.NotContains(t, out, "prefix cache", "%s: each run draws fresh prompts, so the server's prefix cache must not serve them", b.label)
		results := regexp.MustCompile(`(?m)^BenchmarkSeed-\d+\s+1\s.*\s0 failed\s`).FindAllString(out, -1)
		assert.Len(t, results, buildsCount, "%s: result lines with 0 failed requests", b.label)
		path := mod.Path(b.label + ".txt")
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
		files[b.label] = path
		require.NoError(t, srv.Close())
	}

	out := mod.Run(nil, 0, benchstat, "-col", "label", files["f16"], files["q8_0"])
	t.Logf("benchstat -col label f16.txt q8.txt:\n%s", out)
	table := benchstatTable(t, out, "tpot-median-sec")
	require.Regexp(t, `f16 +│ +q8_0`, table[0], "the TPOT table's columns are the two labels")
	f16, q8 := rowValues(t, table)
	assert.Less(t, q8, f16, "median TPOT: Q8_0 below F16 (benchstat row %q)", table[2])
	t.Logf("Q8_0/F16 median TPOT: %.3f", q8/f16)

	// Q8_0 as the baseline, F16 as the new build: a slowdown the gate
	// must fail, exit status 1, naming TPOT.
	gate := mod.Run(nil, 1, cli, "compare", files["q8_0"], files["f16"])
	t.Logf("servingbench compare q8_0.txt f16.txt:\n%s", gate)
	assert.Regexp(t, `(?m)^\s+tpot-median-sec +tpot-median-sec +vs base +lower is better\n\S+ .*\+[0-9.]+% \(p=[0-9.]+ n=5\) +REGRESSION$`, gate)
}

// checkIdentityLines checks the configuration lines benchtest.Main
// printed for a labelled llama.cpp server.
func checkIdentityLines(t *testing.T, out, label string) {
	t.Helper()
	assert.Regexp(t, `(?m)^model: tiny-qwen3$`, out)
	assert.Regexp(t, `(?m)^backend: llama\.cpp$`, out)
	assert.Regexp(t, `(?m)^server: llama\.cpp b\S+$`, out, "the server's own name and build")
	assert.Regexp(t, `(?m)^label: `+regexp.QuoteMeta(label)+`$`, out)
	assert.NotRegexp(t, `(?m)^server-id:`, out, "a label names the build: no server-id configuration line")
	assert.Regexp(t, `(?m)^# server-id: [0-9a-f]{12} llama\.cpp .*model_path=\S+`+regexp.QuoteMeta(label)+`\.gguf`, out, "the ignored identity line names the model file")
}

// benchstatTable returns the lines of the table of unit in benchstat's
// text output: header, unit line, rows.
func benchstatTable(t *testing.T, out, unit string) []string {
	t.Helper()
	for _, block := range strings.Split(out, "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		for i := 0; i+2 < len(lines); i++ {
			if strings.Contains(lines[i], "│") && regexp.MustCompile(`│\s+`+regexp.QuoteMeta(unit)+`\s+│`).MatchString(lines[i+1]) {
				return lines[i:]
			}
		}
	}
	t.Fatalf("no %s table in benchstat's output:\n%s", unit, out)
	return nil
}

// rowValues reads the two medians of a table's first row ("Seed-2
// 10.21m ± 3%  5.12m ± 2%  -49.85% (p=0.008 n=5)"), in seconds.
func rowValues(t *testing.T, table []string) (first, second float64) {
	t.Helper()
	f := strings.Fields(table[2])
	var vals []float64
	for i := 1; i+1 < len(f) && len(vals) < 2; i++ {
		if f[i+1] == "±" {
			vals = append(vals, siValue(t, f[i]))
		}
	}
	require.Len(t, vals, 2, "two medians in %q", table[2])
	return vals[0], vals[1]
}

// siValue parses benchstat's "10.21m", "512.3µ", "1.204".
func siValue(t *testing.T, s string) float64 {
	t.Helper()
	scale := 1.0
	for suffix, f := range map[string]float64{"m": 1e-3, "µ": 1e-6, "n": 1e-9, "k": 1e3} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, scale = v, f
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "benchstat value %q", s)
	require.False(t, math.IsNaN(v))
	return v * scale
}
