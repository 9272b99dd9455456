package benchtest_test

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The environment variables through which the output tests give Main
// options in their child processes.
const (
	mainLabelEnv   = "BENCHTEST_MAIN_LABEL"    // WithLabel(value)
	mainBaseURLEnv = "BENCHTEST_MAIN_BASE_URL" // WithTarget(Target{BaseURL: value, Model: "m"})
	mainPinnedEnv  = "BENCHTEST_MAIN_PINNED"   // WithPinnedSeed(), which Main refuses
)

// mainOptions returns the options TestMain gives Main, from the
// environment the output tests set; none in a plain go test.
func mainOptions() []benchtest.Option {
	var opts []benchtest.Option
	if l, ok := os.LookupEnv(mainLabelEnv); ok {
		opts = append(opts, benchtest.WithLabel(l))
	}
	if u := os.Getenv(mainBaseURLEnv); u != "" {
		opts = append(opts, benchtest.WithTarget(benchtest.Target{BaseURL: u, Model: "m"}))
	}
	if os.Getenv(mainPinnedEnv) != "" {
		opts = append(opts, benchtest.WithPinnedSeed())
	}
	return opts
}

func BenchmarkHelperOtherLabel(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithLabel("q8_0"))
}

func BenchmarkHelperOtherLabelNamed(b *testing.B) {
	helper(b)
	b.Run("label=q8_0", func(b *testing.B) { benchtest.Run(b, tiny(), benchtest.WithLabel("q8_0")) })
}

func BenchmarkHelperSameModelOtherSpeed(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithTarget(benchtest.Target{Sim: "zero", SimSpeed: 1000}))
}

// serverIDLine matches Main's ignored identity line: the ID, the
// server's description, its URL.
var serverIDLine = regexp.MustCompile(`(?m)^# server-id: ([0-9a-f]{12}) (.+) at (http://\S+)$`)

// TestLabelLines checks the identity lines Main prints, with and without
// a label, for the simulated and a real server, as benchfmt reads them
// into every result.
func TestLabelLines(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	real := []string{benchtest.EnvBaseURL + "=" + srv.URL, benchtest.EnvModel + "=m", benchtest.EnvBackend + "=llama.cpp"}
	sim := []string{benchtest.EnvSim + "=zero"}
	tests := []struct {
		name   string
		env    []string
		config map[string]string // besides goos, goarch, pkg, cpu; "ID": the server's
		server string            // the description in the server-id line
	}{
		{"simulated", sim, map[string]string{"model": "sim-zero-cost", "backend": "openai", "server": servingtest.Version},
			"servingtest-0.1.0 (profile=zero, speed=10)"},
		{"simulated, labelled", append(sim, benchtest.EnvLabel+"= q8_0 "),
			map[string]string{"model": "sim-zero-cost", "backend": "openai", "server": servingtest.Version, "label": "q8_0"},
			"servingtest-0.1.0 (profile=zero, speed=10)"},
		{"real", real, map[string]string{"model": "m", "backend": "llama.cpp", "server": servingtest.Version, "server-id": "ID"},
			"servingtest-0.1.0"},
		{"real, labelled", append(real, benchtest.EnvLabel+"=f16"),
			map[string]string{"model": "m", "backend": "llama.cpp", "server": servingtest.Version, "label": "f16"},
			"servingtest-0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := goTestBench(t, tt.env, "^BenchmarkHelperTiny$", "-test.count=2")
			require.NoError(t, err, "output:\n%s", out)
			m := serverIDLine.FindAllStringSubmatch(out, -1)
			require.Len(t, m, 1, "server-id lines in\n%s", out)
			id := m[0][1]
			assert.Equal(t, tt.server, m[0][2], "the server's description")
			want := map[string]string{}
			for k, v := range tt.config {
				want[k] = strings.ReplaceAll(v, "ID", id)
			}
			if want["server-id"] == "" {
				assert.NotRegexp(t, `(?m)^server-id:`, out, "a server-id configuration line")
			}
			results := readBenchfmt(t, out)
			require.Len(t, results, 2)
			for _, r := range results {
				cfg := configOf(r)
				for _, k := range []string{"goos", "goarch", "pkg", "cpu"} {
					delete(cfg, k)
				}
				assert.Equal(t, want, cfg, "configuration of a result in\n%s", out)
			}
		})
	}
	// A real server's ID is its address's: two servers of one build differ.
	srv2 := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv2.Close()
	ids := map[string]bool{}
	for _, u := range []string{srv.URL, srv2.URL} {
		out, err := goTestBench(t, []string{benchtest.EnvBaseURL + "=" + u, benchtest.EnvModel + "=m"}, "^BenchmarkHelperTiny$")
		require.NoError(t, err, "output:\n%s", out)
		results := readBenchfmt(t, out)
		require.Len(t, results, 1)
		ids[configOf(results[0])["server-id"]] = true
	}
	assert.Len(t, ids, 2, "server-ids of two servers of one build: %v", ids)
}

// TestMainOptions: WithLabel and WithTarget given to Main name the file's
// label and target, over the environment's, and Run measures that target.
func TestMainOptions(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	t.Setenv(mainLabelEnv, "f16")
	t.Setenv(mainBaseURLEnv, srv.URL)
	out, err := goTestBench(t, []string{benchtest.EnvSim + "=w8a8", benchtest.EnvLabel + "=from-env"}, "^BenchmarkHelperTiny$")
	require.NoError(t, err, "output:\n%s", out)
	assert.Regexp(t, `(?m)^model: m\nbackend: openai\nserver: servingtest-0\.1\.0\nlabel: f16\n# server-id: [0-9a-f]{12} servingtest-0\.1\.0 at `+regexp.QuoteMeta(srv.URL)+`$`, out)
	assert.NotContains(t, out, "from-env")
	assert.NotContains(t, out, "is not what the file configuration", "Run measured Main's target with Main's label")
	assert.Len(t, srv.Truth(), 8, "requests Main's target received")

	t.Setenv(mainLabelEnv, "")
	out, err = goTestBench(t, []string{benchtest.EnvLabel + "=from-env"}, "^BenchmarkHelperTiny$")
	require.NoError(t, err, "output:\n%s", out)
	assert.NotContains(t, out, "label:", "WithLabel(\"\") given to Main: no label")
	assert.Regexp(t, `(?m)^server-id: [0-9a-f]{12}$`, out, "an unlabelled real server's fingerprint")
}

func TestMainRefusesRunOptions(t *testing.T) {
	t.Setenv(mainPinnedEnv, "1")
	out, err := goTestBench(t, []string{benchtest.EnvSim + "=zero"}, "^BenchmarkHelperTiny$")
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "go test -bench with Main(m, WithPinnedSeed()): %v\n%s", err, out)
	assert.Equal(t, 2, exit.ExitCode(), "exit status of a panic")
	assert.Contains(t, out, "panic: benchtest: Main takes only WithTarget and WithLabel, got WithPinnedSeed: give them to Run or Capacity")
	assert.NotContains(t, out, "BenchmarkHelperTiny", "nothing ran")
}

// TestOtherLabelIsFlagged: a Run whose label or target is not the file's
// says, once, that its results carry the file's configuration, unless
// its name says otherwise.
func TestOtherLabelIsFlagged(t *testing.T) {
	out, err := goTestBench(t, []string{benchtest.EnvSim + "=zero", benchtest.EnvLabel + "=f16"},
		"^BenchmarkHelper(OtherLabel|OtherLabelNamed|SameModelOtherSpeed)$", "-test.count=2")
	require.NoError(t, err, "output:\n%s", out)
	assert.Equal(t, 2, strings.Count(out, "is not what the file configuration Main printed names"), "warnings in\n%s", out)
	assert.Regexp(t, `target simulated zero at 10x speed serving sim-zero-cost, server-id [0-9a-f]{12}, label q8_0 is not what the file configuration Main printed names \(target simulated zero at 10x speed serving sim-zero-cost, server-id [0-9a-f]{12}, label f16\): its results carry that configuration; name the sub-benchmark label=q8_0 so that`, out)
	assert.Regexp(t, `target simulated zero at 1000x speed serving sim-zero-cost, server-id [0-9a-f]{12}, label f16 is not what .*; name the sub-benchmark label=NAME, with WithLabel\(NAME\), so that`, out)
	for _, r := range readBenchfmt(t, out) {
		assert.Equal(t, "f16", configOf(r)["label"], "the file's label applies to %s", r.Name.Full())
	}
}

// TestRunRecordsLabel: the report's metadata holds the label and the
// server's identity.
func TestRunRecordsLabel(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	var rep *servingbench.Report
	target := benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"})
	res := benchmark(t, "1x", func(b *testing.B) { rep = benchtest.Run(b, tiny(), target, benchtest.WithLabel(" q8_0\n")) })
	require.NotZero(t, res.N)
	assert.Equal(t, "q8_0", rep.Metadata["label"])
	assert.Equal(t, servingtest.Version, rep.Metadata["server"])
	assert.Regexp(t, `^[0-9a-f]{12}$`, rep.Metadata["server_id"])
	assert.Equal(t, "openai", rep.Backend, "the default backend")

	res = benchmark(t, "1x", func(b *testing.B) { rep = benchtest.Run(b, tiny(), target, benchtest.WithLabel("")) })
	require.NotZero(t, res.N)
	assert.NotContains(t, rep.Metadata, "label")
}
