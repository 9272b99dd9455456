package scenarios

import "github.com/servingbench/servingbench/servingbench"

// Ready-made scenarios. Each function returns a new value the caller may
// change, resized by its options (see Scale); each documents the vLLM
// benchmark_serving.py (v0.9.1) or "vllm bench serve" command line that
// runs the same load (add --backend, --model, --tokenizer and --base-url
// for the target), and the time a run takes, measured as the package
// documentation (Times) says: at full scale on the simulated server, and
// on llama.cpp's tiny CPU model at the scale recommended for slow servers.

// SeedRandom256 is the benchmark of the document this project started
// from: 640 random prompts of 256 tokens asking for 128 tokens each, all
// sent at once, after one warm-up request.
//
//	python benchmarks/benchmark_serving.py --dataset-name random \
//	    --random-input-len 256 --random-output-len 128 --num-prompts 640
//
// Time (2026-12-02): 4.7 s on the simulated server. For slow servers, a
// tenth: SeedRandom256(WithNumPrompts(64)), 43, 47 and 65 s in three runs
// on llama.cpp's tiny CPU model (load average 3 to 6; 32 prompts: 23 s);
// the full scale, ten times as many prompts, was not run there.
func SeedRandom256(opts ...Option) Scenario {
	return catalogScenario("SeedRandom256", Scenario{
		Name:       "seed-random256",
		Dataset:    Random{InputLen: 256, OutputLen: 128},
		NumPrompts: 640,
		Warmup:     true,
	}, opts)
}

// Chat is a chat-like load without a dataset file: short prompts and
// replies whose lengths vary widely (256 tokens each, range ratio 0.5),
// 1000 requests arriving as a Poisson process of 8 requests a second. It
// is a stand-in for ShareGPT traffic, not a replay of it.
//
//	python benchmarks/benchmark_serving.py --dataset-name random \
//	    --random-input-len 256 --random-output-len 256 --random-range-ratio 0.5 \
//	    --num-prompts 1000 --request-rate 8
//
// Time (2026-12-02): 128 s on the simulated server, however fast the
// server: 1000 arrivals at 8 a second take 125 s. For slow servers:
// Chat(WithNumPrompts(24)), 43 s in two runs on llama.cpp's tiny CPU model
// (48 prompts: 120 s; load average 6), which cannot keep up with 8 requests
// a second: TTFT measures its queue.
func Chat(opts ...Option) Scenario {
	return catalogScenario("Chat", Scenario{
		Name:        "chat",
		Dataset:     Random{InputLen: 256, OutputLen: 256, RangeRatio: 0.5},
		NumPrompts:  1000,
		RequestRate: 8,
	}, opts)
}

// PrefillHeavy stresses prompt processing: 200 prompts of 4096 tokens that
// ask for 16 tokens each, EOS ignored, all sent at once. TTFT dominates.
//
//	python benchmarks/benchmark_serving.py --dataset-name random \
//	    --random-input-len 4096 --random-output-len 16 --num-prompts 200 --ignore-eos
//
// Time (2026-12-02): 10.8 s on the simulated server. A server whose context
// per request is under 4096 tokens plus the tokenizer's excess (the random
// dataset's re-encoded prompts run 6 to 7% longer with the Qwen3 tokenizer)
// fails every request: llama.cpp with 2048-token slots answers HTTP 400
// "exceeds the available context size". For such and slow servers:
// PrefillHeavy(WithNumPrompts(100), WithInputLen(1024)), 18 and 22 s on
// llama.cpp's tiny CPU model (40 prompts: 11 s; load average 5 to 8).
func PrefillHeavy(opts ...Option) Scenario {
	return catalogScenario("PrefillHeavy", Scenario{
		Name:       "prefill-heavy",
		Dataset:    Random{InputLen: 4096, OutputLen: 16},
		NumPrompts: 200,
		IgnoreEOS:  true,
	}, opts)
}

// DecodeHeavy stresses generation: 200 prompts of 128 tokens that ask for
// 1024 tokens each, EOS ignored, all sent at once. TPOT and ITL dominate.
//
//	python benchmarks/benchmark_serving.py --dataset-name random \
//	    --random-input-len 128 --random-output-len 1024 --num-prompts 200 --ignore-eos
//
// Time (2026-12-02): 7.8 s on the simulated server. For slow servers,
// keeping the long generations: DecodeHeavy(WithNumPrompts(4)), one request
// per slot of a 4-slot server, 27 and 48 s on llama.cpp's tiny CPU model
// (12 prompts: 127 s; load average 5 to 8). The full scale was not run
// there: 204,800 tokens to generate, at the 85 to 150 tokens a second
// measured.
func DecodeHeavy(opts ...Option) Scenario {
	return catalogScenario("DecodeHeavy", Scenario{
		Name:       "decode-heavy",
		Dataset:    Random{InputLen: 128, OutputLen: 1024},
		NumPrompts: 200,
		IgnoreEOS:  true,
	}, opts)
}

// PrefixCaching measures prefix caching with vLLM's prefix_repetition
// defaults: 10 prefixes of 256 tokens, each shared by 50 of 500 prompts
// that end in their own 256 tokens, 128 output tokens, all sent at once.
//
//	vllm bench serve --dataset-name prefix_repetition --num-prompts 500 \
//	    --prefix-repetition-prefix-len 256 --prefix-repetition-suffix-len 256 \
//	    --prefix-repetition-num-prefixes 10 --prefix-repetition-output-len 128
//
// Time (2026-12-02): 5.5 s on the simulated server. For slow servers, a
// tenth (5 prompts a prefix): PrefixCaching(WithNumPrompts(50)), 37 and
// 50 s on llama.cpp's tiny CPU model (load average 6 to 8); the full
// scale, ten times as many prompts, was not run there. NumPrompts cannot
// go under the 10 prefixes.
func PrefixCaching(opts ...Option) Scenario {
	return catalogScenario("PrefixCaching", Scenario{
		Name:       "prefix-caching",
		Dataset:    PrefixRepetition{},
		NumPrompts: 500,
	}, opts)
}

// ShareGPTChat is vLLM's usual ShareGPT benchmark on the file at path
// (ShareGPT_V3_unfiltered_cleaned_split.json): 1000 conversations, all sent
// at once.
//
//	python benchmarks/benchmark_serving.py --dataset-name sharegpt \
//	    --dataset-path ShareGPT_V3_unfiltered_cleaned_split.json --num-prompts 1000
//
// Time: not measured (no ShareGPT file where the others were). It takes
// WithNumPrompts and WithOutputLen (vLLM's --sharegpt-output-len, which
// caps no reply but replaces each one's length); WithInputLen is an error.
func ShareGPTChat(path string, opts ...Option) Scenario {
	return catalogScenario("ShareGPTChat", Scenario{
		Name:       "sharegpt",
		Dataset:    ShareGPT{Path: path},
		NumPrompts: 1000,
	}, opts)
}

// ChatAssistant is a multi-turn chat (Conversations: Synthetic) with the
// lengths of vLLM's example generate_multi_turn.json (benchmarks/
// multi_turn/): a 500-token system prompt shared by every conversation
// (its common prefix), a first message with a context of its own of
// lognormal length averaging 1000 tokens (at most 5000), then user
// messages of 120 to 160 tokens and replies of 80 to 120, over 6 to 9 user
// turns (vLLM's 12 to 18 messages). 100 conversations start as a Poisson
// process of 1 a second, at most 16 under way; a user thinks 1 to 3 s
// (uniform) before each later turn. Every turn resends the history, so
// TTFT by turn shows the prefix cache.
//
//	python benchmarks/multi_turn/benchmark_serving_multi_turn.py \
//	    --input-file generate_multi_turn.json --num-clients 16 \
//	    --max-active-conversations 16 --limit-max-tokens 0
//
// (vLLM's script has no think time and sends the next turn as soon as a
// client is free.) Time: not measured (the multi-turn runner is another
// change's). It takes WithNumPrompts (conversations) and WithOutputLen
// (every reply); WithInputLen is an error.
func ChatAssistant(opts ...Option) Scenario {
	return catalogScenario("ChatAssistant", Scenario{
		Name: "chat-assistant",
		Conversations: Synthetic{
			Turns:     Uniform(6, 9),
			SystemLen: Constant(500),
			PrefixLen: LognormalAverage(1000, 0, 5000),
			UserLen:   Uniform(120, 160),
			OutputLen: Uniform(80, 120),
			Think:     Uniform(1000, 3000),
		},
		NumPrompts:             100,
		RequestRate:            1,
		MaxActiveConversations: 16,
	}, opts)
}

// AgentLoop is a tool-using agent (Conversations: Synthetic): a
// 2000-token system prompt shared by every conversation (instructions and
// tool definitions), a short task of 50 to 150 tokens, then 8 to 16
// further turns each feeding back a tool's output as a user message,
// lognormal averaging 1500 tokens (at most 8000), while the model answers
// each turn with a short tool call or note of 30 to 120 tokens; 100 to
// 500 ms pass between a reply and the next turn (the tool running). The
// history grows by thousands of tokens a turn, so prefill and the prefix
// cache dominate. 50 conversations start as a Poisson process of 0.5 a
// second, at most 8 under way.
//
// Time: not measured (the multi-turn runner is another change's). It
// takes WithNumPrompts (conversations) and WithOutputLen (every reply);
// WithInputLen is an error.
func AgentLoop(opts ...Option) Scenario {
	return catalogScenario("AgentLoop", Scenario{
		Name: "agent-loop",
		Conversations: Synthetic{
			Turns:        Uniform(9, 17),
			SystemLen:    Constant(2000),
			FirstUserLen: Uniform(50, 150),
			UserLen:      LognormalAverage(1500, 0, 8000),
			OutputLen:    Uniform(30, 120),
			Think:        Uniform(100, 500),
		},
		NumPrompts:             50,
		RequestRate:            0.5,
		MaxActiveConversations: 8,
	}, opts)
}

// Catalog returns the ready-made single-turn scenarios that need no
// dataset file, in a fixed order, made with opts.
func Catalog(opts ...Option) []Scenario {
	return []Scenario{SeedRandom256(opts...), Chat(opts...), PrefillHeavy(opts...), DecodeHeavy(opts...), PrefixCaching(opts...)}
}

// ConversationCatalog returns the ready-made conversation scenarios
// (Conversations set, made by PrepareConversations), in a fixed order,
// made with opts.
func ConversationCatalog(opts ...Option) []Scenario {
	return []Scenario{ChatAssistant(opts...), AgentLoop(opts...)}
}

// Lookup returns the Catalog or ConversationCatalog scenario with the
// given Name, made with opts.
func Lookup(name string, opts ...Option) (Scenario, bool) {
	for _, s := range append(Catalog(opts...), ConversationCatalog(opts...)...) {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// RateSweep returns one copy of base per rate, with RequestRate set (a
// Poisson process unless base sets Burstiness). Their Strings differ in
// "rate=R": one sub-benchmark per rate, as running benchmark_serving.py
// once per --request-rate does.
func RateSweep(base Scenario, rates ...float64) []Scenario {
	out := make([]Scenario, len(rates))
	for i, r := range rates {
		out[i] = base
		out[i].RequestRate = r
	}
	return out
}

// ConcurrencySweep returns one copy of base per limit, with MaxConcurrency
// set; their Strings differ in "concurrency=N", as running
// benchmark_serving.py once per --max-concurrency does.
func ConcurrencySweep(base Scenario, limits ...int) []Scenario {
	out := make([]Scenario, len(limits))
	for i, c := range limits {
		out[i] = base
		out[i].MaxConcurrency = c
	}
	return out
}

// RampUp returns base with vllm bench serve's ramp-up: request i of
// NumPrompts arrives at a rate going from start to end requests per second
// by strategy (RampLinear or RampExponential), gaps drawn with base's
// Burstiness, in place of its RequestRate (set to 0). Its String says
// "rate=ramp-linear-1-8".
//
//	vllm bench serve --dataset-name random --ramp-up-strategy linear \
//	    --ramp-up-start-rps 1 --ramp-up-end-rps 8
func RampUp(base Scenario, strategy servingbench.RampStrategy, start, end float64) Scenario {
	base.RequestRate = 0
	base.RampStrategy, base.RampStartRPS, base.RampEndRPS = strategy, start, end
	return base
}
