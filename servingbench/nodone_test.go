package servingbench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/sse"
)

// TestStreamsWithoutDone replays real and vLLM-shaped streams without their
// "data: [DONE]" event, as servers sent them for years: TGI before
// huggingface/text-generation-inference PR #2221 (2024-07), llama.cpp's
// chat endpoint before ggml-org/llama.cpp PR #9459 (2024-09),
// ik_llama.cpp (issue #467), mistral.rs before PR #1226. A stream that
// ended after its finish_reason or usage is complete, with the same
// measurements as with [DONE]; under RequireDone it fails; cut before its
// finish_reason and usage it is truncated.
func TestStreamsWithoutDone(t *testing.T) {
	for _, tt := range []struct {
		file string
		kind payloadKind
	}{
		{"llamacpp-completions.sse", kindCompletions},
		{"llamacpp-chat.sse", kindChat},
		{"vllm-completions.sse", kindCompletions},
		{"vllm-chat.sse", kindChat},
		{"vllm-chat-reasoning.sse", kindChat},
	} {
		t.Run(tt.file, func(t *testing.T) {
			full := cannedStream(t, tt.file)
			events := bytes.SplitAfter(full, []byte("\n\n"))
			require.Equal(t, "data: [DONE]\n\n", string(events[len(events)-2]), "the capture ends with [DONE]")
			noDone := bytes.Join(events[:len(events)-2], nil)
			// Cut after the last token event without a finish_reason (in
			// vLLM's layout the last token chunk carries it).
			cutAt, cutTokens, tokens := 0, 0, 0
			for i, ev := range events {
				var ch sse.Chunk
				data, ok := bytes.CutPrefix(bytes.TrimSpace(ev), []byte("data: "))
				if ok && ch.Decode(data) == nil && ch.Token() {
					tokens++
					if ch.FinishReason == nil {
						cutAt, cutTokens = i, tokens
					}
				}
			}
			cut := bytes.Join(events[:cutAt+1], nil)
			require.NotRegexp(t, `"finish_reason": ?"`, string(cut), "the cut stream has no finish_reason")
			require.NotRegexp(t, `"usage": ?\{`, string(cut), "the cut stream has no usage")

			cfg := testConfig(newStreamServer(t, serveEvents(full)).URL)
			want := sendOne(t, tt.kind, cfg, Request{Prompt: "p", MaxTokens: 8})
			require.NoError(t, want.Err, "with [DONE]")
			assert.False(t, want.NoDone, "NoDone with [DONE]")

			cfg.BaseURL = newStreamServer(t, serveEvents(noDone)).URL
			got := sendOne(t, tt.kind, cfg, Request{Prompt: "p", MaxTokens: 8})
			require.NoError(t, got.Err, "without [DONE]")
			assert.True(t, got.NoDone, "NoDone")
			assert.Len(t, got.Events, len(want.Events), "token events")
			assert.Equal(t, [4]any{want.InputTokens, want.InputSource, want.OutputTokens, want.OutputSource},
				[4]any{got.InputTokens, got.InputSource, got.OutputTokens, got.OutputSource}, "counts and sources")

			cfg.RequireDone = true
			strict := sendOne(t, tt.kind, cfg, Request{Prompt: "p", MaxTokens: 8})
			var ee *EndError
			require.ErrorAs(t, strict.Err, &ee, "RequireDone")
			assert.Equal(t, EndError{Tokens: len(want.Events), Finished: true}, *ee)
			assert.Equal(t, "no [DONE]", ErrorReason(strict.Err))

			cfg.RequireDone = false
			cfg.BaseURL = newStreamServer(t, serveEvents(cut)).URL
			truncated := sendOne(t, tt.kind, cfg, Request{Prompt: "p", MaxTokens: 8})
			require.ErrorAs(t, truncated.Err, &ee, "cut after the last token")
			assert.Equal(t, EndError{Tokens: cutTokens}, *ee)
			assert.Equal(t, "no finish_reason", ErrorReason(truncated.Err))
			assert.True(t, strings.HasPrefix(truncated.Err.Error(), "stream ended after "), truncated.Err.Error())
			assert.False(t, truncated.OK(), "a truncated stream is no success")
		})
	}
}
