package servingbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientCounts checks the one place that decides token counts
// (count.go): the server's usage first, then the dataset's PromptTokens,
// then the client's tokenizer, then the token events.
func TestClientCounts(t *testing.T) {
	const done = "data: [DONE]\n\n"
	noUsage := "data: " + tokenChunk("a b") + "\n\ndata: " + tokenChunk(" c") + "\n\n" + done
	usage := "data: " + tokenChunk("a b") + "\n\n" +
		`data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5}}` + "\n\n" + done
	tests := []struct {
		name   string
		stream string
		tok    Tokenizer
		req    Request
		in     int
		inSrc  CountSource
		out    int
		outSrc CountSource
	}{
		{"usage wins", usage, wordTokenizer{}, Request{Prompt: "x y z", PromptTokens: 7, MaxTokens: 5}, 11, SourceUsage, 5, SourceUsage},
		{"dataset count", noUsage, nil, Request{Prompt: "x y z", PromptTokens: 7, MaxTokens: 5}, 7, SourceTokenizer, 2, SourceEvents},
		{"client tokenizer", noUsage, wordTokenizer{}, Request{Prompt: "x y z", MaxTokens: 5}, 3, SourceTokenizer, 3, SourceTokenizer},
		{"nothing known", noUsage, nil, Request{Prompt: "x y z", MaxTokens: 5}, 0, SourceNone, 2, SourceEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, serveEvents([]byte(tt.stream)))
			cfg := testConfig(srv.URL)
			cfg.Tokenizer = tt.tok
			res := sendOne(t, kindCompletions, cfg, tt.req)
			require.NoError(t, res.Err)
			assert.Equal(t, tt.in, res.InputTokens, "InputTokens")
			assert.Equal(t, tt.inSrc, res.InputSource, "InputSource")
			assert.Equal(t, tt.out, res.OutputTokens, "OutputTokens")
			assert.Equal(t, tt.outSrc, res.OutputSource, "OutputSource")
		})
	}
}
