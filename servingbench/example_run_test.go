package servingbench_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// Run a small benchmark against the simulated server: 16 requests of 32
// output tokens, at most 4 in flight.
func ExampleRun() {
	srv := servingtest.NewServer(servingtest.Model{Name: "demo", MaxRunning: 4})
	defer srv.Close()

	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{
		BaseURL: srv.URL, Model: "demo", IgnoreEOS: true,
	})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	reqs := make([]servingbench.Request, 16)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: strings.Repeat("hello ", 10), MaxTokens: 32}
	}
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, MaxConcurrency: 4,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("completed:", rep.Completed, "failed:", rep.Failed)
	fmt.Println("input tokens:", rep.TotalInputTokens, "output tokens:", rep.TotalOutputTokens)
	fmt.Println("output counts from:", rep.Results[0].OutputSource)
	// Output:
	// completed: 16 failed: 0
	// input tokens: 160 output tokens: 512
	// output counts from: usage
}
