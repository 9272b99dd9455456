package llamacpp_test

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
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
// label side by side, and servingbench compare reading Q8_0 (baseline)
// against F16 (new) as a slowdown.
//
// Both builds are benchmarked at the same time, so that the machine's
// load, whatever it is, weighs on both alike. It asserts structure and
// direction, never a speed: two columns labelled
// f16 and q8_0, the identity lines each file carries, no failed requests
// and no prefix-cache warning (each run draws fresh prompts), and that
// Q8_0's median TPOT is below F16's: decoding a model this small is
// bound by memory bandwidth, and Q8_0 reads about half the bytes per
// weight (Q8_0/F16 median TPOT 0.61-0.69 in runs on the development
// machine, ggml's sapphirerapids CPU variant).
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

	// The two builds run at the same time, each its own go test process
	// against its own server: whatever else loads the machine (a CI
	// neighbour, a CPU burner) loads both alike, where one build after the
	// other would measure the load's changes in between.
	builds := []struct{ label, model string }{{"f16", llamacpp.ModelF16}, {"q8_0", llamacpp.ModelQ8}}
	cmds := make([]*exec.Cmd, len(builds))
	outs := make([]bytes.Buffer, len(builds))
	for i, b := range builds {
		srv := llamacpp.Serve(t, in, llamacpp.Options{Model: b.model, Parallel: slots})
		env := []string{
			"SERVINGBENCH_BASE_URL=" + srv.URL, "SERVINGBENCH_MODEL=" + srv.Alias, "SERVINGBENCH_BACKEND=llama.cpp",
			"SERVINGBENCH_LABEL=" + b.label,
			// The seed's 640 prompts of 256 tokens and 128 output tokens
			// take about 10 minutes a run on this CPU; 16 of 64 tokens,
			// 32 out, keep its shape (everything sent at once, 4 slots).
			"SERVINGBENCH_NUM_PROMPTS=16", "SERVINGBENCH_INPUT_LEN=64", "SERVINGBENCH_OUTPUT_LEN=32",
		}
		cmds[i] = mod.Command(env, &outs[i], mod.GoPath(), "test", "-run", "^$", "-bench", ".", "-benchtime=1x",
			"-count="+strconv.Itoa(buildsCount), "-timeout=10m")
	}
	// Compile once before the clock matters: go test -run '^$' with no
	// benchmark builds the test binary into the cache for both.
	mod.Go(nil, "test", "-run", "^$", ".")
	for _, cmd := range cmds {
		require.NoError(t, cmd.Start())
	}
	errs := make([]error, len(cmds))
	for i, cmd := range cmds {
		errs[i] = cmd.Wait()
	}
	files := map[string]string{}
	for i, b := range builds {
		out := outs[i].String()
		mod.Check(cmds[i], errs[i], 0, out)
		t.Logf("%s:\n%s", b.label, out)
		checkIdentityLines(t, out, b.label)
		assert.NotContains(t, out, "prefix cache", "%s: each run draws fresh prompts, so the server's prefix cache must not serve them", b.label)
		// The name's -N suffix is GOMAXPROCS, which go test leaves out
		// when it is 1 (a one-CPU machine, cgroup or taskset).
		results := regexp.MustCompile(`(?m)^BenchmarkSeed(-\d+)?\s+1\s.*\s0 failed\s`).FindAllString(out, -1)
		assert.Len(t, results, buildsCount, "%s: result lines with 0 failed requests", b.label)
		path := mod.Path(b.label + ".txt")
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
		files[b.label] = path
	}

	out := mod.Run(nil, 0, benchstat, "-col", "label", files["f16"], files["q8_0"])
	t.Logf("benchstat -col label f16.txt q8.txt:\n%s", out)
	table := benchstatTable(t, out, "tpot-median-sec")
	require.Regexp(t, `f16 +│ +q8_0`, table[0], "the TPOT table's columns are the two labels")
	f16, q8 := rowValues(t, table)
	assert.Less(t, q8, f16, "median TPOT: Q8_0 below F16 (benchstat row %q)", table[2])
	t.Logf("Q8_0/F16 median TPOT: %.3f", q8/f16)

	// Q8_0 as the baseline, F16 as the new build: the gate reads the
	// slowdown's direction in every latency and throughput. Whether it
	// also calls it significant (exit status 1, as in the README's run)
	// depends on how steady the machine was: with 5 samples a side one
	// overlapping pair of runs makes p = 0.016, three make it 0.056. So
	// the test checks the gate's medians and that it exits 0 or 1, never
	// 2 (the files' identity lines pool nothing), and that every
	// regression it lists is a slowdown.
	var gateOut bytes.Buffer
	cmd := mod.Command(nil, &gateOut, cli, "compare", files["q8_0"], files["f16"])
	err := cmd.Run()
	t.Logf("servingbench compare q8_0.txt f16.txt (%v):\n%s", err, gateOut.String())
	if err != nil {
		mod.Check(cmd, err, 1, gateOut.String())
		for _, line := range regexp.MustCompile(`(?m)^\t\S+ (\S+): ([+-][0-9.]+)%.*(lower|higher) is better`).FindAllStringSubmatch(gateOut.String(), -1) {
			slower := (line[3] == "lower") == !strings.HasPrefix(line[2], "-")
			assert.True(t, slower, "gate regression %s %s%% (%s is better): F16 slower than Q8_0", line[1], line[2], line[3])
		}
	}
	c, err := gate.CompareFiles(files["q8_0"], files["f16"], gate.CompareOptions{Filter: ".unit:tpot-median-ns"})
	require.NoError(t, err, "gate.CompareFiles(q8_0, f16)")
	require.Len(t, c.Rows, 1)
	assert.Greater(t, c.Rows[0].New.Center, c.Rows[0].Old.Center, "the gate's median TPOT: F16 (new) above Q8_0 (old)")
	assert.Equal(t, gate.LowerIsBetter, c.Rows[0].Better)
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
