package main

import (
	"cmp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// TestEveryBackendSimulated runs the CLI with every --backend against
// the simulated server, which speaks every protocol, and checks the
// printed block's counts exactly: 4 requests of 4 output tokens each,
// every one generating all its tokens (--ignore-eos: ignore_eos for
// vLLM, llama.cpp and SGLang, min_length for Triton; TGI and Ollama have
// none, and the simulated server, like vLLM's, generates max tokens
// when asked to ignore EOS), and the same input total as --backend
// vllm's usage on the same prompts (16 random tokens each, re-encoded:
// the measured count). The output counts come from each protocol's own
// field (usage, TGI's details, llama.cpp's tokens_predicted, SGLang's
// meta_info, Ollama's eval_count), from the tokenizer for Triton, which
// reports none.
func TestEveryBackendSimulated(t *testing.T) {
	input := map[string]float64{}
	sources := map[string]string{"tensorrt-llm": "tokenizer"}
	for _, b := range servingbench.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			out, stderr, err := runCLI(t, "--backend", b.Name, "--model", "qwen2.5", "--sim-profile", "zero", "--sim-speed", "1000",
				"--seed", "7", "--num-prompts", "4", "--random-input-len", "16", "--random-output-len", "4",
				"--ignore-eos", "--no-warmup", "--disable-tqdm")
			require.NoError(t, err, "stderr:\n%s", stderr)
			assert.Contains(t, out, "============ Serving Benchmark Result ============\n")
			assert.Equal(t, 4.0, blockValue(t, out, "Successful requests:"), out)
			assert.Equal(t, 16.0, blockValue(t, out, "Total generated tokens:"), out)
			input[b.Name] = blockValue(t, out, "Total input tokens:")
			assert.Regexp(t, `(?m)^Output token counts from:\s+`+cmp.Or(sources[b.Name], "usage")+`\s*$`, out)
		})
	}
	for name, n := range input {
		assert.Equal(t, input["vllm"], n, "total input tokens, %s vs vllm", name)
	}
	assert.Len(t, input, len(servingbench.Backends()))
}
