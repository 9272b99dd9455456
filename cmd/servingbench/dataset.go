package main

import (
	"fmt"

	"github.com/servingbench/servingbench/scenarios"
)

// dataset builds the --dataset-name dataset from its flags.
func (o *options) dataset() (scenarios.Dataset, error) {
	needPath := func() error {
		if o.datasetPath == "" {
			return usageError{fmt.Errorf("flag --dataset-path is required for --dataset-name %s", o.datasetName)}
		}
		return nil
	}
	switch o.datasetName {
	case "random":
		return scenarios.Random{
			InputLen: o.randomInputLen, OutputLen: o.randomOutputLen,
			RangeRatio: o.randomRangeRatio, PrefixLen: o.randomPrefixLen, ExactLength: o.randomExactLen,
		}, nil
	case "sharegpt":
		return scenarios.ShareGPT{Path: o.datasetPath, OutputLen: o.sharegptOutputLen}, needPath()
	case "sonnet":
		return scenarios.Sonnet{Path: o.datasetPath, InputLen: o.sonnetInputLen, OutputLen: o.sonnetOutputLen, PrefixLen: o.sonnetPrefixLen}, needPath()
	case "custom":
		return scenarios.Custom{Path: o.datasetPath, OutputLen: o.customOutputLen}, needPath()
	case "burstgpt":
		return scenarios.BurstGPT{Path: o.datasetPath}, needPath()
	case "conversation":
		return nil, usageError{fmt.Errorf("flag --dataset-name conversation: a multi-turn benchmark, the benchmark command's only")}
	case "prefix-repetition", "prefix_repetition": // vllm bench serve spells it prefix_repetition
		return scenarios.PrefixRepetition{
			NumPrefixes: o.prefixRepNumPrefixes, PrefixLen: o.prefixRepPrefixLen,
			SuffixLen: o.prefixRepSuffixLen, OutputLen: o.prefixRepOutputLen,
		}, nil
	}
	return nil, usageError{fmt.Errorf("flag --dataset-name: unknown dataset %q (want random, sharegpt, sonnet, custom, prefix-repetition or burstgpt)", o.datasetName)}
}

// scenario is the whole benchmark the flags describe.
func (o *options) scenario() (scenarios.Scenario, error) {
	var ds scenarios.Dataset
	var convs scenarios.ConversationDataset
	var err error
	if o.conversations() {
		convs, err = o.conversationDataset() // conversation.go
	} else {
		ds, err = o.dataset()
	}
	if err != nil {
		return scenarios.Scenario{}, err
	}
	sc := scenarios.Scenario{
		Dataset: ds, Conversations: convs, NumPrompts: o.numPrompts, RequestRate: o.requestRate, Burstiness: o.burstiness,
		MaxConcurrency: o.maxConcurrency, Seed: uint64(o.seed), Warmup: !o.noWarmup,
		IgnoreEOS: o.ignoreEOS, Temperature: o.temperature, TopP: o.topP, TopK: o.topK,
	}
	if _, trace := ds.(scenarios.Scheduled); trace && !o.args.given("request-rate") {
		sc.RequestRate = 0 // replay the dataset's own timestamps
	}
	if err := sc.Validate(); err != nil {
		return sc, usageError{err}
	}
	return sc, nil
}
