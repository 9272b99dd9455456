package benchtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// A benchmark of the seed scenario against the environment's target (the
// simulated server unless SERVINGBENCH_BASE_URL is set), run with
//
//	go test -run '^$' -bench Seed -benchtime=1x -count=6 -timeout 0 > new.txt
//
// It reports ttft-p99-ns, tpot-mean-ns, req/s, out-tok/s... and keeps its
// result line when the SLA is not met (SLAReport: the number of
// violations becomes the sla-violations metric).
func ExampleRun() {
	benchmarkSeed := func(b *testing.B) {
		sla := servingbench.MustParseSLA("ttft.p99<=2s tpot.mean<=80ms failed<=0")
		rep := benchtest.Run(b, scenarios.SeedRandom256(),
			benchtest.WithGoodput(servingbench.SLO{TTFT: 2e9, TPOT: 80e6}),
			benchtest.WithSLA(sla, benchtest.SLAReport))
		if rep.Completed < rep.NumPrompts/2 {
			b.Errorf("only %d of %d requests completed", rep.Completed, rep.NumPrompts)
		}
	}
	_ = benchmarkSeed // func BenchmarkSeed(b *testing.B) { ... } in a _test.go file
}

// Sub-benchmark names of sweeps: the key=value pairs in which the
// scenarios differ.
func ExampleSweepNames() {
	fmt.Println(benchtest.SweepNames(scenarios.RateSweep(scenarios.Chat(), 1, 4, 16)))
	fmt.Println(benchtest.SweepNames(scenarios.ConcurrencySweep(scenarios.SeedRandom256(), 0, 64, 256)))
	// Output:
	// [rate=1 rate=4 rate=16]
	// [concurrency=none concurrency=64 concurrency=256]
}

// The target of benchmarks comes from the environment; the API key is
// sent but never printed.
func ExampleTargetFromEnv() {
	env := map[string]string{
		"SERVINGBENCH_BASE_URL": "http://10.0.0.5:8000",
		"SERVINGBENCH_MODEL":    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
		"OPENAI_API_KEY":        "sk-not-printed",
	}
	t := benchtest.TargetFromEnv(func(k string) string { return env[k] })
	fmt.Println(t, t.Simulated())

	// Nothing set: the embedded simulated server.
	t = benchtest.TargetFromEnv(func(string) string { return "" })
	fmt.Println(t, t.Simulated())

	// SERVINGBENCH_SIM picks the simulated build.
	t = benchtest.TargetFromEnv(func(k string) string {
		return map[string]string{"SERVINGBENCH_SIM": "w8a8", "SERVINGBENCH_SIM_SPEED": "10"}[k]
	})
	fmt.Println(t)
	// Output:
	// deepseek-ai/DeepSeek-R1-Distill-Qwen-7B (openai) at http://10.0.0.5:8000 false
	// simulated fp16 at 10x speed true
	// simulated w8a8 at 10x speed
}

// An SLA checked against the report of a run on the simulated server:
// the limits met pass, the impossible throughput is the one violation.
func ExampleAssertSLA() {
	srv := servingtest.NewServer(servingtest.ZeroCost())
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "sim-zero-cost"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	sc := scenarios.Scenario{Dataset: scenarios.Random{InputLen: 32, OutputLen: 16}, NumPrompts: 20}
	cfg, err := sc.Config(context.Background(), servingtest.WordTokenizer{})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Client = client
	rep, err := servingbench.Run(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}

	sla, err := servingbench.ParseSLA("ttft.p99<=10s, e2el.mean<=30s, failed<=0, throughput>=1e9")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range sla.Violations(rep) {
		fmt.Println("violated:", v.Limit)
	}
	// In a test: benchtest.AssertSLA(t, rep, sla) fails t with every
	// violation and its measured value; RequireSLA stops the test.
	fmt.Println("met:", benchtest.AssertSLA(discard{}, rep, sla))

	_, err = servingbench.ParseSLA("ttft.p99<=fast")
	fmt.Println(err)
	// Output:
	// violated: throughput>=1e+09
	// met: false
	// servingbench: SLA limit "ttft.p99<=fast": value "fast" is not a duration >= 0 such as 500ms or 1.5s
}

// discard is an assert.TestingT that drops failures.
type discard struct{}

func (discard) Errorf(string, ...any) {}

// The scale variables resize every scenario Run runs, here the seed
// document's for a CPU server; a bad value is an error naming the
// variable.
func ExampleScaleFromEnv() {
	env := map[string]string{"SERVINGBENCH_NUM_PROMPTS": "16", "SERVINGBENCH_INPUT_LEN": "64", "SERVINGBENCH_OUTPUT_LEN": "32"}
	scale, err := benchtest.ScaleFromEnv(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, err := scenarios.SeedRandom256().Scaled(scale)
	fmt.Println(sc, err)

	_, err = benchtest.ScaleFromEnv(func(k string) string {
		return map[string]string{"SERVINGBENCH_OUTPUT_LEN": "32 tokens"}[k]
	})
	fmt.Println(err)
	// Output:
	// scenario=seed-random256/dataset=random/in=64/out=32/n=16/rate=inf/warmup=true <nil>
	// benchtest: SERVINGBENCH_OUTPUT_LEN="32 tokens": want a whole number >= 1 (unset keeps each scenario's)
}
