package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convFile writes two conversations in vLLM multi-turn's format, one a
// line, and returns the path.
func convFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conv.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(
		`{"id": "a", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two three", "max_tokens": 4}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "four five", "max_tokens": 4}]}`+"\n"+
			`{"id": "b", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "six seven eight nine", "max_tokens": 4}, {"role": "assistant", "content": "y"}, {"role": "user", "content": "ten", "max_tokens": 4}]}`+"\n"), 0o644))
	return path
}

// --dataset-name conversation on the simulated server with its prefix
// cache: the block's Conversations section and per-turn tables, the
// prefix-cache counters of /metrics (the queried tokens are every turn's
// prompt: 2 x 6.5 + 2 x 14), the result file's new keys.
func TestConversationRun(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := runCLI(t, "--backend", "openai-chat", "--dataset-name", "conversation", "--dataset-path", convFile(t),
		"--num-prompts", "2", "--sim-profile", "zero", "--sim-prefix-cache", "1000", "--ignore-eos",
		"--max-active-conversations", "1", "--think-time-ms", "5", "--no-warmup", "--disable-tqdm",
		"--save-result", "--result-dir", dir, "--result-filename", "conv.json")
	require.NoError(t, err, "%s\n%s", out, stderr)
	assert.Equal(t, 4.0, blockValue(t, out, "Successful requests:"))
	assert.Equal(t, 2.0, blockValue(t, out, "Conversations:"))
	assert.Equal(t, 2.0, blockValue(t, out, "Completed conversations:"))
	assert.Equal(t, 1.0, blockValue(t, out, "Max active conversations:"))
	assert.Equal(t, 41.0, blockValue(t, out, "Prefix cache queried tokens:"))
	hits := blockValue(t, out, "Prefix cache hit tokens:")
	assert.Greater(t, hits, 0.0)
	assert.Regexp(t, regexp.MustCompile(`(?m)^1\s+2\s+0\s+6\.50\s+4\.00$`), out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^2\s+2\s+0\s+14\.00\s+4\.00$`), out)
	assert.Contains(t, out, "----------------Per-turn TTFT (ms)----------------\nTurn         Mean     Median        P99\n")

	b, err := os.ReadFile(filepath.Join(dir, "conv.json"))
	require.NoError(t, err)
	var f map[string]any
	require.NoError(t, json.Unmarshal(b, &f))
	assert.Equal(t, 2.0, f["completed_conversations"])
	assert.Equal(t, 1.0, f["max_active_conversations"])
	assert.Equal(t, hits, f["prefix_cache_hits"])
	assert.Len(t, f["per_turn"], 2)
	assert.Equal(t, 4.0, f["num_prompts"], "every turn")
}

// The conversation flags are checked before anything starts, each named.
func TestConversationFlags(t *testing.T) {
	path := convFile(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-turns", "3"}, "flag --max-turns applies to conversations (--dataset-name conversation, or sharegpt with --multi-turn)"},
		{[]string{"--replay-replies"}, "flag --replay-replies applies to conversations"},
		{[]string{"--multi-turn"}, "flag --multi-turn applies to --dataset-name sharegpt, not random"},
		{[]string{"--dataset-name", "conversation", "--dataset-path", path, "--max-active-conversations", "-1"}, "flag --max-active-conversations must be >= 0, got -1"},
		{[]string{"--dataset-name", "conversation"}, "flag --dataset-path is required for --dataset-name conversation"},
		{[]string{"--sim-prefix-cache", "-5"}, "flag --sim-prefix-cache must be >= 0, got -5"},
		{[]string{"sweep", "--dataset-name", "conversation", "--dataset-path", path, "--request-rate", "1,2"},
			"servingbench sweep runs requests; --dataset-name conversation with conversations is for the benchmark command"},
	} {
		args := tc.args
		_, _, err := runCLI(t, args...)
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), tc.want, "%v", args)
	}
}
