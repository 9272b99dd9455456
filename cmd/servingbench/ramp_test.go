package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// TestRampRun: a ramp-up run prints vllm bench serve's two ramp lines in
// place of "Traffic request rate:", and saves the ramp's keys and its
// rps_change_events (the schedule's offsets from the run's start) in a
// file named by vLLM's ramp-up rule.
func TestRampRun(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runCLI(t, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "30", "--sim-profile", "zero",
		"--sim-speed", "1000", "--seed", "5", "--burstiness", "2", "--max-concurrency", "8", "--disable-tqdm",
		"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "20", "--ramp-up-end-rps", "80",
		"--save-result", "--result-dir", dir)
	require.NoError(t, err)
	assert.Contains(t, out, "Initial test run completed. Starting main benchmark run...\n"+
		"Traffic ramp-up strategy: linear.\n"+
		"Will increase RPS from 20 to 80 RPS over the duration of the benchmark.\n"+
		"Burstiness factor: 2.0 (Gamma distribution)\n"+
		"Maximum request concurrency: 8\n")
	assert.NotContains(t, out, "Traffic request rate:")
	assert.Regexp(t, `(?m)^Ramp-up strategy:\s+linear\s*$`, out)
	assert.Regexp(t, `(?m)^Ramp-up RPS:\s+20 to 80\s*$`, out)

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Regexp(t, `^vllm-ramp-up-linear-20qps-80qps-concurrency8-m-\d{8}-\d{6}\.json$`, filepath.Base(files[0]))
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Contains(t, string(data), `"request_rate": "inf", "burstiness": 2.0, "max_concurrency": 8, "ramp_up_strategy": "linear", "ramp_up_start_rps": 20, "ramp_up_end_rps": 80, "duration": `)
	rep, err := servingbench.ReadJSON(strings.NewReader(string(data)))
	require.NoError(t, err)

	ramp := servingbench.Ramp{Strategy: servingbench.RampLinear, Start: 20, End: 80, Burstiness: 2, Seed: 5}
	want := ramp.RPSChanges(30)
	require.Len(t, rep.RPSChanges, len(want), "rps_change_events: one a whole rate from 20 to 80")
	for i, e := range rep.RPSChanges {
		assert.Equal(t, want[i].RPS, e.RPS, "event %d", i)
		// Stamped to the microsecond, at the start plus the offset.
		got := e.Time.Sub(rep.RPSChanges[0].Time)
		assert.InDelta(t, float64(want[i].Offset), float64(got), float64(time.Microsecond), "event %d at +%v, want +%v", i, got, want[i].Offset)
	}
}

// TestRampBadFlags: the ramp-up flags are checked as vllm bench serve's
// main_async checks them, before anything starts, each error naming the
// flag and its value.
func TestRampBadFlags(t *testing.T) {
	ramp := func(extra ...string) []string {
		return append([]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8"}, extra...)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--ramp-up-strategy", "cubic", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8"}, `flag --ramp-up-strategy: invalid choice "cubic" (want linear or exponential)`},
		{[]string{"--ramp-up-strategy", "linear"}, "flags --ramp-up-start-rps and --ramp-up-end-rps are both required with --ramp-up-strategy"},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "1"}, "flags --ramp-up-start-rps and --ramp-up-end-rps are both required"},
		{[]string{"--ramp-up-start-rps", "1", "--ramp-up-end-rps", "8"}, "flag --ramp-up-start-rps needs --ramp-up-strategy linear or exponential"},
		{[]string{"--ramp-up-end-rps", "8"}, "flag --ramp-up-end-rps needs --ramp-up-strategy"},
		{ramp("--request-rate", "4"), `flag --request-rate 4: with --ramp-up-strategy the ramp sets the request rate; remove --request-rate (vLLM: "When using ramp-up, do not specify --request-rate.")`},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "8", "--ramp-up-end-rps", "2"}, "flag --ramp-up-start-rps 8 must be <= --ramp-up-end-rps 2"},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "-1", "--ramp-up-end-rps", "2"}, `flag --ramp-up-start-rps must be >= 0 (vLLM: "Ramp-up start and end RPS must be non-negative"), got -1`},
		{[]string{"--ramp-up-strategy", "exponential", "--ramp-up-start-rps", "0", "--ramp-up-end-rps", "8"}, `flag --ramp-up-start-rps must be > 0 for --ramp-up-strategy exponential, got 0 (vLLM: "For exponential ramp-up, the start RPS cannot be 0.")`},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "0", "--ramp-up-end-rps", "8"}, `its get_request asserts "Obtained non-positive request rate 0.0."`},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "inf"}, "flag --ramp-up-end-rps must be a number of requests per second, got +Inf"},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "1", "--ramp-up-end-rps", "2e9"}, "flag --ramp-up-end-rps must be <= 1e+09 requests per second, got 2e+09"},
		{[]string{"--ramp-up-strategy", "linear", "--ramp-up-start-rps", "x"}, `flag --ramp-up-start-rps: invalid float value "x"`},
		{append([]string{"sweep", "--max-concurrency", "1,2"}, ramp()...), "flag --ramp-up-strategy: servingbench sweep sets the load of each run itself"},
		{append([]string{"capacity", "--sla", "failed<=0"}, ramp()...), "flag --ramp-up-strategy: servingbench capacity sets the load of each run itself"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// A server that is never reached: the error comes first.
			_, _, err := runCLI(t, append(tt.args, "--base-url", "http://127.0.0.1:9", "--model", "m")...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var u usageError
			assert.True(t, errors.As(err, &u), "a usage error (exit status 2): %v", err)
		})
	}
}

// TestRampRequestRateInf: --request-rate inf, vLLM's default, may be given
// with a ramp-up, as vLLM checks the value, not the flag.
func TestRampRequestRateInf(t *testing.T) {
	o, err := parseOptions([]string{"--request-rate", "inf", "--ramp-up-strategy", "exponential", "--ramp-up-start-rps", "0.5", "--ramp-up-end-rps", "8", "--seed", "3"})
	require.NoError(t, err)
	require.NotNil(t, o.ramp)
	assert.Equal(t, servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 0.5, End: 8, Burstiness: 1, Seed: 3}, *o.ramp)
	var b strings.Builder
	printLoad(&b, o)
	assert.Equal(t, "Traffic ramp-up strategy: exponential.\n"+
		"Will increase RPS from 0.5 to 8 RPS over the duration of the benchmark.\n"+
		"Burstiness factor: 1.0 (Poisson process)\n"+
		"Maximum request concurrency: None\n", b.String())
}
