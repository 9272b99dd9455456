package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The protocols added after TGI and llama.cpp, as a test client reads
// them, and the chat route's reasoning phase. Shapes: Triton's
// docs/protocol/extension_generate.md,
// https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_generate.md;
// SGLang's python/sglang/srt/entrypoints/http_server.py (generate_request),
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/entrypoints/http_server.py;
// Ollama's docs/api.md and api/types.go,
// https://github.com/ollama/ollama/blob/v0.33.0-rc2/docs/api.md; vLLM's
// reasoning stream, servingbench/internal/sse/testdata/vllm-chat-reasoning.sse.

// newerProto is one of the newer protocols' streaming routes: its request
// body and how a client tells its token events.
type newerProto struct {
	name string
	path string
	body func(prompt string, maxTokens int) map[string]any
	// ndjson: Ollama's line framing, else SSE data events.
	ndjson bool
	// text returns an event's token text ("" for an event without one).
	text func(t *testing.T, data string) string
}

var newerProtos = []newerProto{
	{"tensorrt-llm", "/v2/models/ensemble/generate_stream", func(prompt string, n int) map[string]any {
		return map[string]any{"text_input": prompt, "max_tokens": n, "min_length": n, "stream": true}
	}, false, func(t *testing.T, data string) string {
		var ev struct {
			TextOutput string `json:"text_output"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &ev), "%s", data)
		return ev.TextOutput
	}},
	{"sglang", "/generate", func(prompt string, n int) map[string]any {
		return map[string]any{"text": prompt, "stream": true, "sampling_params": map[string]any{"max_new_tokens": n, "ignore_eos": true}}
	}, false, nil}, // the cumulative text: readNewer takes its new suffix
	{"ollama", "/api/generate", func(prompt string, n int) map[string]any {
		return map[string]any{"model": "m", "prompt": prompt, "options": map[string]any{"num_predict": n}}
	}, true, func(t *testing.T, data string) string {
		var ev struct{ Response string }
		require.NoError(t, json.Unmarshal([]byte(data), &ev), "%s", data)
		return ev.Response
	}},
	{"ollama-chat", "/api/chat", func(prompt string, n int) map[string]any {
		return map[string]any{"model": "m", "messages": []map[string]any{{"role": "user", "content": prompt}},
			"options": map[string]any{"num_predict": n}}
	}, true, func(t *testing.T, data string) string {
		var ev struct{ Message struct{ Content string } }
		require.NoError(t, json.Unmarshal([]byte(data), &ev), "%s", data)
		return ev.Message.Content
	}},
}

// readLines reads an NDJSON body: a line an event, stamped when read.
func readLines(r io.Reader) ([]event, error) {
	br := bufio.NewReader(r)
	var evs []event
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return evs, err
		}
		evs = append(evs, event{Data: strings.TrimSuffix(line, "\n"), Time: time.Now()})
	}
}

// readNewer reads a whole response of np and returns the client's read
// time of each token event and the events' texts; SGLang's cumulative
// text is handed out as its new suffix.
func readNewer(t *testing.T, np newerProto, r io.Reader) (times []time.Time, texts []string, raw []event) {
	t.Helper()
	var err error
	if np.ndjson {
		raw, err = readLines(r)
	} else {
		raw, err = readSSEFields(r)
	}
	require.ErrorIs(t, err, io.EOF)
	seen := ""
	for _, ev := range raw {
		if ev.Data == "[DONE]" {
			continue
		}
		var text string
		if np.name == "sglang" {
			var out struct{ Text string }
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &out), "%s", ev.Data)
			require.True(t, strings.HasPrefix(out.Text, seen), "cumulative text %q extends %q", out.Text, seen)
			text, seen = out.Text[len(seen):], out.Text
		} else {
			text = np.text(t, ev.Data)
		}
		if text != "" {
			times, texts = append(times, ev.Time), append(texts, text)
		}
	}
	return times, texts, raw
}

// TestNewerInBubble: in a synctest bubble each newer route's token events
// come one decode step a token, Record.Chunks is the engine's schedule
// to the nanosecond and the client's read times are the server's flush
// times; one event a chunk for Triton and SGLang, one a token (a flush
// of TokensPerChunk lines) for Ollama.
func TestNewerInBubble(t *testing.T) {
	const step, prefill, maxTokens = 10 * time.Millisecond, time.Millisecond, 6
	for _, np := range newerProtos {
		for _, per := range []int{1, 3, 4} {
			t.Run(fmt.Sprintf("%s/tokens-a-chunk=%d", np.name, per), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					srv := NewUnstartedServer(Model{Name: "m", DecodeBase: step, PrefillPerToken: prefill, TokensPerChunk: per})
					srv.Listener = NewListener()
					srv.Start()
					defer srv.Close()
					b, err := json.Marshal(np.body("one two three", maxTokens))
					require.NoError(t, err)
					sent := time.Now()
					resp, err := srv.Client().Post(srv.URL+np.path, "application/json", bytes.NewReader(b))
					require.NoError(t, err)
					require.Equal(t, http.StatusOK, resp.StatusCode)
					got, texts, raw := readNewer(t, np, resp.Body)
					resp.Body.Close()

					// The schedule: the first step prefills 3 prompt tokens;
					// token k (from 1) is produced at prefill*3 + k*step,
					// and a chunk is flushed when its last token is (the
					// last chunk short: 6 = 4 + 2).
					var want []time.Time
					var wantTokens []int
					for sentTok := 0; sentTok < maxTokens; {
						n := min(per, maxTokens-sentTok)
						sentTok += n
						at := sent.Add(3*prefill + time.Duration(sentTok)*step)
						if np.ndjson {
							for range n {
								want, wantTokens = append(want, at), append(wantTokens, 1)
							}
						} else {
							want, wantTokens = append(want, at), append(wantTokens, n)
						}
					}
					rec := srv.Truth()[0]
					assert.Equal(t, want, rec.Chunks, "Record.Chunks: the engine's schedule")
					assert.Equal(t, wantTokens, rec.ChunkTokens)
					assert.Equal(t, rec.Chunks, got, "client read times = server flush times")
					assert.Equal(t, maxTokens, CountWords(strings.Join(texts, "")), "tokens in %q", texts)
					assert.Equal(t, maxTokens, rec.OutputTokens)
					assert.Equal(t, 3, rec.PromptTokens)
					assert.Equal(t, sent, rec.Received)
					assert.Equal(t, sent, rec.Admitted, "admitted at the first step's start")
					assert.Equal(t, "length", rec.FinishReason)
					assert.Equal(t, np.path, rec.Endpoint)
					assert.Equal(t, 0, rec.ReasoningTokens, "only the OpenAI chat route reasons")
					if np.ndjson {
						checkOllamaDurations(t, raw[len(raw)-1].Data, rec)
					}
				})
			})
		}
	}
}

// checkOllamaDurations checks the done line's counts and durations
// against the ground truth: prompt_eval_duration admission to the first
// token, eval_duration first to last, total_duration admission to last
// (nanoseconds, api.Metrics).
func checkOllamaDurations(t *testing.T, line string, rec Record) {
	t.Helper()
	var done struct {
		Done               bool
		DoneReason         string        `json:"done_reason"`
		PromptEvalCount    int           `json:"prompt_eval_count"`
		EvalCount          int           `json:"eval_count"`
		TotalDuration      time.Duration `json:"total_duration"`
		PromptEvalDuration time.Duration `json:"prompt_eval_duration"`
		EvalDuration       time.Duration `json:"eval_duration"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &done), "%s", line)
	require.True(t, done.Done, "the last line is the done line: %s", line)
	first, last := rec.Chunks[0], rec.Chunks[len(rec.Chunks)-1]
	assert.Equal(t, "length", done.DoneReason)
	assert.Equal(t, rec.PromptTokens, done.PromptEvalCount)
	assert.Equal(t, rec.OutputTokens, done.EvalCount)
	assert.Equal(t, first.Sub(rec.Admitted), done.PromptEvalDuration, "prompt_eval_duration")
	assert.Equal(t, last.Sub(first), done.EvalDuration, "eval_duration")
	assert.Equal(t, last.Sub(rec.Admitted), done.TotalDuration, "total_duration")
}
