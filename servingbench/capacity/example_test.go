package capacity_test

import (
	"context"
	"fmt"
	"time"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// ExampleSearch finds the concurrency capacity of a simulated server with
// two slots and 50 steps of 2ms a request: a third concurrent request
// waits 50ms on average for a slot, over the 25ms limit. It takes about 3
// seconds.
func ExampleSearch() {
	srv := servingtest.NewServer(servingtest.FixedService(2, 2*time.Millisecond))
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{
		BaseURL: srv.URL, Model: srv.Model().Name, IgnoreEOS: true,
	})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	reqs := make([]servingbench.Request, 20)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: "Hello", MaxTokens: 50}
	}

	res, err := capacity.Search(context.Background(), capacity.SearchConfig{
		Dimension: capacity.MaxConcurrency,
		SLA:       servingbench.MustParseSLA("ttft.p90<=25ms failed<=0"),
		Start:     2,
		Requests:  20, // a p90 needs 10 (capacity.MinRequests)
		Run:       capacity.ConfigRunner(servingbench.Config{Client: client, Requests: reqs}, nil),
	})
	if err != nil {
		panic(err)
	}
	for _, p := range res.Points {
		fmt.Printf("concurrency %d: pass=%v\n", p.Load.Concurrency, p.Pass)
	}
	fmt.Println("capacity:", res.Capacity, "stop:", res.Stop)
	// Output:
	// concurrency 2: pass=true
	// concurrency 4: pass=false
	// concurrency 3: pass=false
	// capacity: 2 stop: resolved
}
