package scenarios_test

import (
	"context"
	"fmt"

	"github.com/servingbench/servingbench/scenarios"
)

// byteTok is a toy tokenizer for the examples: every byte is one token.
// Use the HuggingFace tokenizer of the model under test in real runs.
type byteTok struct{}

func (byteTok) Encode(s string) []int {
	ids := make([]int, len(s))
	for i := range len(s) {
		ids[i] = int(s[i])
	}
	return ids
}

func (byteTok) Decode(ids []int) string {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return string(b)
}

func (byteTok) VocabSize() int { return 256 }

func ExampleSeedRandom256() {
	s := scenarios.SeedRandom256()
	reqs, arrival, err := s.Prepare(context.Background(), byteTok{})
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	fmt.Println(len(reqs), "requests of", reqs[0].PromptTokens, "prompt tokens asking for", reqs[0].MaxTokens)
	fmt.Println(arrival)
	// Output:
	// scenario=seed-random256/dataset=random/in=256/out=128/n=640/rate=inf/warmup=true
	// 640 requests of 256 prompt tokens asking for 128
	// rate=inf
}

func ExampleRateSweep() {
	for _, s := range scenarios.RateSweep(scenarios.SeedRandom256(), 4, 16) {
		fmt.Println(s)
	}
	// Output:
	// scenario=seed-random256/dataset=random/in=256/out=128/n=640/rate=4/warmup=true
	// scenario=seed-random256/dataset=random/in=256/out=128/n=640/rate=16/warmup=true
}

func ExampleRandom() {
	d := scenarios.Random{InputLen: 100, OutputLen: 20, RangeRatio: 0.1, PrefixLen: 8}
	reqs, err := d.Requests(context.Background(), byteTok{}, 3, 42)
	if err != nil {
		panic(err)
	}
	for _, r := range reqs {
		ok := r.PromptTokens >= 8+90 && r.PromptTokens <= 8+110 && r.MaxTokens >= 18 && r.MaxTokens <= 22
		fmt.Println(ok, r.Prompt[:8] == reqs[0].Prompt[:8])
	}
	// Output:
	// true true
	// true true
	// true true
}

func ExampleScenario_Prepare() {
	s := scenarios.Scenario{
		Dataset:    scenarios.BurstGPT{Path: "testdata/datasets/burstgpt.csv", LogType: "Conversation log"},
		NumPrompts: 4,
	}
	reqs, arrival, err := s.Prepare(context.Background(), byteTok{})
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	for i, off := range arrival.Offsets(len(reqs)) {
		fmt.Println(off, reqs[i].PromptTokens, reqs[i].MaxTokens)
	}
	// Output:
	// dataset=burstgpt/file=burstgpt.csv/model=GPT-4/log=Conversation log/n=4/rate=trace
	// 0s 120 40
	// 5s 18 7
	// 12s 400 25
	// 34s 90 45
}

func ExampleScale() {
	// A tenth of the seed's benchmark, for a slow server.
	fmt.Println(scenarios.SeedRandom256(scenarios.WithNumPrompts(64)))

	s, err := scenarios.PrefixCaching().Scaled(scenarios.Scale{NumPrompts: 50, InputLen: 128, OutputLen: 32})
	fmt.Println(s, err)

	_, err = scenarios.ShareGPTChat("ShareGPT.json").Scaled(scenarios.Scale{InputLen: 128})
	fmt.Println(err)

	// A catalog function keeps the error of an option it cannot take.
	_, _, err = scenarios.PrefixCaching(scenarios.WithNumPrompts(5)).Prepare(context.Background(), byteTok{})
	fmt.Println(err)
	// Output:
	// scenario=seed-random256/dataset=random/in=256/out=128/n=64/rate=inf/warmup=true
	// scenario=prefix-caching/dataset=prefix-repetition/prefix=64/suffix=64/prefixes=10/out=32/n=50/rate=inf <nil>
	// scenarios: Scale.InputLen: dataset sharegpt has no input length (its prompts are the conversations' first turns)
	// scenarios: PrefixCaching options: Scale.NumPrompts: dataset prefix-repetition needs at least its 10 prefixes (NumPrefixes), got 5
}
