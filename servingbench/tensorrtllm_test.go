package servingbench_test

import (
	"testing"
	"testing/synctest"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTensorRTLLMTruncateUndetectable: Triton's generate_stream
// (triton-inference-server/server docs/protocol/extension_generate.md)
// has no finish reason, no counts and no end marker, so a body the server
// ends cleanly after some events is, to the client, a complete stream: the
// truncated requests succeed, counted by the tokenizer over the text that
// came (the tokens sent, fewer than the server meant), and are not NoDone.
// What the client can tell, a reset, a malformed event, an error event,
// the fault matrix checks.
func TestTensorRTLLMTruncateUndetectable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := servingtest.Realistic(1)
		m.Faults = []servingtest.Fault{{Kind: servingtest.FaultTruncate, Every: 3, After: 2}}
		srv := newBubbleServer(t, m)
		cfg := bubbleConfig(srv)
		rep, truth := e2eRun(t, srv, &cfg, servingbench.NewTensorRTLLM, 12, 8, 6, servingtest.WordTokenizer{})
		require.Equal(t, 12, rep.Completed, "errors: %v", rep.Errors)
		assert.Zero(t, rep.NoDone, "Report.NoDone: the protocol has no marker to miss")
		byIndex := promptsByIndex(rep, truth)
		cut := 0
		for _, res := range rep.Results {
			rec := truth[byIndex[res.Index]]
			assert.Equal(t, len(rec.Chunks), res.OutputTokens, "request %d: OutputTokens, want the tokens sent", res.Index)
			assert.Equal(t, servingbench.SourceTokenizer, res.OutputSource, "request %d: OutputSource", res.Index)
			assert.Equal(t, rec.Chunks, eventTimes(res), "request %d: token events", res.Index)
			if rec.Fault == servingtest.FaultTruncate {
				cut++
				assert.Equal(t, 2, res.OutputTokens, "request %d: cut after 2 tokens", res.Index)
				assert.Less(t, res.OutputTokens, rec.OutputTokens, "request %d: fewer tokens than the server meant", res.Index)
			} else {
				assert.Equal(t, rec.OutputTokens, res.OutputTokens, "request %d", res.Index)
			}
		}
		assert.Equal(t, 4, cut, "truncated requests")
	})
}
