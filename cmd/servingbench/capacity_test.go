package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The known-answer server of the capacity tests (servingtest.FixedService):
// K slots, steps of 10ms and requests of 10 output tokens, so a service
// time S of 100ms. An unqueued request's TTFT is one or two steps (10-20ms),
// a request that waits for a slot waits about S: with the SLA's 60ms
// between, the concurrency capacity is exactly K.
const (
	fixedStep = 10 * time.Millisecond
	fixedSLA  = "ttft.p90<=60ms failed<=0"
)

// fixedServer is the known-answer server on a real port, for the tests
// of a CLI process.
func fixedServer(t *testing.T, k int) *servingtest.Server {
	t.Helper()
	srv := servingtest.NewServer(servingtest.FixedService(k, fixedStep))
	t.Cleanup(srv.Close)
	return srv
}

// inBubble runs f inside a testing/synctest bubble with the known-answer
// server of k slots on an in-memory listener, which the CLI reaches
// through testHTTPClient: the server's steps and the CLI's clock are the
// bubble's fake clock, so every time the search measures is exact, on any
// machine however busy.
func inBubble(t *testing.T, k int, f func(t *testing.T, srv *servingtest.Server)) {
	synctest.Test(t, func(t *testing.T) {
		srv := servingtest.NewUnstartedServer(servingtest.FixedService(k, fixedStep))
		srv.Listener = servingtest.NewListener()
		srv.Start()
		defer srv.Close()
		testHTTPClient = srv.Client()
		defer func() { testHTTPClient = nil }()
		f(t, srv)
	})
}

// capacityArgs are a search of srv with 20 requests a point (a p90 needs
// 10), each of 10 output tokens.
func capacityArgs(srv *servingtest.Server, extra ...string) []string {
	return append([]string{"capacity", "--base-url", srv.URL, "--model", srv.Model().Name, "--dataset-name", "random",
		"--tokenizer", qwen3, "--random-input-len", "8", "--random-output-len", "10", "--ignore-eos",
		"--num-prompts", "20", "--disable-tqdm"}, extra...)
}

// searchFile is the capacity command's --save-result file.
type searchFile struct {
	Capacity float64 `json:"capacity"`
	Search   string  `json:"search"`
	Unit     string  `json:"unit"`
	AtLeast  bool    `json:"at_least"`
	SLA      string  `json:"sla"`
	Stopped  string  `json:"stopped"`
	Reason   string  `json:"reason"`
	Requests int     `json:"requests_per_point"`
	Points   []struct {
		Load           float64          `json:"load"`
		MaxConcurrency *int             `json:"max_concurrency"`
		NumPrompts     int              `json:"num_prompts"`
		Verdict        string           `json:"verdict"`
		Violations     []map[string]any `json:"violations"`
		Metrics        map[string]any   `json:"metrics"`
	} `json:"points"`
}

// savedSearch reads the file the "Result saved to" line of out names.
func savedSearch(t *testing.T, out string) (string, searchFile) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no 'Result saved to' line:\n%s", out)
	data, err := os.ReadFile(m[1])
	require.NoError(t, err)
	var f searchFile
	require.NoError(t, json.Unmarshal(data, &f), "%s", data)
	return m[1], f
}

// pointRows are the table's rows as (load, verdict).
func pointRows(t *testing.T, out string) [][2]string {
	t.Helper()
	_, rows := tableRows(t, out, "#")
	var got [][2]string
	for _, r := range rows {
		got = append(got, [2]string{r[1], r[2]})
	}
	return got
}

// TestCapacityKnownConcurrency: a server of 2 slots has a concurrency
// capacity of exactly 2: doubling from 1 finds 4 failing, bisecting tries
// 3, and the first failing point says which limit failed and by how much.
func TestCapacityKnownConcurrency(t *testing.T) {
	inBubble(t, 2, func(t *testing.T, srv *servingtest.Server) {
		dir := t.TempDir()
		out, stderr, err := runCLI(t, capacityArgs(srv, "--search", "max-concurrency", "--sla", fixedSLA, "--save-result", "--result-dir", dir)...)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out, stderr)
		assert.Contains(t, out, "Initial test run completed. Starting the capacity search...\n"+
			`Capacity search: the largest --max-concurrency at --request-rate inf meeting --sla "ttft.p90<=60ms failed<=0"`+"\n"+
			"Each point runs 20 requests (--num-prompts): a p90 needs >= 10 (ttft.p90<=60ms)\n")
		assert.Contains(t, out, "Capacity (max-concurrency): 2\n")
		assert.Equal(t, [][2]string{{"1", "pass"}, {"2", "pass"}, {"4", "fail"}, {"3", "fail"}}, pointRows(t, out), "points:\n%s", out)
		// On the bubble's clock: one in flight, every request's first token
		// comes a step (10ms) after its send and the point takes 20 x 100ms,
		// exactly. With more in flight than slots the order of requests
		// that arrive at the same instant is the scheduler's, which moves a
		// queued request by a step: a third or fourth request in flight
		// waits for a slot, S to S+2 steps (100-120ms) at p90.
		assert.Contains(t, out, "#  max-concurrency  verdict  runs  ttft.p90 (ms)  failed  req/s  out tok/s\n"+
			"1  1                pass     1     10.00          0       10.00  100.00\n")
		m := regexp.MustCompile(`(?m)^First failing point: max-concurrency=3: ttft\.p90 = ([\d.]+)ms, want <= 60ms \(\+\d+\.\d%\)$`).FindStringSubmatch(out)
		require.NotNil(t, m, "no first failing point:\n%s", out)
		queued, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		assert.True(t, queued >= 100 && queued <= 120, "ttft.p90 at max-concurrency 3 = %vms, want a wait for a slot, 100-120ms", queued)
		assert.Contains(t, stderr, "capacity: point 1: --request-rate inf --max-concurrency 1 (20 requests)\n")
		assert.Contains(t, stderr, "capacity: point 1: --request-rate inf --max-concurrency 1: pass in 2.00s: ttft.p90 = 10ms, want <= 60ms; failed = 0, want <= 0\n")
		assert.Regexp(t, `capacity: point 4: --request-rate inf --max-concurrency 3: fail in \d+\.\d\ds: ttft\.p90 = `+m[1]+`ms, want <= 60ms \(\+[\d.]+%\); failed = 0, want <= 0\n`, stderr)

		path, f := savedSearch(t, out)
		assert.Regexp(t, `^vllm-capacity-max-concurrency-sim-fixed-service-\d{8}-\d{6}\.json$`, filepath.Base(path))
		assert.Equal(t, 2.0, f.Capacity)
		assert.Equal(t, "max-concurrency", f.Search)
		assert.Equal(t, "concurrency", f.Unit)
		assert.False(t, f.AtLeast)
		assert.Equal(t, fixedSLA, f.SLA)
		assert.Equal(t, "resolved", f.Stopped)
		assert.Equal(t, 20, f.Requests)
		assert.True(t, strings.HasPrefix(f.Reason, "max-concurrency=3: ttft.p90 = "+m[1]+"ms, want <= 60ms (+"), "reason %q", f.Reason)
		require.Len(t, f.Points, 4)
		for i, p := range f.Points {
			assert.Equal(t, []float64{1, 2, 4, 3}[i], p.Load, "point %d", i)
			assert.Equal(t, []string{"pass", "pass", "fail", "fail"}[i], p.Verdict, "point %d", i)
			assert.Equal(t, 20, p.NumPrompts, "point %d", i)
			assert.EqualValues(t, 20, p.Metrics["completed"], "point %d: the run's vLLM metrics", i)
			assert.Equal(t, p.Verdict == "fail", len(p.Violations) > 0, "point %d violations %v", i, p.Violations)
		}
		assert.Equal(t, "ttft.p90<=60ms", f.Points[2].Violations[0]["limit"])
		assert.Equal(t, "ms", f.Points[2].Violations[0]["unit"])
	})
}

// TestCapacityNeverPasses: an SLA below the unqueued TTFT fails at the
// lowest load: the capacity is 0 with the reason, the search ended (exit
// status 0 without --min-capacity), and --min-capacity 1 fails with the
// reason.
func TestCapacityNeverPasses(t *testing.T) {
	inBubble(t, 2, func(t *testing.T, srv *servingtest.Server) {
		dir := t.TempDir()
		out, stderr, err := runCLI(t, capacityArgs(srv, "--search", "max-concurrency", "--sla", "ttft.p90<=1ms", "--min-capacity", "1",
			"--save-result", "--result-dir", dir, "--result-filename", "search.json")...)
		require.Error(t, err, "stdout:\n%s\nstderr:\n%s", out, stderr)
		assert.EqualError(t, err, "capacity (max-concurrency) 0 is below --min-capacity 1; first failing point max-concurrency=1: ttft.p90 = 10ms, want <= 1ms (+900.0%)")
		var u usageError
		assert.False(t, errors.As(err, &u), "exit status 1, not 2")
		assert.Contains(t, out, "Capacity (max-concurrency): 0 (no load tried met the SLA)\n")
		assert.Contains(t, out, "stopped: min-load")
		assert.Equal(t, [][2]string{{"1", "fail"}}, pointRows(t, out))
		assert.Contains(t, out, "\nFirst failing point: max-concurrency=1: ttft.p90 = 10ms, want <= 1ms (+900.0%)\n")
		path, f := savedSearch(t, out)
		assert.Equal(t, filepath.Join(dir, "search.json"), path, "--result-filename names the file")
		assert.Equal(t, 0.0, f.Capacity)
		assert.Equal(t, "min-load", f.Stopped)
		assert.Equal(t, "max-concurrency=1: ttft.p90 = 10ms, want <= 1ms (+900.0%)", f.Reason)
	})
}

// TestCapacityAtLeast: when --max-load passes the capacity is "at least"
// it, and --min-capacity of that value passes. The points' metrics are
// the vLLM result of each judged run, with the label and the server's
// identity as the benchmark saves them.
func TestCapacityAtLeast(t *testing.T) {
	inBubble(t, 2, func(t *testing.T, srv *servingtest.Server) {
		dir := t.TempDir()
		out, stderr, err := runCLI(t, capacityArgs(srv, "--search", "max-concurrency", "--sla", fixedSLA, "--max-load", "2",
			"--min-capacity", "2", "--label", "k2", "--save-result", "--result-dir", dir)...)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out, stderr)
		assert.Contains(t, out, "Capacity (max-concurrency): at least 2\n")
		assert.Contains(t, out, "stopped: max-load")
		assert.Equal(t, [][2]string{{"1", "pass"}, {"2", "pass"}}, pointRows(t, out))
		assert.NotContains(t, out, "First failing point")
		path, f := savedSearch(t, out)
		assert.Regexp(t, `^k2-capacity-max-concurrency-sim-fixed-service-\d{8}-\d{6}\.json$`, filepath.Base(path), "the label prefixes the name")
		assert.Equal(t, 2.0, f.Capacity)
		assert.True(t, f.AtLeast)
		assert.Equal(t, "", f.Reason)
		require.Len(t, f.Points, 2)
		m := f.Points[1].Metrics
		assert.Equal(t, "k2", m["label"])
		assert.Equal(t, "vllm", m["backend"])
		assert.EqualValues(t, 2, m["max_concurrency"])
		assert.Contains(t, m, "server_id")
		data, err := json.Marshal(m)
		require.NoError(t, err)
		rep, err := servingbench.ReadJSON(strings.NewReader(string(data)))
		require.NoError(t, err, "a point's metrics read as a result file")
		assert.Equal(t, 20, rep.Completed)
	})
}

// TestCapacityBudget: no point starts once --time-budget has passed; the
// search says it stopped before its resolution.
func TestCapacityBudget(t *testing.T) {
	inBubble(t, 2, func(t *testing.T, srv *servingtest.Server) { // point 1: 20 requests of 100ms one at a time, 2 s on the bubble's clock
		out, stderr, err := runCLI(t, capacityArgs(srv, "--search", "max-concurrency", "--sla", fixedSLA, "--time-budget", "0.5")...)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out, stderr)
		assert.Contains(t, out, "Capacity (max-concurrency): at least 1\n")
		assert.Contains(t, out, "stopped: budget")
		assert.Equal(t, [][2]string{{"1", "pass"}}, pointRows(t, out))
		assert.Contains(t, stderr, "warning: the search stopped at its --time-budget before narrowing to its resolution\n")
	})
}

// TestCapacityRate: a request-rate search, from --start, bounded by
// --max-load; an SLA without percentiles runs the points --num-prompts
// gives.
func TestCapacityRate(t *testing.T) {
	inBubble(t, 4, func(t *testing.T, srv *servingtest.Server) {
		out, stderr, err := runCLI(t, capacityArgs(srv, "--sla", "failed<=0", "--start", "20", "--max-load", "40")...)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", out, stderr)
		assert.Contains(t, out, `Capacity search: the largest --request-rate at no --max-concurrency meeting --sla "failed<=0"`+"\n"+
			"Each point runs 20 requests (--num-prompts)\n")
		assert.Contains(t, out, "Capacity (request-rate): at least 40 req/s\n")
		assert.Equal(t, [][2]string{{"20", "pass"}, {"40", "pass"}}, pointRows(t, out))
		assert.Contains(t, stderr, "capacity: point 1: --request-rate 20 (20 requests)\n")
		assert.Contains(t, stderr, "capacity: point 2: --request-rate 40 (20 requests)\n")
	})
}

// TestCapacityConfig: the flags fill capacity.SearchConfig, and the
// requests of a point follow the SLA unless --num-prompts is given.
func TestCapacityConfig(t *testing.T) {
	o, err := parseCommand("capacity", []string{"--sla", "ttft.p99<=500ms", "tpot.mean<=50ms", "--search", "max-concurrency",
		"--request-rate", "8", "--start", "2", "--min-load", "1", "--max-load", "64", "--resolution", "10%", "--noise", "0.02",
		"--repeats", "5", "--time-budget", "90s", "--max-points", "7", "--tail-requests", "2"})
	require.NoError(t, err)
	cfg := o.capacity.config
	assert.Equal(t, capacity.MaxConcurrency, cfg.Dimension)
	assert.Equal(t, "ttft.p99<=500ms tpot.mean<=50ms", cfg.SLA.String())
	assert.Equal(t, capacity.Load{Rate: 8}, cfg.Base)
	assert.Equal(t, []float64{2, 1, 64, 0.1, 0.02}, []float64{cfg.Start, cfg.Min, cfg.Max, cfg.Resolution, cfg.Noise})
	assert.Equal(t, []int{5, 7, 2, 200}, []int{cfg.Repeats, cfg.MaxPoints, cfg.TailRequests, cfg.Requests})
	assert.Equal(t, 90*time.Second, cfg.Budget)
	assert.Equal(t, 200, o.numPrompts, "the prompts prepared")
	assert.Equal(t, "Each point runs 200 requests: a p99 needs >= 200 (ttft.p99<=500ms, 2 requests beyond it: --tail-requests 2); --num-prompts sets more", o.capacity.sizing)

	tests := []struct {
		flags  []string
		n      int
		sizing string
	}{
		{[]string{"--sla", "ttft.p99<=500ms"}, 100, "Each point runs 100 requests: a p99 needs >= 100 (ttft.p99<=500ms); --num-prompts sets more"},
		{[]string{"--sla", "e2el.p99.9<=2s", "failed<=0"}, 1000, "Each point runs 1000 requests: a p99.9 needs >= 1000 (e2el.p99.9<=2s); --num-prompts sets more"},
		{[]string{"--sla", "ttft.p90<=1s"}, 100, "Each point runs 100 requests (at least 100 by default): a p90 needs >= 10 (ttft.p90<=1s); --num-prompts sets it"},
		{[]string{"--sla", "failed<=0"}, 100, "Each point runs 100 requests (the default; the SLA bounds no percentile); --num-prompts sets it"},
		{[]string{"--sla", "ttft.p99<=500ms", "--num-prompts", "300"}, 300, "Each point runs 300 requests (--num-prompts): a p99 needs >= 100 (ttft.p99<=500ms)"},
		{[]string{"--sla", "ttft.p90<=1s", "--num-prompts", "10"}, 10, "Each point runs 10 requests (--num-prompts): a p90 needs >= 10 (ttft.p90<=1s)"},
	}
	for _, tt := range tests {
		o, err := parseCommand("capacity", tt.flags)
		require.NoError(t, err, "%q", tt.flags)
		assert.Equal(t, tt.n, o.capacity.config.Requests, "%q", tt.flags)
		assert.Equal(t, tt.sizing, o.capacity.sizing, "%q", tt.flags)
	}
}

func TestCapacityBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, `flag --sla is required: the limits every point must meet, e.g. --sla "ttft.p99<=500ms failed<=0"`},
		{[]string{"--sla", "ttft.p99<500ms"}, `flag --sla "ttft.p99<500ms": `},
		{[]string{"--sla", "goodput>=2"}, `flag --sla "goodput>=2": goodput>=2 needs --goodput SLOs`},
		{[]string{"--sla", "ttft.p99<=500ms", "--num-prompts", "50"}, "flag --num-prompts 50: too few requests a point for --sla: a p99 needs >= 100 (ttft.p99<=500ms); a p99 of fewer holds no request from the tail it bounds (pass --num-prompts 100 or more)"},
		{[]string{"--sla", "failed<=0", "--search", "tokens"}, `flag --search: unknown load "tokens" (want request-rate or max-concurrency)`},
		{[]string{"--sla", "failed<=0", "--request-rate", "4"}, "flag --request-rate: the search varies the request rate itself; remove --request-rate"},
		{[]string{"--sla", "failed<=0", "--search", "max-concurrency", "--max-concurrency", "4"}, "flag --max-concurrency: the search varies the max concurrency itself"},
		{[]string{"--sla", "failed<=0", "--search", "max-concurrency", "--start", "1.5"}, "flag --start must be a whole concurrency in a max-concurrency search, got 1.5"},
		{[]string{"--sla", "failed<=0", "--start", "8", "--max-load", "4"}, "flag --max-load 4 must be >= --start 8"},
		{[]string{"--sla", "failed<=0", "--start", "2", "--min-load", "4"}, "flag --min-load 4 must be <= --start 2"},
		{[]string{"--sla", "failed<=0", "--search", "max-concurrency", "--max-load", "200"}, "flag --max-load 200 must be <= the 100 requests of a point"},
		{[]string{"--sla", "failed<=0", "--start", "-1"}, "flag --start must be a load > 0, got -1"},
		{[]string{"--sla", "failed<=0", "--resolution", "150%"}, `flag --resolution "150%": want a fraction in [0, 1) such as 5% or 0.05`},
		{[]string{"--sla", "failed<=0", "--noise", "abc"}, `flag --noise "abc": want a fraction in [0, 1)`},
		{[]string{"--sla", "failed<=0", "--repeats", "2"}, "flag --repeats must be odd (1: no repeats), got 2"},
		{[]string{"--sla", "failed<=0", "--max-points", "-1"}, "flag --max-points must be >= 1 (0: the default 20), got -1"},
		{[]string{"--sla", "failed<=0", "--time-budget", "soon"}, `flag --time-budget "soon": want a duration such as 30m, 90s or 600 (seconds)`},
		{[]string{"--sla", "failed<=0", "--time-budget", "-5m"}, `flag --time-budget "-5m": want a duration > 0`},
		{[]string{"--sla", "failed<=0", "--min-capacity", "-1"}, "flag --min-capacity must be >= 0, got -1"},
		{[]string{"--sla", "failed<=0", "--tail-requests", "-1"}, "flag --tail-requests must be >= 1, got -1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// A server that is never reached: the error comes first.
			args := append([]string{"capacity", "--base-url", "http://127.0.0.1:9", "--model", "m"}, tt.args...)
			_, _, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var u usageError
			assert.True(t, errors.As(err, &u), "a usage error (exit status 2): %v", err)
		})
	}
}

// TestCapacityInterruptKeepsPoints: a SIGINT during the second point
// keeps the first: printed and saved, the search marked cancelled, exit
// status 130.
func TestCapacityInterruptKeepsPoints(t *testing.T) {
	srv := fixedServer(t, 2) // point 1: 20 requests of 100ms one at a time, 2 s
	dir := t.TempDir()
	p := startCLI(t, capacityArgs(srv, "--search", "max-concurrency", "--sla", fixedSLA, "--save-result", "--result-dir", dir)...)
	if !p.stderr.waitFor("capacity: point 2:", startupTimeout) {
		t.Fatalf("the second point did not start within %v\nstdout:\n%s\nstderr:\n%s", startupTimeout, p.stdout.String(), p.stderr.String())
	}
	sent := time.Now()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code, took := p.waitExit(t, sent)
	stdout, stderr := p.stdout.String(), p.stderr.String()
	t.Logf("exit status %d, %v after SIGINT\nstdout:\n%s\nstderr:\n%s", code, took, stdout, stderr)
	assert.Equal(t, 130, code, "exit status")
	assert.Contains(t, stdout, "Capacity (max-concurrency): at least 1\n")
	assert.Contains(t, stdout, "stopped: cancelled")
	assert.Equal(t, [][2]string{{"1", "pass"}}, pointRows(t, stdout))
	assert.Contains(t, stderr, "servingbench: capacity search interrupted after 1 points")
	_, f := savedSearch(t, stdout)
	assert.Equal(t, "cancelled", f.Stopped)
	assert.Len(t, f.Points, 1)
}
