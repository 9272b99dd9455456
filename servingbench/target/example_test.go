package target_test

import (
	"context"
	"fmt"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/target"
)

// ExampleOpen benchmarks the embedded simulated server (the zero-cost
// profile) as the CLI does without --base-url.
func ExampleOpen() {
	tg, err := target.Open(target.Spec{Sim: "zero", SimSpeed: 1000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tg.Close()
	fmt.Println(tg.Spec.Model, tg.Spec.SimSpeed, tg.Tokenizer.ID, tg.Tokenizer.IsDefault())

	sc := scenarios.Scenario{Dataset: scenarios.Random{InputLen: 32, OutputLen: 8}, NumPrompts: 10, Seed: 1, IgnoreEOS: true}
	tok := tg.Tokenizer.Tokenizer
	reqs, arrival, err := sc.Prepare(context.Background(), tok)
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := tg.NewClient(sc, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, Arrival: arrival,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Completed, rep.Failed, rep.TotalOutputTokens)
	// Output:
	// sim-zero-cost 1000 builtin:qwen3 true
	// 10 0 80
}
