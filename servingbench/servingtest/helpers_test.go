package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// body builds a request body for the endpoint.
func body(chat bool, prompt string, maxTokens int, extra map[string]any) map[string]any {
	b := map[string]any{"max_tokens": maxTokens, "stream": true,
		"stream_options": map[string]any{"include_usage": true}}
	if chat {
		b["messages"] = []map[string]any{{"role": "user", "content": prompt}}
	} else {
		b["prompt"] = prompt
	}
	return merged(b, extra)
}

// merged returns a copy of base with extra's members set, a nil one
// removed.
func merged(base, extra map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func path(chat bool) string {
	if chat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

func post(t testing.TB, url string, v any) *http.Response {
	t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	return resp
}

// event is one SSE event as a test client sees it.
type event struct {
	Data     string
	Comments int // comment lines before it
	Time     time.Time
}

// readSSE reads events until EOF or an error, which it returns.
func readSSE(r io.Reader) ([]event, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var evs []event
	for {
		ev, err := nextEvent(br)
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

// nextEvent reads one data event.
func nextEvent(br *bufio.Reader) (event, error) {
	var cur event
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return cur, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data != nil {
				cur.Data = strings.Join(data, "\n")
				cur.Time = time.Now()
				return cur, nil
			}
		case strings.HasPrefix(line, ":"):
			cur.Comments++
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}

// chunk is the part of a streamed chunk the tests check.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
		Delta        *struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// content is the generated text of a chunk's first choice.
func (c *chunk) content() string {
	if len(c.Choices) == 0 {
		return ""
	}
	ch := c.Choices[0]
	if ch.Text != nil {
		return *ch.Text
	}
	if ch.Delta != nil && ch.Delta.Content != nil {
		return *ch.Delta.Content
	}
	return ""
}

func (c *chunk) finish() string {
	if len(c.Choices) == 0 || c.Choices[0].FinishReason == nil {
		return ""
	}
	return *c.Choices[0].FinishReason
}

// streamed is a parsed, complete stream.
type streamed struct {
	Chunks []chunk
	Events []event // data events except [DONE]
	Done   bool
}

// tokenEvents returns the indexes of chunks with generated text.
func (s *streamed) tokenEvents() []int {
	var idx []int
	for i := range s.Chunks {
		if s.Chunks[i].content() != "" {
			idx = append(idx, i)
		}
	}
	return idx
}

func (s *streamed) text() string {
	var b strings.Builder
	for i := range s.Chunks {
		b.WriteString(s.Chunks[i].content())
	}
	return b.String()
}

// stream posts a streaming request and parses the whole response.
func stream(t testing.TB, url string, v any) *streamed {
	t.Helper()
	resp := post(t, url, v)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	evs, err := readSSE(resp.Body)
	require.ErrorIs(t, err, io.EOF)
	s := &streamed{}
	for i, ev := range evs {
		if ev.Data == "[DONE]" {
			require.Equal(t, len(evs)-1, i, "[DONE] is the last event")
			s.Done = true
			continue
		}
		var c chunk
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &c), "event %d: %q", i, ev.Data)
		s.Chunks = append(s.Chunks, c)
		s.Events = append(s.Events, ev)
	}
	return s
}

// checkNoLeak fails if goroutines started during the test outlive it.
func checkNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		var now int
		for range 200 {
			if now = runtime.NumGoroutine(); now <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", before, now, buf[:runtime.Stack(buf, true)])
	})
}

// nativeProto is one native protocol's streaming route and request body.
type nativeProto struct {
	proto Protocol
	path  string
	body  func(prompt string, maxTokens int) map[string]any
}

var nativeProtos = []nativeProto{
	{ProtocolTGI, "/generate_stream", func(prompt string, n int) map[string]any {
		return map[string]any{"inputs": prompt, "parameters": map[string]any{
			"max_new_tokens": n, "details": true, "do_sample": true, "temperature": 0.01, "top_p": 0.99}}
	}},
	{ProtocolLlamaCpp, "/completion", func(prompt string, n int) map[string]any {
		return map[string]any{"prompt": prompt, "n_predict": n, "ignore_eos": true, "stream": true}
	}},
}

// nativeEvent is the union of TGI's StreamResponse and llama.cpp's
// /completion objects, as far as the tests read them.
type nativeEvent struct {
	// TGI
	Index *int `json:"index"`
	Token *struct {
		ID      int    `json:"id"`
		Text    string `json:"text"`
		Special bool   `json:"special"`
	} `json:"token"`
	GeneratedText *string `json:"generated_text"`
	Details       *struct {
		FinishReason    string `json:"finish_reason"`
		GeneratedTokens int    `json:"generated_tokens"`
		InputLength     int    `json:"input_length"`
	} `json:"details"`
	ErrorType string `json:"error_type"`
	// llama.cpp
	Content         *string `json:"content"`
	Stop            bool    `json:"stop"`
	TokensPredicted int     `json:"tokens_predicted"`
	TokensEvaluated int     `json:"tokens_evaluated"`
	StopType        string  `json:"stop_type"`
	Timings         *struct {
		PromptN     int     `json:"prompt_n"`
		PredictedN  int     `json:"predicted_n"`
		PromptMS    float64 `json:"prompt_ms"`
		PredictedMS float64 `json:"predicted_ms"`
	} `json:"timings"`
	// both
	Error json.RawMessage `json:"error"`
}

// text is the event's output: TGI's token.text, llama.cpp's content.
func (e *nativeEvent) text() string {
	switch {
	case e.Token != nil && !e.Token.Special:
		return e.Token.Text
	case e.Content != nil:
		return *e.Content
	}
	return ""
}

// last reports whether the event ends the stream.
func (e *nativeEvent) last() bool { return e.GeneratedText != nil || e.Stop }

// readNative reads a whole native stream: its events (data and llama.cpp's
// error lines) decoded, and the raw events.
func readNative(t testing.TB, r io.Reader) ([]nativeEvent, []event, error) {
	t.Helper()
	raw, err := readSSEFields(r)
	evs := make([]nativeEvent, len(raw))
	for i, ev := range raw {
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &evs[i]), "event %d: %q", i, ev.Data)
	}
	return evs, raw, err
}

// readSSEFields is readSSE for events whose field is data or error.
func readSSEFields(r io.Reader) ([]event, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var evs []event
	var cur event
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return evs, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data != nil {
				cur.Data, cur.Time = strings.Join(data, "\n"), time.Now()
				evs = append(evs, cur)
				cur, data = event{}, nil
			}
		case strings.HasPrefix(line, ":"):
			cur.Comments++
		default:
			name, value, _ := strings.Cut(line, ":")
			if name == "data" || name == "error" {
				data = append(data, strings.TrimPrefix(value, " "))
			}
		}
	}
}
