package benchtest_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchfmt"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The BenchmarkHelper benchmarks run only in the child processes of the
// tests below, which check go test's whole output.
const helperEnv = "BENCHTEST_HELPER"

func helper(b *testing.B) {
	if os.Getenv(helperEnv) == "" {
		b.Skip("run by the output tests only")
	}
}

func BenchmarkHelperTiny(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny())
}

func BenchmarkHelperSweep(b *testing.B) {
	helper(b)
	benchtest.Sweep(b, scenarios.RateSweep(tiny(), 1000, 4000))
}

func BenchmarkHelperSLAReport(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithSLA(servingbench.MustParseSLA("throughput>=1e12 failed<=0"), benchtest.SLAReport))
}

func BenchmarkHelperSLAEnforce(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithSLA(servingbench.MustParseSLA("throughput>=1e12 ttft.p99<=1ns failed<=0"), benchtest.SLAEnforce))
}

// procsSuffix is the -GOMAXPROCS suffix of a benchmark name.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// goTestBench runs this test binary's helper benchmarks matching pattern
// in a child process, as go test -bench would, with env added to an
// environment cleared of the variables TargetFromEnv reads.
func goTestBench(t *testing.T, env []string, pattern string, args ...string) (string, error) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "-test.bench=" + pattern, "-test.benchtime=1x"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SERVINGBENCH_") && !strings.HasPrefix(kv, "OPENAI_API_KEY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, helperEnv+"=1")...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// readBenchfmt reads go test output with benchfmt, failing on a syntax
// error.
func readBenchfmt(t *testing.T, out string) []*benchfmt.Result {
	t.Helper()
	var results []*benchfmt.Result
	r := benchfmt.NewReader(strings.NewReader(out), "out")
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("benchfmt: %v in\n%s", rec, out)
		case *benchfmt.Result:
			results = append(results, rec.Clone())
		}
	}
	require.NoError(t, r.Err())
	return results
}

func configOf(r *benchfmt.Result) map[string]string {
	m := map[string]string{}
	for _, c := range r.Config {
		m[c.Key] = string(c.Value)
	}
	return m
}

func valueOf(r *benchfmt.Result, unit string) float64 {
	v, ok := r.Value(unit)
	if !ok {
		return -1
	}
	return v
}

func unitsOf(r *benchfmt.Result) []string {
	var us []string
	for _, v := range r.Values {
		u := v.OrigUnit
		if u == "" {
			u = v.Unit
		}
		us = append(us, u)
	}
	slices.Sort(us)
	return us
}

// TestBenchmarkOutputIsBenchfmt checks go test -bench's output with the
// simulated target: benchfmt reads every result line with Main's
// configuration, the notice appears once and is not configuration.
func TestBenchmarkOutputIsBenchfmt(t *testing.T) {
	out, err := goTestBench(t, []string{"SERVINGBENCH_SIM=zero", "SERVINGBENCH_SIM_SPEED=1"},
		"^BenchmarkHelper(Tiny|Sweep|SLAReport)$", "-test.count=3")
	require.NoError(t, err, "go test -bench output:\n%s", out)

	assert.Equal(t, 1, strings.Count(out, "No SERVINGBENCH_BASE_URL: benchmarking the embedded simulated server, profile zero (sim-zero-cost) at 1x speed"),
		"notice lines in\n%s", out)
	assert.NotContains(t, out, "ns/op", "ns/op is hidden")
	assert.Regexp(t, `(?m)\A(.*\n)*# server-id: [0-9a-f]{12} servingtest-0\.1\.0 \(profile=zero, speed=1\) at http://127\.0\.0\.1:[0-9]+\n`, out,
		"the ignored server-id line")

	results := readBenchfmt(t, out)
	want := slices.DeleteFunc(slices.Clone(units), func(u string) bool { return u == "ns/op" })
	names := map[string]int{}
	for _, r := range results {
		name := string(r.Name.Full())
		names[name]++
		cfg := configOf(r)
		for k := range cfg {
			assert.Contains(t, []string{"goos", "goarch", "pkg", "cpu", "model", "backend", "server"}, k, "configuration key of %s", name)
		}
		assert.Equal(t, "sim-zero-cost", cfg["model"], "model of %s", name)
		assert.Equal(t, "openai", cfg["backend"], "backend of %s", name)
		assert.Equal(t, servingtest.Version, cfg["server"], "server of %s", name)
		w := want
		if strings.HasPrefix(name, "HelperSLAReport") {
			w = append(slices.Clone(want), "sla-violations")
			slices.Sort(w)
			assert.Equal(t, 1.0, valueOf(r, "sla-violations"), "sla-violations of %s", name)
		}
		assert.Equal(t, w, unitsOf(r), "units of %s", name)
		assert.Equal(t, 0.0, valueOf(r, "failed"), "failed of %s", name)
	}
	var got []string
	for n, c := range names {
		assert.Equal(t, 3, c, "results of %s with -count=3", n)
		got = append(got, procsSuffix.ReplaceAllString(n, ""))
	}
	slices.Sort(got)
	assert.Equal(t, []string{"HelperSLAReport", "HelperSweep/rate=1000", "HelperSweep/rate=4000", "HelperTiny"}, got,
		"benchmarks in\n%s", out)
}

// keyProxy forwards to a simulated server and records the Authorization
// headers it sees.
type keyProxy struct {
	*httptest.Server
	sim  *servingtest.Server
	mu   sync.Mutex
	auth map[string]int
}

func newKeyProxy(t *testing.T, m servingtest.Model) *keyProxy {
	p := &keyProxy{sim: servingtest.NewServer(m), auth: map[string]int{}}
	t.Cleanup(p.sim.Close)
	u, err := url.Parse(p.sim.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			p.mu.Lock()
			p.auth[r.Header.Get("Authorization")]++
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// TestAPIKeyNeverPrinted plants an API key, checks that the server got it
// and that no output of go test -bench -v shows it: not the configuration,
// the notices, the SLA failure nor the errors of failed requests.
func TestAPIKeyNeverPrinted(t *testing.T) {
	const key = "sk-planted-7f3a9c0e51d2"
	p := newKeyProxy(t, servingtest.Model{Name: "served-model"})
	base := []string{benchtest.EnvBaseURL + "=" + p.URL, benchtest.EnvAPIKey + "=" + key}

	out, err := goTestBench(t, append(base, benchtest.EnvModel+"=served-model"),
		"^BenchmarkHelper(Tiny|SLAReport|SLAEnforce)$", "-test.count=2", "-test.v")
	require.Error(t, err, "the SLAEnforce benchmark must fail; output:\n%s", out)
	assert.NotContains(t, out, key)
	assert.NotContains(t, out, "sk-planted")
	assert.Contains(t, out, "SLA not met: 2 of 3 limits violated")
	assert.Contains(t, out, "throughput = ")
	assert.Contains(t, out, "ttft.p99 = ")
	assert.Contains(t, out, "want <= 1ns")
	assert.Contains(t, out, "Tokenizer: no tokenizer found for model \"served-model\"", "default tokenizer note")
	for _, r := range readBenchfmt(t, out) {
		assert.Equal(t, "served-model", configOf(r)["model"])
		assert.NotContains(t, string(r.Name.Full()), "SLAEnforce", "a failed benchmark prints no result line")
	}

	out, err = goTestBench(t, append(base, benchtest.EnvModel+"=not-served"), "^BenchmarkHelperTiny$", "-test.v")
	require.Error(t, err, "every request fails; output:\n%s", out)
	assert.Contains(t, out, "benchtest: all 8 requests failed in the run with seed 0:\n")
	assert.Regexp(t, `\n\s+8 x HTTP 404\b`, out)
	assert.NotContains(t, out, key)

	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Greater(t, p.auth["Bearer "+key], 0, "requests with the planted key, got headers %v", p.auth)
	assert.Len(t, p.auth, 1, "every request carries the key")
}

var simW8A8 = benchtest.WithTarget(benchtest.Target{Sim: "w8a8", SimSpeed: 1000})

func BenchmarkHelperOtherTarget(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), simW8A8)
}

func BenchmarkHelperOtherTargetNamed(b *testing.B) {
	helper(b)
	b.Run("model=sim-7b-w8a8", func(b *testing.B) { benchtest.Run(b, tiny(), simW8A8) })
}

// TestOtherTargetIsFlagged checks that results of an explicit target in a
// benchmark not named after its model get a log line saying so, once.
func TestOtherTargetIsFlagged(t *testing.T) {
	out, err := goTestBench(t, []string{"SERVINGBENCH_SIM=zero"}, "^BenchmarkHelperOtherTarget", "-test.count=2")
	require.NoError(t, err, "output:\n%s", out)
	assert.Regexp(t, `target simulated w8a8 at 1000x speed serving sim-7b-w8a8, server-id [0-9a-f]{12} is not what the file configuration Main printed names \(target simulated zero at 10x speed serving sim-zero-cost, server-id [0-9a-f]{12}\): its results carry that configuration; name the sub-benchmark model=sim-7b-w8a8 so that benchstat tells their results apart`,
		out)
	assert.Equal(t, 1, strings.Count(out, "is not what the file configuration Main printed names"), "warnings in\n%s", out)
}
