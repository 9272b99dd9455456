package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// shardStep is the engine step of the shard test's server:
// servingtest.FixedService with no bound on running sequences, so that a
// request's latencies depend only on its own output length and the phase
// of its arrival within a step, never on the other requests: TTFT in
// (step, 2*step], and each further token one step.
const shardStep = 10 * time.Millisecond

// TestShardedProcesses runs one seeded schedule of 24 requests as 1, 2 and
// 4 servingbench processes (--shard K/N, each its own client, with one
// --start-at 4 s ahead) against one simulated server on 127.0.0.1, merges
// each group's --save-detailed files with servingbench merge, and checks
// the merged result against single-process runs of the same flags: the
// same requests (indices 0..23), the same prompts (the scenario_id
// fingerprint of the whole schedule and every request's input length), the
// same token totals. The latency statistics must lie within the run-to-run
// noise of three single runs: the merged P50 TTFT and P50 TPOT within the
// singles' min..max widened on each side by their spread (max - min), or
// by one engine step when the spread is smaller, since the phase of an
// arrival within a step (which no client controls) moves a TTFT by up to
// a step.
func TestShardedProcesses(t *testing.T) {
	bin := servingbenchBinary(t) // built once
	srv := servingtest.NewServer(servingtest.FixedService(0, shardStep))
	defer srv.Close()
	flags := []string{"--base-url", srv.URL, "--model", srv.Model().Name, "--dataset-name", "random",
		"--random-input-len", "16", "--random-output-len", "8", "--ignore-eos", "--num-prompts", "24",
		"--request-rate", "40", "--seed", "3", "--disable-tqdm", "--save-result", "--save-detailed"}

	// run starts every shard of one group at once and returns its
	// result files, read back.
	run := func(n int, startAt string) ([]*servingbench.Report, []string) {
		dir := t.TempDir()
		type proc struct {
			cmd            *exec.Cmd
			stdout, stderr bytes.Buffer
		}
		procs := make([]*proc, n)
		for k := range n {
			args := append(slices.Clone(flags), "--result-dir", dir, "--shard", fmt.Sprintf("%d/%d", k, n))
			if startAt != "" {
				args = append(args, "--start-at", startAt)
			}
			p := &proc{cmd: exec.Command(bin, args...)}
			p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
			require.NoError(t, p.cmd.Start())
			procs[k] = p
		}
		for k, p := range procs {
			require.NoError(t, p.cmd.Wait(), "shard %d/%d\nstdout:\n%s\nstderr:\n%s", k, n, p.stdout.String(), p.stderr.String())
			if strings.Contains(p.stderr.String(), "after its start-at time") {
				t.Logf("shard %d/%d was late for --start-at (its latencies include it): %s", k, n, p.stderr.String())
			}
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		require.NoError(t, err)
		require.Len(t, files, n, "result files of %d shards (named -shardKofN apart)", n)
		var reps []*servingbench.Report
		for _, f := range files {
			if n > 1 {
				assert.Regexp(t, `-shard[0-9]of`+strconv.Itoa(n)+`\.json$`, f)
			}
			reps = append(reps, readResult(t, f))
		}
		return reps, files
	}

	var singles []*servingbench.Report
	for range 3 {
		reps, _ := run(1, "")
		singles = append(singles, reps[0])
	}
	ref := singles[0]
	// P50 is the median the result file keeps (median_*_ms).
	p50 := func(s servingbench.Summary) time.Duration { return s.Median }
	band := func(get func(*servingbench.Report) time.Duration) (lo, hi time.Duration) {
		lo, hi = get(singles[0]), get(singles[0])
		for _, s := range singles[1:] {
			lo, hi = min(lo, get(s)), max(hi, get(s))
		}
		w := max(hi-lo, shardStep)
		return lo - w, hi + w
	}
	ttft := func(r *servingbench.Report) time.Duration { return p50(r.TTFT) }
	tpot := func(r *servingbench.Report) time.Duration { return p50(r.TPOT) }
	for _, s := range singles {
		require.Greater(t, ttft(s), shardStep, "a TTFT on FixedService is more than one step")
		require.Positive(t, tpot(s))
	}
	ttftLo, ttftHi := band(ttft)
	tpotLo, tpotHi := band(tpot)
	t.Logf("single runs' P50 TTFT %v, %v, %v; P50 TPOT %v, %v, %v", ttft(singles[0]), ttft(singles[1]), ttft(singles[2]), tpot(singles[0]), tpot(singles[1]), tpot(singles[2]))

	for _, n := range []int{1, 2, 4} {
		startAt := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
		shards, files := run(n, startAt)
		for _, s := range shards {
			require.NotNil(t, s.Shard)
			assert.Equal(t, ref.Shard.Scenario, s.Shard.Scenario, "shard %v's schedule fingerprint", s.Shard.Shard)
			assert.Equal(t, int64(3), s.Shard.Seed)
			assert.Equal(t, startAt, s.Shard.StartAt.Format(time.RFC3339Nano))
		}
		out := filepath.Join(t.TempDir(), "merged.json")
		cmd := exec.Command(bin, append([]string{"merge", "-o", out}, files...)...)
		stdout, err := cmd.Output()
		require.NoError(t, err, "merge of %d shards: %s", n, stdout)
		assert.Contains(t, string(stdout), "Successful requests:                     24")
		assert.Contains(t, string(stdout), "Merged result saved to "+out)
		m := readResult(t, out)

		var idx, inLens, wantIn []int
		for i, r := range m.Results {
			idx = append(idx, r.Index)
			inLens = append(inLens, r.InputTokens)
			wantIn = append(wantIn, ref.Results[i].InputTokens)
		}
		assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, idx, "N=%d: merged requests", n)
		assert.Equal(t, wantIn, inLens, "N=%d: per-request input lengths", n)
		assert.Equal(t, []int{24, 0, 24}, []int{m.Completed, m.Failed, m.NumPrompts}, "N=%d: completed, failed, prompts", n)
		assert.Equal(t, []int{ref.TotalInputTokens, ref.TotalOutputTokens}, []int{m.TotalInputTokens, m.TotalOutputTokens}, "N=%d: token totals", n)
		assert.Equal(t, 24*8, m.TotalOutputTokens, "N=%d: --ignore-eos output", n)
		assert.True(t, ttft(m) >= ttftLo && ttft(m) <= ttftHi, "N=%d: merged P50 TTFT %v outside the singles' noise band [%v, %v]", n, ttft(m), ttftLo, ttftHi)
		assert.True(t, tpot(m) >= tpotLo && tpot(m) <= tpotHi, "N=%d: merged P50 TPOT %v outside the singles' noise band [%v, %v]", n, tpot(m), tpotLo, tpotHi)
		t.Logf("N=%d: merged P50 TTFT %v, P50 TPOT %v, duration %v", n, ttft(m), tpot(m), m.Duration)
	}
}

func readResult(t *testing.T, path string) *servingbench.Report {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := servingbench.ReadJSON(f)
	require.NoError(t, err, path)
	return r
}

// TestShardFlagErrors: --shard and --start-at name themselves in their
// errors, and are refused in sweep and with conversations; merge names a
// file without the per-request arrays and a missing shard.
func TestShardFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "2/2"}, "flag --shard: shard index must be in [0, count) and count >= 1, got index 2 of count 2"},
		{[]string{"--shard", "1"}, `flag --shard: want K/N (shard K of N, K from 0 to N-1), got "1"`},
		{[]string{"--start-at", "07:00"}, `flag --start-at must be an RFC 3339 time such as 2026-12-02T07:00:00Z, got "07:00"`},
		{[]string{"sweep", "--workload-points", "3", "--shard", "0/2"}, "flag --shard is for the benchmark command, not servingbench sweep"},
		{[]string{"--dataset-name", "conversation", "--dataset-path", "x.json", "--start-at", "2026-12-02T07:00:00Z"}, "flag --start-at applies to runs of requests; conversations cannot be sharded yet"},
		{[]string{"merge"}, "merge: want the shards' result files"},
		{[]string{"merge", "-o", filepath.Join(t.TempDir(), "m.json"), "../../servingbench/testdata/shards/shard0.json"}, "shard 1/2 of 2 missing"},
	} {
		_, _, err := runCLI(t, tc.args...)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		}
	}
	summary := filepath.Join(t.TempDir(), "summary.json")
	data, err := os.ReadFile("../../servingbench/testdata/shards/shard0.json")
	require.NoError(t, err)
	r, err := servingbench.ReadJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, servingbench.WriteJSONFile(summary, r, servingbench.JSONOptions{}))
	_, _, err = runCLI(t, "merge", summary)
	require.Error(t, err)
	assert.Equal(t, "merge: "+summary+" has no per-request arrays: it was not saved with --save-detailed", err.Error())
}
