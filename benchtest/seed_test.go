package benchtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

var words = benchtest.WithTokenizer(servingtest.WordTokenizer{}, "words")

// seeded is tiny with a seed of its own, so that seed k of a run is
// told apart from run numbers.
func seeded() scenarios.Scenario {
	sc := tiny()
	sc.Seed = 40
	return sc
}

// promptsOf returns the prompts scenario sc makes with seed, as Run
// would, in order.
func promptsOf(t *testing.T, sc scenarios.Scenario, seed uint64) []string {
	t.Helper()
	sc.Seed = seed
	reqs, _, err := sc.Prepare(context.Background(), servingtest.WordTokenizer{})
	require.NoError(t, err)
	prompts := make([]string, len(reqs))
	for i, r := range reqs {
		prompts[i] = r.Prompt
	}
	return prompts
}

// runsOf splits the prompts a server received, in order of arrival, into
// runs of n requests, each as a set (the requests of a run are sent at
// once, so they arrive in any order).
func runsOf(srv *servingtest.Server, n int) [][]string {
	var runs [][]string
	for i, r := range srv.Truth() {
		if i%n == 0 {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], r.Prompt)
	}
	return runs
}

// TestRunDrawsFreshPrompts runs the benchmark under -benchtime=3x and then
// again under 2x, as -count=2 would: its five runs send the prompts of
// seeds 40 to 44, seen by the server, and the report names the last seed.
func TestRunDrawsFreshPrompts(t *testing.T) {
	benchtest.ResetRuns()
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	target := benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"})
	var reps []*servingbench.Report
	for _, benchtime := range []string{"3x", "2x"} {
		res := benchmark(t, benchtime, func(b *testing.B) { reps = append(reps, benchtest.Run(b, seeded(), target, words)) })
		require.NotZero(t, res.N, "the benchmark failed")
	}
	runs := runsOf(srv, 8)
	require.Len(t, runs, 5, "runs the server saw")
	for k, got := range runs {
		assert.ElementsMatch(t, promptsOf(t, seeded(), 40+uint64(k)), got, "prompts of run %d, want seed %d's", k, 40+k)
	}
	assert.NotEqual(t, promptsOf(t, seeded(), 40), promptsOf(t, seeded(), 41), "seeds 40 and 41 give the same prompts: the test proves nothing")
	require.Len(t, reps, 2)
	assert.Equal(t, "42", reps[0].Metadata["seed"], "seed of the first call's last run")
	assert.Equal(t, "44", reps[1].Metadata["seed"], "seed of the second call's last run")
	assert.Equal(t, seeded().String(), reps[1].Metadata["scenario"], "the scenario is named as given, its seed apart")
}

// TestRunSamePromptsAcrossProcesses: two processes (here: the run count
// reset between them) with the same -benchtime send two servers (an F16
// and a Q8_0 build) the same prompt sets, run by run.
func TestRunSamePromptsAcrossProcesses(t *testing.T) {
	var runs [2][][]string
	for i := range runs {
		benchtest.ResetRuns()
		srv := servingtest.NewServer(servingtest.Model{Name: "m"})
		res := benchmark(t, "3x", func(b *testing.B) {
			benchtest.Run(b, seeded(), benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"}), words)
		})
		require.NotZero(t, res.N)
		runs[i] = runsOf(srv, 8)
		srv.Close()
	}
	require.Len(t, runs[0], 3)
	require.Len(t, runs[1], 3)
	for k := range runs[0] {
		assert.ElementsMatch(t, runs[0][k], runs[1][k], "prompts of run %d in the two processes", k)
	}
}

func TestRunPinnedSeed(t *testing.T) {
	benchtest.ResetRuns()
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	var rep *servingbench.Report
	res := benchmark(t, "3x", func(b *testing.B) {
		rep = benchtest.Run(b, seeded(), benchtest.WithTarget(benchtest.Target{BaseURL: srv.URL, Model: "m"}), words, benchtest.WithPinnedSeed())
	})
	require.NotZero(t, res.N)
	runs := runsOf(srv, 8)
	require.Len(t, runs, 3)
	for k, got := range runs {
		assert.ElementsMatch(t, promptsOf(t, seeded(), 40), got, "prompts of run %d with WithPinnedSeed", k)
	}
	assert.Equal(t, "40", rep.Metadata["seed"])
}
