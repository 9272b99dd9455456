package servingbench_test

import (
	"context"
	"fmt"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// Benchmark a server's TGI-native /generate_stream, here the simulated
// server's: the counts come from the last event's details.
func ExampleNewTGI() {
	srv := servingtest.NewServer(servingtest.Model{Name: "demo"})
	defer srv.Close()

	client, err := servingbench.NewTGI(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "demo"})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client:   client,
		Requests: []servingbench.Request{{Prompt: "one two three", MaxTokens: 16}, {Prompt: "four five", MaxTokens: 8}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("completed:", rep.Completed, "failed:", rep.Failed)
	fmt.Println("input tokens:", rep.TotalInputTokens, "output tokens:", rep.TotalOutputTokens)
	fmt.Println("counts from:", rep.Results[0].InputSource, rep.Results[0].OutputSource)
	fmt.Println("endpoint:", srv.Truth()[0].Endpoint)
	// Output:
	// completed: 2 failed: 0
	// input tokens: 5 output tokens: 24
	// counts from: usage usage
	// endpoint: /generate_stream
}

// Benchmark llama.cpp's native /completion, here the simulated server's:
// the counts come from the "stop": true object.
func ExampleNewLlamaCppNative() {
	srv := servingtest.NewServer(servingtest.Model{Name: "demo"})
	defer srv.Close()

	client, err := servingbench.NewLlamaCppNative(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "demo", IgnoreEOS: true})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client:   client,
		Requests: []servingbench.Request{{Prompt: "one two three", MaxTokens: 16}, {Prompt: "four five", MaxTokens: 8}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("completed:", rep.Completed, "failed:", rep.Failed)
	fmt.Println("input tokens:", rep.TotalInputTokens, "output tokens:", rep.TotalOutputTokens)
	fmt.Println("counts from:", rep.Results[0].InputSource, rep.Results[0].OutputSource)
	fmt.Println("endpoint:", srv.Truth()[0].Endpoint)
	// Output:
	// completed: 2 failed: 0
	// input tokens: 5 output tokens: 24
	// counts from: usage usage
	// endpoint: /completion
}
