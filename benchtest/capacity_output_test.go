package benchtest_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// quick is a scenario of 10 prompts on the zero-cost server, enough for a
// p90.
func quick() scenarios.Scenario {
	sc := tiny()
	sc.Name, sc.NumPrompts = "quick", 10
	return sc
}

// BenchmarkHelperCapacity searches request rates of 1000 to 4000 req/s,
// which the zero-cost server carries: the capacity is at least 4000.
func BenchmarkHelperCapacity(b *testing.B) {
	helper(b)
	benchtest.Capacity(b, quick(), servingbench.MustParseSLA("ttft.p90<=1s"),
		benchtest.WithSearch(capacity.SearchConfig{Start: 1000, Max: 4000}))
}

// BenchmarkHelperCapacityNone searches concurrencies from 2 under an SLA
// no server meets: the capacity is 0.
func BenchmarkHelperCapacityNone(b *testing.B) {
	helper(b)
	benchtest.Capacity(b, quick(), servingbench.MustParseSLA("ttft.p90<=1ns failed<=0"),
		benchtest.WithSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Start: 2}))
}

// BenchmarkHelperCapacityDead searches a server that fails every request.
func BenchmarkHelperCapacityDead(b *testing.B) {
	helper(b)
	srv := servingtest.NewServer(servingtest.Model{Name: "dead", Faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable}}})
	defer srv.Close()
	benchtest.Capacity(b, quick(), servingbench.MustParseSLA("ttft.p90<=1s"), benchtest.WithServer(srv),
		benchtest.WithSearch(capacity.SearchConfig{Start: 1000}))
}

// BenchmarkHelperCapacityFew searches with too few prompts for a p99.
func BenchmarkHelperCapacityFew(b *testing.B) {
	helper(b)
	benchtest.Capacity(b, quick(), servingbench.MustParseSLA("ttft.p99<=1s"))
}

// TestCapacityOutput checks go test -bench's output of Capacity: the
// result line carries capacity-req/s (or capacity-concurrency) and the
// best point's metrics, benchfmt reads it with Main's configuration, and
// the search is logged after it: "at least" for a capacity the highest
// load bounds, the reason for a capacity of 0.
func TestCapacityOutput(t *testing.T) {
	out, err := goTestBench(t, []string{"SERVINGBENCH_SIM=zero", "SERVINGBENCH_SIM_SPEED=1"},
		"^BenchmarkHelperCapacity(None)?$", "-test.count=2")
	require.NoError(t, err, "go test -bench output:\n%s", out)
	t.Logf("go test -bench output:\n%s", out)

	results := readBenchfmt(t, out)
	require.Len(t, results, 4, "results in\n%s", out)
	want := slices.DeleteFunc(slices.Clone(units), func(u string) bool { return u == "ns/op" })
	want = append(want, "capacity-req/s")
	slices.Sort(want)
	for _, r := range results {
		name := procsSuffix.ReplaceAllString(string(r.Name.Full()), "")
		cfg := configOf(r)
		assert.Equal(t, "sim-zero-cost", cfg["model"], "model of %s", name)
		switch name {
		case "HelperCapacity":
			assert.Equal(t, want, unitsOf(r), "units of %s", name)
			assert.Equal(t, 4000.0, valueOf(r, "capacity-req/s"))
			assert.Positive(t, valueOf(r, "req/s"), "req/s of the best point")
		case "HelperCapacityNone":
			assert.Equal(t, []string{"capacity-concurrency"}, unitsOf(r), "units of %s", name)
			assert.Equal(t, 0.0, valueOf(r, "capacity-concurrency"))
		default:
			t.Errorf("unexpected benchmark %s", name)
		}
	}
	assert.NotContains(t, out, "ns/op", "ns/op is hidden")
	assert.Equal(t, 2, strings.Count(out, "capacity (request-rate): at least 4000 req/s: no load above it failed; SLA ttft.p90<=1s failed<=0\n"),
		"at-least lines, with the SLA judged, in\n%s", out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+points \(10 requests each\): 1000 pass, 2000 pass, 4000 pass; stopped: max-load after [0-9.]+m?s$`), out)
	assert.Equal(t, 2, strings.Count(out, "capacity (max-concurrency): 0: no load tried met the SLA; SLA ttft.p90<=1ns failed<=0\n"), "capacity-0 lines in\n%s", out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+first failing point: max-concurrency=1: ttft\.p90 = \S+, want <= 1ns \(\+[0-9.]+%\)$`), out, "the reason")
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+points \(10 requests each\): 2 fail, 1 fail; stopped: min-load after `), out)
	assert.NotContains(t, out, "[output truncated]")
}

// TestCapacityOutputFails checks the messages of searches that measure
// nothing: a target that fails every request, a scenario too small for
// its SLA.
func TestCapacityOutputFails(t *testing.T) {
	out, err := goTestBench(t, []string{"SERVINGBENCH_SIM=zero"}, "^BenchmarkHelperCapacity(Dead|Few)$", "-test.v")
	require.Error(t, err, "the benchmarks must fail; output:\n%s", out)
	t.Logf("go test -bench output:\n%s", out)
	assert.Empty(t, readBenchfmt(t, out), "a failed benchmark prints no result line")
	assert.Regexp(t, `benchtest: Capacity: no request succeeded in any of the search's 4 runs: the target answers nothing, which is no capacity; the first run, with seed 0, had 10 failed requests:\n\s+10 x HTTP 503`, out)
	assert.Contains(t, out, `benchtest: Capacity: every point runs the scenario's NumPrompts requests, and scenario=quick/dataset=random/in=16/out=8/n=10/rate=inf/ignore-eos=true has 10, fewer than the 100 the percentiles of SLA "ttft.p99<=1s" are judged on`)
}
