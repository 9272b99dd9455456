package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNativeBackendsSimulated runs the CLI with --backend tensorrt-llm
// (Triton's generate_stream, counted by the tokenizer: Triton reports no
// counts) and --backend sglang-native (SGLang's /generate, counted from
// meta_info) against the simulated server, which speaks both, and checks
// the printed block's counts exactly: 4 requests of 4 output tokens each,
// every one generating all its tokens (--ignore-eos: min_length for
// Triton, sampling_params.ignore_eos for SGLang), and the same input
// total as --backend vllm's usage on the same prompts (16 random tokens
// each, re-encoded: the measured count), from the tokenizer for Triton
// and SGLang's prompt_tokens.
func TestNativeBackendsSimulated(t *testing.T) {
	input := map[string]float64{}
	sources := map[string]string{"vllm": "usage", "tensorrt-llm": "tokenizer", "sglang-native": "usage"}
	for _, backend := range []string{"vllm", "tensorrt-llm", "sglang-native"} {
		t.Run(backend, func(t *testing.T) {
			out, stderr, err := runCLI(t, "--backend", backend, "--model", "qwen2.5", "--sim-profile", "zero", "--sim-speed", "1000",
				"--seed", "7", "--num-prompts", "4", "--random-input-len", "16", "--random-output-len", "4",
				"--ignore-eos", "--no-warmup", "--disable-tqdm")
			require.NoError(t, err, "stderr:\n%s", stderr)
			assert.Equal(t, 4.0, blockValue(t, out, "Successful requests:"), out)
			assert.Equal(t, 16.0, blockValue(t, out, "Total generated tokens:"), out)
			input[backend] = blockValue(t, out, "Total input tokens:")
			assert.Regexp(t, `(?m)^Output token counts from:\s+`+sources[backend]+`\s*$`, out)
		})
	}
	assert.Equal(t, input["vllm"], input["tensorrt-llm"], "total input tokens, tensorrt-llm vs vllm")
	assert.Equal(t, input["vllm"], input["sglang-native"], "total input tokens, sglang-native vs vllm")
}
