package benchtest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest/gate"
	"github.com/servingbench/servingbench/internal/gomodtest"
)

// servingTest is the whole benchmark file a user writes.
const servingTest = `package serving

import (
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

func BenchmarkSeed(b *testing.B) { benchtest.Run(b, scenarios.SeedRandom256()) }
`

// TestExternalModule is the workflow of the README: a module outside this
// one benchmarks the simulated FP16 and W8A8 builds with go test -bench .
// -count 5, benchstat compares them (units scaled: seconds with an SI
// prefix for latencies), benchstat -col model compares them in one file,
// and the regression gate reads the files into its tables. It checks the
// tables' structure and units, never a p-value: whether a difference is
// significant is a measurement of the machine's steadiness. It
// builds benchstat from golang.org/x/perf in the module cache, without
// network access (GOPROXY=off): it is skipped when the cache lacks a
// module, except under CI=true, where .ci/run has run go mod download.
func TestExternalModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module and runs its benchmarks")
	}
	mod := gomodtest.New(t, "..")
	mod.Write("serving_test.go", servingTest)
	dir := mod.Dir
	// helperEnv empty: the module's benchmarks are no output_test helper.
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		return mod.Run(append(env, helperEnv+"="), 0, name, args...)
	}
	bench := func(sim string) string {
		// Speed 10 keeps the simulation's steps long against scheduling
		// noise on a loaded machine.
		out := mod.Go([]string{"SERVINGBENCH_SIM=" + sim, "SERVINGBENCH_SIM_SPEED=10", helperEnv + "="}, "test", "-run", "^$", "-bench", ".", "-count", "5")
		path := filepath.Join(dir, sim+".txt")
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
		return path
	}
	fp16, w8a8 := bench("fp16"), bench("w8a8")
	fp16Text, err := os.ReadFile(fp16)
	require.NoError(t, err)
	w8a8Text, err := os.ReadFile(w8a8)
	require.NoError(t, err)
	both := filepath.Join(dir, "both.txt")
	require.NoError(t, os.WriteFile(both, append(fp16Text, w8a8Text...), 0o644))

	results := readBenchfmt(t, string(fp16Text))
	require.Len(t, results, 5, "results of -count 5 in\n%s", fp16Text)
	assert.Equal(t, "sim-7b-fp16", configOf(results[0])["model"])
	assert.Equal(t, "sim-7b-w8a8", configOf(readBenchfmt(t, string(w8a8Text))[0])["model"])

	benchstat := mod.Benchstat()

	// Two files of two models: one table per model and unit.
	out := run(nil, benchstat, fp16, w8a8)
	t.Logf("benchstat fp16.txt w8a8.txt:\n%s", out)
	tables := benchstatTables(t, out)
	client := len(units) - 1 // ns/op is hidden; the client lag's two with kernel times (withClientLag)
	assert.Len(t, tables, 2*(client+3), "tables (2 models x %d units: %d of the client, 3 of the server's /metrics) in\n%s", client+3, client, out)
	checkScaled(t, tables)

	// -col model: the two builds side by side, from two files or one.
	for _, args := range [][]string{{"-col", "model", fp16, w8a8}, {"-col", "model", both}} {
		out := run(nil, benchstat, args...)
		t.Logf("benchstat %s:\n%s", strings.Join(args, " "), out)
		tables := benchstatTables(t, out)
		assert.Len(t, tables, client+3, "tables (one per unit) in\n%s", out)
		checkScaled(t, tables)
		for _, tb := range tables {
			assert.Regexp(t, `sim-7b-fp16 .*│ +sim-7b-w8a8`, tb.header, "columns of the %s table", tb.unit)
			assert.Contains(t, tb.rows[0], "(p=", "comparison of %s", tb.unit)
		}
	}

	// The regression gate reads the same files: one row per unit, each
	// with its better direction, the medians in benchfmt's base units and
	// n=5 a side. Whether a change of about 10%
	// is significant with n=5 depends on how steady the machine was while
	// the benchmarks ran, so neither the p-value nor the verdict is
	// checked here (the gate's decisions are tested on fixed samples in
	// compare_test.go).
	const stable = ".unit:(e2el-mean-ns OR ttft-p99-ns OR req/s OR out-tok/s)"
	var stdout bytes.Buffer
	cmp, err := gate.CompareFiles(fp16, w8a8, gate.CompareOptions{Ignore: []string{"model"}, Filter: stable})
	require.NoError(t, err, "gate.CompareFiles(fp16, w8a8)")
	require.NoError(t, cmp.WriteTable(&stdout))
	if err := cmp.Err(); err != nil {
		var regErr *gate.RegressionError
		require.True(t, errors.As(err, &regErr), "gate.CompareFiles(fp16, w8a8).Err() = %v\n%s", err, stdout.String())
	}
	t.Logf("servingbench compare -ignore model -filter '%s' fp16.txt w8a8.txt:\n%s", stable, stdout.String())
	for _, unit := range []string{"e2el-mean-sec", "ttft-p99-sec", "req/s", "out-tok/s"} {
		assert.Regexp(t, `(?m)^ +\S*fp16\.txt +\S*w8a8\.txt *\n +`+regexp.QuoteMeta(unit)+` +`+regexp.QuoteMeta(unit)+` +vs base +(lower|higher) is better$`,
			stdout.String(), "the %s table's header", unit)
	}
	assert.Regexp(t, `(?m)^Seed(-[0-9]+)? +\S+ ± \S+ +\S+ ± \S+ +(~|[+-][0-9.]+%) \(p=[0-9.]+ n=5\)`, stdout.String(), "a comparison row")
	c, err := gate.CompareFiles(w8a8, fp16, gate.CompareOptions{Ignore: []string{"model"}, Filter: stable})
	require.NoError(t, err)
	want := map[string]gate.Better{
		"e2el-mean-ns": gate.LowerIsBetter, "ttft-p99-ns": gate.LowerIsBetter,
		"req/s": gate.HigherIsBetter, "out-tok/s": gate.HigherIsBetter,
	}
	got := map[string]gate.Better{}
	for _, r := range c.Rows {
		got[r.Unit] = r.Better
		assert.Equal(t, 5, r.Old.N, "%s: samples of w8a8", r.Unit)
		assert.Equal(t, 5, r.New.N, "%s: samples of fp16", r.Unit)
		assert.Positive(t, r.Old.Center, "%s: w8a8 median", r.Unit)
		assert.Positive(t, r.New.Center, "%s: fp16 median", r.Unit)
		if strings.HasSuffix(r.Unit, "-ns") {
			assert.Equal(t, strings.TrimSuffix(r.Unit, "-ns")+"-sec", r.TidyUnit, "TidyUnit of %s", r.Unit)
		}
	}
	assert.Equal(t, want, got, "rows of CompareFiles(w8a8, fp16), by unit")
}

type benchstatTable struct {
	header, unit string
	rows         []string
}

var tableUnit = regexp.MustCompile(`│\s+(\S+)\s+│`)

// benchstatTables splits benchstat's output into its tables, leaving out
// those of a latency that was exactly 0 in some run (see zeroSplit).
func benchstatTables(t *testing.T, out string) []benchstatTable {
	t.Helper()
	var tables []benchstatTable
	for _, block := range strings.Split(out, "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		for i := 0; i+2 < len(lines); i++ {
			if !strings.Contains(lines[i], "│") {
				continue
			}
			m := tableUnit.FindStringSubmatch(lines[i+1])
			require.NotNil(t, m, "unit line %q", lines[i+1])
			if tb := (benchstatTable{header: lines[i], unit: m[1], rows: lines[i+2:]}); !zeroSplit(tb) {
				tables = append(tables, tb)
			}
			break
		}
	}
	return tables
}

// zeroSplit reports whether tb is a table that x/perf's benchfmt split off
// from its -sec table: its reader converts a value's unit (ns to sec) only
// when the conversion changes the value, so a latency of exactly 0 keeps
// its -ns unit and gets a table of its own. A loaded machine gives such
// zeros: a client starved of CPU reads most chunks two at a time, and the
// median ITL is 0. What such a table holds is only zeros.
func zeroSplit(tb benchstatTable) bool {
	if !strings.HasSuffix(tb.unit, "-ns") {
		return false
	}
	for _, row := range tb.rows {
		fields := strings.Fields(row)
		for i, f := range fields {
			if i+1 < len(fields) && fields[i+1] == "±" && f != "0.000" {
				return false
			}
		}
	}
	return true
}

// scaledSeconds is a value of a -sec unit as benchstat scales it: at most
// 4 significant digits and an SI prefix below a second.
var scaledSeconds = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]+)?[mµn]?$|^[0-9]\.[0-9]+$`)

// checkScaled checks that every unit Run reports is in the tables, the
// latencies tidied to seconds and printed with an SI prefix.
func checkScaled(t *testing.T, tables []benchstatTable) {
	t.Helper()
	seen := map[string]bool{}
	for _, tb := range tables {
		seen[tb.unit] = true
		assert.False(t, strings.HasSuffix(tb.unit, "-ns"), "unit %s left in nanoseconds", tb.unit)
		if !strings.HasSuffix(tb.unit, "-sec") {
			continue
		}
		for _, row := range tb.rows {
			fields := strings.Fields(row)
			for i, f := range fields {
				if i+1 < len(fields) && fields[i+1] == "±" {
					assert.Regexp(t, scaledSeconds, f, "%s value in row %q", tb.unit, row)
				}
			}
		}
	}
	for _, u := range units {
		if u == "ns/op" {
			continue
		}
		if base, ok := strings.CutSuffix(u, "-ns"); ok {
			u = base + "-sec"
		}
		assert.True(t, seen[u], "no table of %s", u)
	}
}
