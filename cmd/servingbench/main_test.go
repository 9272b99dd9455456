package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

const qwen3 = "../../scenarios/tokenizer/testdata/qwen3"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// blockValue reads one "Label:   value" line of the printed block.
func blockValue(t *testing.T, out, label string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, "no %q line in:\n%s", label, out)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// TestHelp: -h and --help print the usage and succeed, as argparse's do,
// for the command and each subcommand.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		out, _, err := runCLI(t, arg)
		require.NoError(t, err, arg)
		assert.Contains(t, out, "usage: servingbench [flags]", arg)
		assert.Contains(t, out, "--no-prewarm", arg)
		assert.Contains(t, out, "  --label VALUE\n", arg)
		out, _, err = runCLI(t, "sweep", arg)
		require.NoError(t, err, "sweep %s", arg)
		assert.Contains(t, out, "usage: servingbench sweep [flags]", "sweep %s", arg)
		assert.Contains(t, out, "  --workload-points VALUE\n", "sweep %s", arg)
		assert.Contains(t, out, "  --max-concurrency VALUE...\n", "sweep %s: a list", arg)
		out, _, err = runCLI(t, "capacity", arg)
		require.NoError(t, err, "capacity %s", arg)
		assert.Contains(t, out, "usage: servingbench capacity --sla SLA", "capacity %s", arg)
		assert.Contains(t, out, "  --min-capacity VALUE\n", "capacity %s", arg)
		for _, sub := range []string{"compare", "tokenize"} {
			_, stderr, err := runCLI(t, sub, arg)
			require.NoError(t, err, "%s %s", sub, arg)
			assert.Contains(t, stderr, "usage: servingbench "+sub, "%s %s", sub, arg)
		}
	}
}

// TestPercentilesZeroAndHundred: vLLM accepts --metric-percentiles 0 and
// 100 (numpy.percentile's range): the minimum and the maximum.
func TestPercentilesZeroAndHundred(t *testing.T) {
	out, _, err := runCLI(t, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "4", "--sim-profile", "zero",
		"--metric-percentiles", "0,100", "--disable-tqdm")
	require.NoError(t, err)
	assert.Contains(t, out, "P0 TTFT (ms):")
	assert.Contains(t, out, "P100 TTFT (ms):")
}

func TestSimulatedRunPrintsBlockAndSavesResult(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runCLI(t, "--backend", "vllm", "--model", "qwen2.5", "--dataset-name", "random",
		"--tokenizer", qwen3, "--random-input-len", "64", "--random-output-len", "16", "--num-prompts", "24",
		"--seed", "3", "--sim-profile", "zero", "--ignore-eos", "--percentile-metrics", "ttft,tpot,itl,e2el",
		"--metric-percentiles", "50,99.9", "--goodput", "ttft:1000", "tpot:500",
		"--save-result", "--save-detailed", "--result-dir", dir, "--metadata", "build=fp16", "run=1", "--trust-remote-code")
	require.NoError(t, err)
	assert.Contains(t, out, "No --base-url or --host: benchmarking the simulated server")
	assert.Contains(t, out, "============ Serving Benchmark Result ============")
	for _, label := range []string{"P50 TTFT (ms):", "P99.9 E2EL (ms):", "Request goodput (req/s):"} {
		assert.Contains(t, out, label)
	}
	assert.Equal(t, 24.0, blockValue(t, out, "Successful requests:"))
	assert.Equal(t, 24.0*16, blockValue(t, out, "Total generated tokens:"))

	// The input total is the sum of the tokenizer's counts of the prompts
	// sent: the same seed gives the same prompts.
	tok, err := tokenizer.Load(qwen3)
	require.NoError(t, err)
	reqs, err := scenarios.Random{InputLen: 64, OutputLen: 16}.Requests(context.Background(), tok, 24, 3)
	require.NoError(t, err)
	sum := 0
	for _, r := range reqs {
		sum += len(tok.Encode(r.Prompt))
	}
	assert.Equal(t, float64(sum), blockValue(t, out, "Total input tokens:"))

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Regexp(t, `^vllm-infqps-qwen2\.5-\d{8}-\d{6}\.json$`, filepath.Base(files[0]))
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	var res map[string]any
	require.NoError(t, json.Unmarshal(data, &res))
	assert.Equal(t, "fp16", res["build"], "metadata is merged at the top level")
	assert.EqualValues(t, 24, res["completed"])
	assert.EqualValues(t, sum, res["total_input_tokens"])
	assert.Len(t, res["ttfts"], 24, "--save-detailed writes per-request arrays")
	assert.Contains(t, res, "p99.9_e2el_ms")
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--num-prompts", "x"}, `flag --num-prompts: invalid int value "x"`},
		{[]string{"--num-prompts"}, "flag --num-prompts needs a value"},
		{[]string{"--num-prompts", "0"}, "flag --num-prompts must be >= 1, got 0"},
		{[]string{"--request-rate", "-1"}, "flag --request-rate must be > 0 or inf"},
		{[]string{"--random-range-ratio", "1.5"}, "flag --random-range-ratio must be in [0, 1)"},
		{[]string{"--backend", "deepspeed-mii"}, `flag --backend: backend "deepspeed-mii" uses that server's native protocol`},
		{[]string{"--backend", "nope"}, `unknown backend "nope"`},
		{[]string{"--backend", "openai-chat", "--endpoint", "/v1/completions"}, "needs a path ending in chat/completions"},
		{[]string{"--percentile-metrics", "ttft,foo"}, `unknown metric "foo"`},
		{[]string{"--metric-percentiles", "99,abc"}, `"abc" is not a percentile`},
		{[]string{"--metric-percentiles", "100.5"}, `"100.5" is not a percentile in [0, 100]`},
		{[]string{"--metric-percentiles", "nan"}, `"nan" is not a percentile in [0, 100]`},
		{[]string{"--burstiness", "nan"}, `flag --burstiness: invalid float value "nan"`},
		{[]string{"--base-url", "foo://", "--model", "m"}, `flag --base-url must be an absolute http or https URL such as http://127.0.0.1:8000, got "foo://"`},
		{[]string{"--base-url", "127.0.0.1:8000", "--model", "m"}, `flag --base-url must be an absolute http or https URL`},
		{[]string{"--goodput", "ttft:abc"}, "flag --goodput"},
		{[]string{"--goodput"}, "flag --goodput needs at least one value"},
		{[]string{"--metadata", "novalue"}, `"novalue" is not KEY=VALUE`},
		{[]string{"--dataset-name", "sharegpt"}, "flag --dataset-path is required for --dataset-name sharegpt"},
		{[]string{"--dataset-name", "imagenet"}, `unknown dataset "imagenet"`},
		{[]string{"--ignore-eos=yes"}, "flag --ignore-eos takes no value"},
		{[]string{"positional"}, `unexpected argument "positional"`},
		{[]string{"--tokenizer", "/nonexistent/tok"}, "flag --tokenizer"},
		{[]string{"--sim-profile", "h100"}, `unknown simulated profile "h100"`},
		{[]string{"--host", "127.0.0.1", "--port", "99999"}, "flag --port must be in 1..65535"},
		{[]string{"--base-url", "http://127.0.0.1:1", "--dataset-name", "random"}, "--model is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAllRequestsFailExitsNonZero(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m", Faults: []servingtest.Fault{{Kind: servingtest.FaultUnavailable, Every: 1}}})
	defer srv.Close()
	args := []string{"--base-url", srv.URL, "--model", "m", "--dataset-name", "random", "--tokenizer", qwen3,
		"--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "5"}

	_, _, err := runCLI(t, args...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "warm-up request failed")
	assert.Contains(t, err.Error(), "503")

	out, _, err := runCLI(t, append(args, "--no-warmup")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "all 5 requests failed: 5 x HTTP 503")
	assert.Contains(t, out, "Serving Benchmark Result", "the block is printed before the error")
}

func TestSubcommands(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"tokenize", "--tokenizer", qwen3}, strings.NewReader("\"hello world\"\n"), &out, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "[14990,1879]\n", out.String())

	dir := t.TempDir()
	line := "BenchmarkServe/model=m 1 0 ns/op 100000000 ttft-p99-ns\n"
	old, cur := filepath.Join(dir, "old.txt"), filepath.Join(dir, "new.txt")
	require.NoError(t, os.WriteFile(old, []byte(strings.Repeat(line, 6)), 0o644))
	require.NoError(t, os.WriteFile(cur, []byte(strings.Repeat(line, 6)), 0o644))
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"compare", old, cur}, nil, &out, &bytes.Buffer{}))
	assert.Contains(t, out.String(), "ttft-p99")
}
