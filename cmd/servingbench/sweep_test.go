package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// sweepArgs are a small benchmark of the embedded zero-cost server.
func sweepArgs(extra ...string) []string {
	return append([]string{"sweep", "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "8", "--sim-profile", "zero",
		"--sim-speed", "1000", "--disable-tqdm"}, extra...)
}

// tableRows splits the table printed after the line starting with
// header's first word into its header and rows of fields.
func tableRows(t *testing.T, out, first string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, first+"  ") {
			header = regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
			for _, l := range lines[i+1:] {
				if l == "" || strings.HasPrefix(l, "Result saved") || strings.HasPrefix(l, "Summary saved") || strings.HasPrefix(l, "First failing") {
					break
				}
				rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1))
			}
			return header, rows
		}
	}
	t.Fatalf("no table with a %q column in:\n%s", first, out)
	return nil, nil
}

// TestSweepConcurrencyList: one table with a row per concurrency, a
// progress line per point start and end, each point's vLLM result file
// (named by vLLM's rule) and the summary JSON and CSV.
func TestSweepConcurrencyList(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := runCLI(t, sweepArgs("--max-concurrency", "1,2", "4", "--metric-percentiles", "90",
		"--save-result", "--result-dir", dir)...)
	require.NoError(t, err, "stderr:\n%s", stderr)
	assert.Contains(t, out, "Initial test run completed. Starting the sweep...\nSweep: 3 loads, --max-concurrency 1,2,4 at --request-rate inf, 8 requests a point\n")
	header, rows := tableRows(t, out, "rate")
	assert.Equal(t, []string{"rate", "concurrency", "requests", "req/s", "out tok/s", "ttft mean", "ttft p90", "tpot mean", "tpot p90",
		"itl mean", "itl p90", "e2el mean", "e2el p90", "failed"}, header, "the table shows the first --metric-percentiles")
	require.Len(t, rows, 3, "a row per point:\n%s", out)
	for i, conc := range []string{"1", "2", "4"} {
		require.Len(t, rows[i], len(header), "row %d: %q", i, rows[i])
		assert.Equal(t, []string{"inf", conc, "8"}, rows[i][:3], "row %d", i)
		assert.Equal(t, "0", rows[i][len(header)-1], "row %d failed", i)
	}
	for i, conc := range []string{"1", "2", "4"} {
		n := strconv.Itoa(i + 1)
		assert.Contains(t, stderr, "sweep: point "+n+"/3: --request-rate inf --max-concurrency "+conc+" (8 requests)\n")
		assert.Regexp(t, `sweep: point `+n+`/3 done in \d+\.\d\ds: [\d.]+ req/s, [\d.]+ output tok/s, 0 of 8 failed\n`, stderr)
	}

	saved := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, saved, 3, "a result file per point")
	for i, conc := range []string{"1", "2", "4"} {
		assert.Regexp(t, `^vllm-infqps-concurrency`+conc+`-m-\d{8}-\d{6}\.json$`, filepath.Base(saved[i][1]))
		var res map[string]any
		data, err := os.ReadFile(saved[i][1])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &res))
		assert.EqualValues(t, []int{1, 2, 4}[i], res["max_concurrency"], "point %d", i)
		assert.EqualValues(t, 8, res["completed"], "point %d", i)
		assert.Contains(t, res, "p90_ttft_ms", "point %d keeps --metric-percentiles", i)
	}
	m := regexp.MustCompile(`(?m)^Summary saved to (\S+) and (\S+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no 'Summary saved to' line:\n%s", out)
	assert.Regexp(t, `^vllm-sweep-max-concurrency-m-\d{8}-\d{6}\.json$`, filepath.Base(m[1]))
	assert.Equal(t, strings.TrimSuffix(m[1], ".json")+".csv", m[2])
	var summary struct {
		Points []struct {
			RequestRate    any            `json:"request_rate"`
			MaxConcurrency int            `json:"max_concurrency"`
			NumPrompts     int            `json:"num_prompts"`
			Duration       float64        `json:"duration"`
			Metrics        map[string]any `json:"metrics"`
		} `json:"points"`
		Interrupted any `json:"interrupted"`
	}
	data, err := os.ReadFile(m[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &summary))
	require.Len(t, summary.Points, 3)
	for i, p := range summary.Points {
		assert.Equal(t, "inf", p.RequestRate)
		assert.Equal(t, []int{1, 2, 4}[i], p.MaxConcurrency)
		assert.Equal(t, 8, p.NumPrompts)
		assert.Positive(t, p.Duration)
		assert.EqualValues(t, 8, p.Metrics["completed"])
	}
	assert.Nil(t, summary.Interrupted)
	f, err := os.Open(m[2])
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 4, "the header and a row per point")
	assert.Equal(t, "date", records[0][0], "vLLM's result keys as columns")
	assert.Contains(t, records[0], "max_concurrency")
	assert.Contains(t, records[0], "p90_ttft_ms")
}

// TestSweepRateList: --request-rate as a list, --max-concurrency one value
// for every point, --result-filename naming the summary.
func TestSweepRateList(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := runCLI(t, sweepArgs("--request-rate", "400,inf", "--max-concurrency", "2",
		"--save-result", "--result-dir", dir, "--result-filename", "sum.json")...)
	require.NoError(t, err, "stderr:\n%s", stderr)
	assert.Contains(t, out, "Sweep: 2 loads, --request-rate 400,inf at --max-concurrency 2, 8 requests a point\n")
	_, rows := tableRows(t, out, "rate")
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"400", "2", "8"}, rows[0][:3])
	assert.Equal(t, []string{"inf", "2", "8"}, rows[1][:3])
	assert.Contains(t, out, "Summary saved to "+filepath.Join(dir, "sum.json")+" and "+filepath.Join(dir, "sum.csv")+"\n")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	require.Len(t, names, 4, "files: %v", names)
	assert.Regexp(t, `^vllm-400\.0qps-concurrency2-m-\d{8}-\d{6}\.json$`, names[2])
	assert.Regexp(t, `^vllm-infqps-concurrency2-m-\d{8}-\d{6}\.json$`, names[3])
}

// TestSweepWorkload: --workload-points picks serve_workload's loads: the
// serial point first, the batch point (every request in flight) last.
func TestSweepWorkload(t *testing.T) {
	out, stderr, err := runCLI(t, sweepArgs("--workload-points", "4", "--workload-var", "max_concurrency", "--num-prompts", "12")...)
	require.NoError(t, err, "stderr:\n%s", stderr)
	assert.Contains(t, out, "Sweep: 4 loads of --max-concurrency (vllm bench sweep serve_workload), 12 requests a point\n")
	_, rows := tableRows(t, out, "rate")
	require.GreaterOrEqual(t, len(rows), 2)
	assert.LessOrEqual(t, len(rows), 4)
	assert.Equal(t, []string{"inf", "1", "12"}, rows[0][:3], "the serial point")
	assert.Equal(t, []string{"inf", "12", "12"}, rows[len(rows)-1][:3], "the batch point")
	assert.Contains(t, stderr, "sweep: point 1/at most 4: --request-rate inf --max-concurrency 1 (12 requests)\n")
	assert.Contains(t, stderr, "sweep: point 2/at most 4: --request-rate inf --max-concurrency 12 (12 requests)\n")
	assert.Regexp(t, `sweep: serial inference: max-concurrency=\d+\n`, stderr)
	assert.Regexp(t, `sweep: batch inference: max-concurrency=\d+\n`, stderr)
	assert.Regexp(t, `sweep: \d points between: max-concurrency=[\d,]*\n`, stderr)
}

func TestSweepBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "sweep: give --request-rate or --max-concurrency a list of loads (e.g. --max-concurrency 1,4,16,64), or --workload-points N"},
		{[]string{"--request-rate", "4"}, "sweep: give --request-rate or --max-concurrency a list"},
		{[]string{"--request-rate", "1,2", "--max-concurrency", "4", "8"}, "flags --request-rate 1,2 and --max-concurrency 4,8 are both lists: a sweep varies one of them"},
		{[]string{"--request-rate", "1,0"}, `flag --request-rate: want a rate > 0 or inf, got 0`},
		{[]string{"--request-rate", "1,,2"}, `flag --request-rate: invalid float value ""`},
		{[]string{"--request-rate", "2,inf,2"}, "flag --request-rate 2,inf,2 lists 2 twice"},
		{[]string{"--max-concurrency", "1,x"}, `flag --max-concurrency: invalid int value "x"`},
		{[]string{"--max-concurrency", "0,4"}, "flag --max-concurrency must be >= 1 in a list, got 0"},
		{[]string{"--max-concurrency", "4,4"}, "flag --max-concurrency 4,4 lists 4 twice"},
		{[]string{"--workload-points", "1"}, "flag --workload-points must be >= 2 (the serial and the batch point), got 1"},
		{[]string{"--workload-points", "5", "--max-concurrency", "1,2"}, "flag --workload-points picks the loads itself: drop the list --max-concurrency 1,2"},
		{[]string{"--workload-points", "5", "--workload-var", "tokens"}, `flag --workload-var: unknown load "tokens" (want request-rate or max-concurrency)`},
		{[]string{"--workload-points", "5", "--request-rate", "4"}, "flag --request-rate: --workload-points varies the request rate itself; remove --request-rate"},
		{[]string{"--workload-iters", "5", "--workload-var", "max-concurrency", "--max-concurrency", "4"}, "flag --max-concurrency: --workload-points varies the max concurrency itself"},
		{[]string{"--max-concurrency", "1,2", "--workload-var", "max-concurrency"}, "flag --workload-var max-concurrency needs --workload-points N"},
		{[]string{"--max-concurrency", "1,2", "--save-result", "--result-dir", "/proc/version"}, `flag --result-dir: "/proc/version" is not a directory`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// A server that is never reached: the error comes first.
			args := append([]string{"sweep", "--base-url", "http://127.0.0.1:9", "--model", "m"}, tt.args...)
			_, _, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var u usageError
			assert.True(t, errors.As(err, &u), "a usage error (exit status 2): %v", err)
		})
	}
}

// TestSweepInterruptKeepsFinished: a SIGINT during the second point keeps
// the first: the table has its row and the partial row of the point cut
// short, its result file and the summary are saved, and the exit status
// is 130.
func TestSweepInterruptKeepsFinished(t *testing.T) {
	// Point 1 (4 in flight): 20 requests of 10 steps of 10ms on 4 slots,
	// 0.5 s; point 2 (1 in flight) 2 s.
	srv := servingtest.NewServer(servingtest.FixedService(4, 10*time.Millisecond))
	defer srv.Close()
	dir := t.TempDir()
	p := startCLI(t, "sweep", "--base-url", srv.URL, "--model", srv.Model().Name, "--dataset-name", "random",
		"--num-prompts", "20", "--random-input-len", "8", "--random-output-len", "10", "--ignore-eos",
		"--max-concurrency", "4,1", "--save-result", "--result-dir", dir, "--disable-tqdm")
	if !p.stderr.waitFor("sweep: point 2/2:", startupTimeout) {
		t.Fatalf("the second point did not start within %v\nstdout:\n%s\nstderr:\n%s", startupTimeout, p.stdout.String(), p.stderr.String())
	}
	waitInFlight(t, p, srv)
	sent := time.Now()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code, took := p.waitExit(t, sent)
	stdout, stderr := p.stdout.String(), p.stderr.String()
	t.Logf("exit status %d, %v after SIGINT\nstdout:\n%s\nstderr:\n%s", code, took, stdout, stderr)
	assert.Equal(t, 130, code, "exit status")

	_, rows := tableRows(t, stdout, "rate")
	require.Len(t, rows, 2, "the finished point and the one cut short")
	assert.Equal(t, []string{"inf", "4", "20"}, rows[0][:3])
	assert.Equal(t, "(partial)", rows[1][len(rows[1])-1], "the point cut short")
	assert.Contains(t, stderr, "servingbench: sweep interrupted: 1 of 2 points finished")

	saved := regexp.MustCompile(`(?m)^Result saved to (.+)$`).FindAllStringSubmatch(stdout, -1)
	require.Len(t, saved, 1, "the finished point's file only")
	assert.Regexp(t, `-infqps-concurrency4-`, saved[0][1])
	m := regexp.MustCompile(`(?m)^Summary saved to (\S+) and (\S+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no summary saved")
	var summary struct {
		Points      []map[string]any `json:"points"`
		Interrupted *struct {
			MaxConcurrency int `json:"max_concurrency"`
			Metrics        struct {
				Partial bool `json:"partial"`
			} `json:"metrics"`
		} `json:"interrupted"`
	}
	data, err := os.ReadFile(m[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &summary))
	assert.Len(t, summary.Points, 1)
	require.NotNil(t, summary.Interrupted, "the point cut short")
	assert.Equal(t, 1, summary.Interrupted.MaxConcurrency)
	assert.True(t, summary.Interrupted.Metrics.Partial)
}
