// Package scenarios makes the requests of a benchmark: vLLM's datasets and
// ready-made scenarios built on them.
//
// # Datasets
//
// A [Dataset] returns n [servingbench.Request] values for a tokenizer and a
// seed. Every request has a Prompt, the text sent as the completions prompt
// or as the single user message of a chat request; PromptTokens, the
// tokenizer's count of that text exactly as sent (no special tokens added),
// which the report uses when the server sends no usage; and MaxTokens, the
// output length asked for. The datasets follow vLLM's benchmark_dataset.py
// (v0.9.1, the version benchmark_serving.py users run) and, where noted,
// newer vLLM ("vllm bench serve"):
//
//   - [Random]: windows of consecutive token ids decoded to text, lengths
//     drawn around InputLen and OutputLen, an optional shared random prefix,
//     and optionally newer vLLM's adjustment to the exact length.
//   - [ShareGPT]: first two turns of each conversation of a
//     ShareGPT_V3-layout file, with vLLM's length filters.
//   - [Sonnet]: lines of a text file after a fixed instruction, the first
//     lines shared by every prompt.
//   - [Custom]: a JSONL file of {"prompt": ..., "output_tokens": ...}.
//   - [PrefixRepetition]: a few random prefixes, each shared by many
//     prompts, to measure prefix caching.
//   - [BurstGPT]: the BurstGPT trace's token counts, and its timestamps as
//     the arrival schedule ([Scheduled]).
//
// Each type's documentation gives its exact definition and every place it
// differs from vLLM. Differences common to all: prompts are counted by the
// tokenizer without special tokens (vLLM counts a BOS where the tokenizer
// adds one), no chat template is applied (a chat endpoint applies its own
// on the server), and the prompt length reported is always the measured
// count of the text sent, where vLLM sometimes reports the length it aimed
// for.
//
// # Conversations
//
// A [ConversationDataset] returns n [servingbench.Conversation] values for
// a multi-turn benchmark (vLLM's benchmarks/multi_turn/): each a chain of
// turns, a user message, its UserTokens, the output length asked for
// (MaxTokens), the recorded Reply when there is one and the Think time
// before it, with an optional system prompt. The runner sends turn k with
// the whole history. The datasets:
//
//   - [Synthetic]: random texts, every length (turns, system prompt shared
//     by all conversations, per-conversation prefix, user messages,
//     outputs, think time) drawn from a [Distribution]: constant, uniform,
//     lognormal, zipf or poisson, with the parameters of vLLM's
//     generate_multi_turn.json; each text made to its drawn token length
//     exactly.
//   - [ShareGPTConversations]: a ShareGPT file's conversations used whole,
//     converted as vLLM's convert_sharegpt_to_openai.py does.
//   - [CustomConversations]: vLLM's multi-turn input format, {"id",
//     "messages": [{"role", "content"}]}, one a line or as vLLM's JSON
//     array, with optional "max_tokens" and "think_ms" on user messages.
//
// A [Scenario] with Conversations set in place of Dataset (and
// MaxActiveConversations, vLLM's --max-active-conversations) is a
// conversation benchmark: [Scenario.PrepareConversations] makes its
// conversations and the arrival process of their starts.
// [ConversationCatalog] holds [ChatAssistant] and [AgentLoop]. For a
// completions endpoint, the history is rendered with the model's chat
// template by the tokenizer package's Tokenizer.ApplyChatTemplate.
//
// # Seeds
//
// Every random choice is drawn from math/rand/v2's PCG generator seeded with
// the seed passed to Requests, one stream per purpose: the same seed, dataset
// and tokenizer give the same requests on every machine and every run. The
// streams are not numpy's (or Python's random module's), so a seed does not
// reproduce the prompts vLLM makes with that seed; the distributions are the
// same.
//
// # Scenarios
//
// A [Scenario] is a dataset plus a load (number of prompts, request rate,
// burstiness, maximum concurrency, seed, warm-up) and sampling options. Its
// String names it with slash-separated key=value pairs, stable and usable
// as a sub-benchmark name for benchstat. [Scenario.Prepare] makes the
// requests and the arrival process ([servingbench.Gamma], or the dataset's
// trace), honouring its context: cancelled, the datasets stop within a few
// dozen prompts per goroutine and Prepare returns an error wrapping
// context.Canceled; [Scenario.Config] wraps them in a [servingbench.Config]. The
// catalog ([SeedRandom256], [Chat], [PrefillHeavy], [DecodeHeavy],
// [PrefixCaching], [ShareGPTChat]) documents the vLLM command line each one
// stands for and the time it takes; [RateSweep] and [ConcurrencySweep] make
// sweeps.
//
// # Scale
//
// The catalog's sizes are for GPU servers: SeedRandom256 takes minutes on a
// CPU server. A [Scale] (number of prompts, input and output length)
// resizes any scenario through [Scenario.Scaled], and the catalog functions
// take it as options ([WithNumPrompts], [WithInputLen], [WithOutputLen],
// [WithScale]): SeedRandom256(WithNumPrompts(64)). The lengths set are the
// dataset's own length parameters, those vLLM's flags set; a length the
// dataset has not (ShareGPT's input) is an error, which a catalog
// function, returning no error, leaves for [Scenario.Validate] and so
// Prepare to report. This package reads no environment: benchtest maps
// SERVINGBENCH_NUM_PROMPTS, SERVINGBENCH_INPUT_LEN and
// SERVINGBENCH_OUTPUT_LEN to a Scale.
//
// # Times
//
// Each catalog function documents the time a run takes, its "Benchmark
// duration" (preparing the prompts and the warm-up add a second or two),
// measured on 2026-12-02 with servingbench's CLI and the flags of the vLLM
// command line shown (plus --no-warmup where the scenario has no warm-up)
// on a 2-core machine shared with other jobs: the load averages given
// (2 to 9) make the times noisy and slower than on a quiet machine.
// "The simulated server" is the embedded one (no --base-url: servingtest's
// fp16 profile at the default 10x speed), at full scale. "llama.cpp's tiny
// CPU model" is llama-server b11669-Debian serving the conformance suite's
// tiny Qwen3-vocabulary model (internal/llamacpp, F16) on one CPU thread
// with 4 slots of 2048 tokens (-t 1 -np 4 -c 8192), restarted before each
// run so that no prompt is cached, at the scale recommended there:
//
//	servingbench --backend llama.cpp --base-url http://127.0.0.1:18090 \
//	    --model tiny-qwen3 --dataset-name random --random-input-len 256 \
//	    --random-output-len 128 --num-prompts 64 --disable-tqdm
//
// is SeedRandom256(WithNumPrompts(64)). The tiny model is no real model:
// its times say how a scale fits a slow server, not how fast any is. In
// short (each function gives the details):
//
//	scenario        simulated, full scale   llama.cpp tiny CPU model, scale for slow servers
//	SeedRandom256   4.7 s                   WithNumPrompts(64): 43 to 65 s
//	Chat            128 s (its arrivals)    WithNumPrompts(24): 43 s
//	PrefillHeavy    10.8 s                  WithNumPrompts(100), WithInputLen(1024): 18 to 22 s
//	DecodeHeavy     7.8 s                   WithNumPrompts(4): 27 to 48 s
//	PrefixCaching   5.5 s                   WithNumPrompts(50): 37 to 50 s
//
// # Tokenizers
//
// Datasets take any [servingbench.Tokenizer]. HuggingFace tokenizers
// (tokenizer.json, model directories, the hub cache, the built-in Qwen3
// one) are loaded by the subpackage scenarios/tokenizer.
//
// # Errors
//
// Bad parameters are returned as errors naming the field. A dataset file
// that cannot be read, is malformed or has no usable entry gives a
// [*FileError] naming the file and the line or record.
//
// # Concurrency
//
// Datasets and scenarios are values, safe for concurrent use. Requests
// calls the tokenizer from up to GOMAXPROCS goroutines at once (as
// servingbench.Tokenizer requires, it must be safe for concurrent use) and
// returns after all of them have ended.
package scenarios
