package servingtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The native protocols, as a test client reads them. Shapes: TGI's
// router/src/lib.rs (StreamResponse, StreamDetails, Token,
// ErrorResponse),
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/lib.rs;
// llama.cpp's tools/server/README.md ("POST /completion"),
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md.

func TestNativeStreamFormat(t *testing.T) {
	checkNoLeak(t)
	const prompt, maxTokens = "one two three four", 5
	for _, np := range nativeProtos {
		for _, per := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v/tokens-a-flush=%d", np.proto, per), func(t *testing.T) {
				srv := NewServer(Model{Name: "m", TokensPerChunk: per})
				defer srv.Close()
				resp := post(t, srv.URL+np.path, np.body(prompt, maxTokens))
				defer resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
				evs, raw, err := readNative(t, resp.Body)
				require.ErrorIs(t, err, io.EOF)

				var text strings.Builder
				tokens := 0
				for i, ev := range evs {
					if ev.text() != "" {
						tokens++
						text.WriteString(ev.text())
					}
					assert.Equal(t, i == len(evs)-1, ev.last(), "event %d ends the stream: %s", i, raw[i].Data)
				}
				assert.Equal(t, maxTokens, tokens, "token events: one a token")
				assert.Equal(t, maxTokens, CountWords(text.String()), "words in %q", text.String())
				end := evs[len(evs)-1]
				switch np.proto {
				case ProtocolTGI:
					assert.True(t, strings.HasPrefix(raw[0].Data, "{"), "data: without a space, as axum writes it")
					require.Len(t, evs, maxTokens, "the last token's event carries the details")
					for i, ev := range evs {
						require.NotNil(t, ev.Index)
						assert.Equal(t, i+1, *ev.Index, "index counts from 1")
					}
					require.NotNil(t, end.Details)
					assert.Equal(t, text.String(), *end.GeneratedText)
					assert.Equal(t, "length", end.Details.FinishReason)
					assert.Equal(t, maxTokens, end.Details.GeneratedTokens)
					assert.Equal(t, 4, end.Details.InputLength)
				case ProtocolLlamaCpp:
					require.Len(t, evs, maxTokens+1, "a token an event, then the stop object")
					for i, ev := range evs[:maxTokens] {
						assert.Equal(t, i+1, ev.TokensPredicted, "event %d: tokens_predicted so far", i)
						assert.Equal(t, 4, ev.TokensEvaluated)
					}
					assert.Equal(t, "", *end.Content)
					assert.Equal(t, maxTokens, end.TokensPredicted)
					assert.Equal(t, 4, end.TokensEvaluated)
					assert.Equal(t, "limit", end.StopType)
					require.NotNil(t, end.Timings)
					assert.Equal(t, 4, end.Timings.PromptN)
					assert.Equal(t, maxTokens, end.Timings.PredictedN)
				}

				rec := srv.Truth()[0]
				assert.Equal(t, np.proto, rec.Protocol)
				assert.Equal(t, np.path, rec.Endpoint)
				assert.Equal(t, prompt, rec.Prompt)
				assert.Equal(t, 4, rec.PromptTokens)
				assert.Equal(t, maxTokens, rec.OutputTokens)
				assert.Equal(t, "length", rec.FinishReason)
				assert.Equal(t, []int{1, 1, 1, 1, 1}, rec.ChunkTokens, "a chunk is an event of one token")
				if per == 3 {
					assert.Equal(t, rec.Chunks[0], rec.Chunks[2], "the events of one flush share its time")
				}
			})
		}
	}
}

// TestNativeSameText: every protocol generates the same text for the same
// prompt and seed, streamed or not.
func TestNativeSameText(t *testing.T) {
	srv := NewServer(Model{Name: "m"})
	defer srv.Close()
	s := stream(t, srv.URL+"/v1/completions", body(false, "hello there", 6, nil))
	want := s.text()
	for _, np := range nativeProtos {
		resp := post(t, srv.URL+np.path, np.body("hello there", 6))
		evs, _, _ := readNative(t, resp.Body)
		resp.Body.Close()
		var got strings.Builder
		for _, ev := range evs {
			got.WriteString(ev.text())
		}
		assert.Equal(t, want, got.String(), "%v streamed", np.proto)
	}
	resp := post(t, srv.URL+"/generate", map[string]any{"inputs": "hello there", "parameters": map[string]any{"max_new_tokens": 6}})
	var gen struct {
		GeneratedText string          `json:"generated_text"`
		Details       json.RawMessage `json:"details"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&gen))
	resp.Body.Close()
	assert.Equal(t, want, gen.GeneratedText, "/generate")
	assert.Nil(t, gen.Details, "no details unless asked")
	resp = post(t, srv.URL+"/completion", map[string]any{"prompt": "hello there", "n_predict": 6})
	var ev nativeEvent
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ev))
	resp.Body.Close()
	assert.Equal(t, want, *ev.Content, "/completion without stream")
	assert.True(t, ev.Stop)
	assert.Equal(t, 6, ev.TokensPredicted)
}

func TestNativeValidation(t *testing.T) {
	srv := NewServer(Model{Name: "m", KVCacheTokens: 100})
	defer srv.Close()
	for _, tc := range []struct {
		name, path, body string
		status           int
		event            bool // TGI: a 200 stream of one error event
		message          string
	}{
		{"tgi bad json", "/generate", `{"inputs": "a",`, 422, false, "Failed to deserialize"},
		{"tgi no inputs", "/generate", `{"parameters": {"max_new_tokens": 2}}`, 422, false, "missing field `inputs`"},
		{"tgi empty inputs", "/generate", `{"inputs": "", "parameters": {"max_new_tokens": 2}}`, 422, false, "`inputs` cannot be empty"},
		{"tgi temperature 0", "/generate", `{"inputs": "a", "parameters": {"max_new_tokens": 2, "temperature": 0}}`, 422, false, "`temperature` must be strictly positive"},
		{"tgi temperature 0 streamed", "/generate_stream", `{"inputs": "a", "parameters": {"max_new_tokens": 2, "temperature": 0}}`, 200, true, "`temperature` must be strictly positive"},
		{"tgi top_p 1", "/generate_stream", `{"inputs": "a", "parameters": {"max_new_tokens": 2, "top_p": 1.0}}`, 200, true, "`top_p` must be > 0.0 and < 1.0"},
		{"tgi top_k 0", "/generate_stream", `{"inputs": "a", "parameters": {"max_new_tokens": 2, "top_k": 0}}`, 200, true, "`top_k` must be strictly positive"},
		{"tgi best_of streamed", "/generate_stream", `{"inputs": "a", "parameters": {"max_new_tokens": 2, "best_of": 2}}`, 200, true, "`best_of` != 1 is not supported when streaming tokens"},
		{"tgi max_new_tokens 0", "/generate_stream", `{"inputs": "a", "parameters": {"max_new_tokens": 0}}`, 200, true, "`max_new_tokens` must be strictly positive"},
		{"tgi no max_new_tokens", "/generate_stream", `{"inputs": "a"}`, 200, true, "`max_new_tokens` is required"},
		{"tgi too long", "/generate_stream", `{"inputs": "a b", "parameters": {"max_new_tokens": 99}}`, 200, true, "`inputs` tokens + `max_new_tokens` must be <= 100. Given: 2 `inputs` tokens and 99 `max_new_tokens`"},
		{"llama bad json", "/completion", `{"prompt": "a",`, 400, false, "unexpected EOF"},
		{"llama token prompt", "/completion", `{"prompt": [1, 2], "n_predict": 2}`, 400, false, "\"prompt\" must be a string"},
		{"llama no n_predict", "/completion", `{"prompt": "a"}`, 400, false, "n_predict is required"},
		{"llama n_predict -1", "/completion", `{"prompt": "a", "n_predict": -1}`, 400, false, "n_predict must be at least 1"},
		{"llama too long", "/completion", `{"prompt": "a b", "n_predict": 99}`, 400, false, "request (101 tokens) exceeds the available context size (100 tokens)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv.URL+tc.path, tc.body)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if tc.event {
				assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
				require.True(t, bytes.HasPrefix(b, []byte("data:")) && bytes.HasSuffix(b, []byte("\n\n")), "one event: %q", b)
				b = bytes.TrimSpace(b[len("data:"):])
			}
			switch {
			case strings.HasPrefix(tc.path, "/generate"):
				var e struct {
					Error     string `json:"error"`
					ErrorType string `json:"error_type"`
				}
				require.NoError(t, json.Unmarshal(b, &e), "%s", b)
				assert.Contains(t, e.Error, tc.message)
				assert.Equal(t, "validation", e.ErrorType)
			default:
				var e struct {
					Error struct {
						Code          int
						Message, Type string
					}
				}
				require.NoError(t, json.Unmarshal(b, &e), "%s", b)
				assert.Contains(t, e.Error.Message, tc.message)
				assert.Equal(t, 400, e.Error.Code)
				assert.NotEmpty(t, e.Error.Type)
			}
		})
	}
}

// TestNativeFaults injects each fault into each native protocol and reads
// the raw stream.
func TestNativeFaults(t *testing.T) {
	checkNoLeak(t)
	const maxTokens = 6
	for _, np := range nativeProtos {
		// Events of a complete stream: TGI's last token event ends it,
		// llama.cpp's stop object follows the tokens.
		complete := maxTokens
		if np.proto == ProtocolLlamaCpp {
			complete++
		}
		for _, tc := range []struct {
			fault Fault
			check func(t *testing.T, evs []nativeEvent, raw []event, err error)
		}{
			{Fault{Kind: FaultReset, After: 2}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				assert.Len(t, evs, 2, "events before the reset")
				assert.ErrorIs(t, err, syscall.ECONNRESET)
			}},
			{Fault{Kind: FaultTruncate, After: 2}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, 2, "events before the cut")
				assert.False(t, evs[1].last(), "no last event")
			}},
			{Fault{Kind: FaultErrorEvent, After: 2}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, 3, "two tokens and the error")
				assert.Contains(t, raw[2].Data, "simulated fault error-event")
				if np.proto == ProtocolTGI {
					assert.NotEmpty(t, evs[2].Error, "the error event: %s", raw[2].Data)
					assert.Equal(t, "generation", evs[2].ErrorType)
				} else { // llama-server's "error:" field holds the error object itself
					assert.Contains(t, raw[2].Data, `{"code":500,`)
				}
			}},
			{Fault{Kind: FaultHugeLine, After: 1}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, complete)
				assert.Greater(t, len(raw[1].Data), HugeLineSize)
				assert.Equal(t, 1, CountWords(evs[1].text()), "the huge event carries a token")
			}},
			{Fault{Kind: FaultInvalidUTF8, After: 2}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, complete)
				assert.False(t, utf8.ValidString(raw[2].Data), "event 2 %q", raw[2].Data)
			}},
			{Fault{Kind: FaultPings}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, complete)
				for i, ev := range raw {
					assert.Equal(t, 1, ev.Comments, "pings before event %d", i)
				}
			}},
			{Fault{Kind: FaultTrickle}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, complete)
				assert.True(t, evs[len(evs)-1].last())
			}},
			{Fault{Kind: FaultNoDone}, func(t *testing.T, evs []nativeEvent, raw []event, err error) {
				require.ErrorIs(t, err, io.EOF)
				require.Len(t, evs, complete, "not injected: a normal stream")
				assert.True(t, evs[len(evs)-1].last())
			}},
		} {
			t.Run(fmt.Sprintf("%v/%v", np.proto, tc.fault.Kind), func(t *testing.T) {
				srv := NewServer(Model{Faults: []Fault{tc.fault}})
				defer srv.Close()
				resp := post(t, srv.URL+np.path, np.body("a b", maxTokens))
				defer resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				var raw []event
				var err error
				br := bufio.NewReader(resp.Body)
				raw, err = readSSEFields(br)
				evs := make([]nativeEvent, len(raw))
				for i, ev := range raw {
					if tc.fault.Kind == FaultInvalidUTF8 {
						continue // encoding/json would replace the bytes
					}
					require.NoError(t, json.Unmarshal([]byte(ev.Data), &evs[i]), "event %d", i)
				}
				if tc.fault.Kind == FaultInvalidUTF8 {
					for i, ev := range raw {
						require.NoError(t, json.Unmarshal([]byte(strings.ToValidUTF8(ev.Data, "?")), &evs[i]), "event %d", i)
					}
				}
				tc.check(t, evs, raw, err)
				want := tc.fault.Kind
				if !want.AppliesTo(np.proto) {
					want = FaultNone
				}
				assert.Equal(t, want, srv.Truth()[0].Fault, "Record.Fault")
			})
		}
	}
}

// TestNativeMalformedJSON: the cut event comes before the After-th token
// event and the stream then goes on.
func TestNativeMalformedJSON(t *testing.T) {
	for _, np := range nativeProtos {
		t.Run(np.proto.String(), func(t *testing.T) {
			srv := NewServer(Model{Faults: []Fault{{Kind: FaultMalformedJSON, After: 1}}})
			defer srv.Close()
			resp := post(t, srv.URL+np.path, np.body("a b", 3))
			defer resp.Body.Close()
			raw, err := readSSEFields(resp.Body)
			require.ErrorIs(t, err, io.EOF)
			var v any
			assert.NoError(t, json.Unmarshal([]byte(raw[0].Data), &v))
			assert.Error(t, json.Unmarshal([]byte(raw[1].Data), &v), "event 1 %q", raw[1].Data)
			for i, ev := range raw[2:] {
				assert.NoError(t, json.Unmarshal([]byte(ev.Data), &v), "event %d", i+2)
			}
		})
	}
}

func TestFaultAppliesTo(t *testing.T) {
	for k := FaultBadRequest; k < numFaultKinds; k++ {
		for _, p := range Protocols() {
			want := (k != FaultNoDone || p == ProtocolOpenAI || p == ProtocolSGLang) && (k != FaultPings || p != ProtocolOllama) // NDJSON has no pings
			assert.Equal(t, want, k.AppliesTo(p), "%v.AppliesTo(%v)", k, p)
		}
	}
	assert.False(t, FaultNone.AppliesTo(ProtocolOpenAI))
	assert.Equal(t, "llama.cpp", ProtocolLlamaCpp.String())
	assert.Equal(t, "Protocol(9)", Protocol(9).String())
}

// TestNativeInBubble: in a synctest bubble the native streams' events
// come one decode step apart and the client's read times are the
// server's flush times.
func TestNativeInBubble(t *testing.T) {
	const step, maxTokens = 10 * time.Millisecond, 6
	for _, np := range nativeProtos {
		t.Run(np.proto.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := NewUnstartedServer(Model{Name: "m", DecodeBase: step})
				srv.Listener = NewListener()
				srv.Start()
				defer srv.Close()
				b, err := json.Marshal(np.body("one two three", maxTokens))
				require.NoError(t, err)
				sent := time.Now()
				resp, err := srv.Client().Post(srv.URL+np.path, "application/json", bytes.NewReader(b))
				require.NoError(t, err)
				evs, raw, err := readNative(t, resp.Body)
				require.ErrorIs(t, err, io.EOF)
				resp.Body.Close()
				var got []time.Time
				for i, ev := range evs {
					if ev.text() != "" {
						got = append(got, raw[i].Time)
					}
				}
				rec := srv.Truth()[0]
				require.Len(t, rec.Chunks, maxTokens)
				assert.Equal(t, rec.Chunks, got, "client read times = server flush times")
				for i, c := range rec.Chunks {
					assert.Equal(t, time.Duration(i+1)*step, c.Sub(sent), "chunk %d: one step a token", i)
				}
				if np.proto == ProtocolLlamaCpp {
					tm := evs[len(evs)-1].Timings
					assert.Equal(t, 10.0, tm.PromptMS, "timings.prompt_ms: admission to the first token")
					assert.Equal(t, 50.0, tm.PredictedMS, "timings.predicted_ms: first to last token")
				}
			})
		})
	}
}

// TestNativeStallAndCancel: a stalled native stream holds until the
// client goes away.
func TestNativeStallAndCancel(t *testing.T) {
	checkNoLeak(t)
	for _, np := range nativeProtos {
		t.Run(np.proto.String(), func(t *testing.T) {
			srv := NewServer(Model{Faults: []Fault{{Kind: FaultStall, After: 2}}})
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			b, _ := json.Marshal(np.body("a", 10))
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+np.path, bytes.NewReader(b))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for i := range 2 {
				_, err := nextEvent(br)
				require.NoError(t, err, "event %d", i)
			}
			cancel()
			_, err = nextEvent(br)
			assert.ErrorIs(t, err, context.Canceled)
			require.Eventually(t, func() bool { return srv.Truth()[0].Aborted == "client gone" }, 5*time.Second, time.Millisecond)
			assert.Len(t, srv.Truth()[0].Chunks, 2)
		})
	}
}
