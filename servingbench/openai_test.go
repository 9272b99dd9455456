package servingbench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cannedStream reads testdata/streams/name.
func cannedStream(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "streams", name))
	require.NoError(t, err)
	return b
}

// captured is one request seen by a test server.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   map[string]any
}

// streamServer is an httptest server that answers every POST with a canned
// SSE stream, written one event at a time with a flush after each, and
// records the requests.
type streamServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []captured
}

func newStreamServer(t testing.TB, handler func(w http.ResponseWriter, r *http.Request)) *streamServer {
	t.Helper()
	s := &streamServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &c.Body); err != nil {
				http.Error(w, "bad json: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, c)
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *streamServer) last(t testing.TB) captured {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.requests)
	return s.requests[len(s.requests)-1]
}

// serveEvents writes stream as text/event-stream, flushing after every
// event (blank line).
func serveEvents(all []byte) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		stream := all
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		for len(stream) > 0 {
			i := bytes.Index(stream, []byte("\n\n"))
			if i < 0 {
				i = len(stream)
			} else {
				i += 2
			}
			w.Write(stream[:i])
			f.Flush()
			stream = stream[i:]
		}
	}
}

func testConfig(url string) OpenAIConfig {
	return OpenAIConfig{BaseURL: url, Model: "test-model", RequestTimeout: 30 * time.Second}
}

// sendOne sends one request with a fresh client of the given kind.
func sendOne(t testing.TB, kind payloadKind, cfg OpenAIConfig, req Request) *Result {
	t.Helper()
	c := newClient(t, kind, cfg)
	res := &Result{}
	c.Send(context.Background(), &req, res)
	return res
}

// sendWith sends one request with a fresh client that newc builds from
// cfg (NewTGI, NewLlamaCppNative, NewOllama, ...).
func sendWith(t testing.TB, newc func(OpenAIConfig) (*StreamClient, error), cfg OpenAIConfig, req Request) *Result {
	t.Helper()
	c, err := newc(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	res := &Result{}
	c.Send(t.Context(), &req, res)
	return res
}

func newClient(t testing.TB, kind payloadKind, cfg OpenAIConfig) *StreamClient {
	t.Helper()
	newc := NewCompletions
	if kind == kindChat {
		newc = NewChat
	}
	c, err := newc(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// checkTimes asserts Sent <= events (non-decreasing) <= Done.
func checkTimes(t testing.TB, res *Result) {
	t.Helper()
	prev := res.Sent
	for i := range res.Events {
		ev := res.EventTime(i)
		assert.False(t, ev.Before(prev), "Events[%d] = %v before %v", i, ev, prev)
		prev = ev
	}
	assert.False(t, res.Done.Before(prev), "Done = %v before last event %v", res.Done, prev)
}

func TestOpenAIConfigValidate(t *testing.T) {
	neg := -1.0
	bigP := 1.5
	badK := -2
	tests := []struct {
		name  string
		edit  func(*OpenAIConfig)
		field string
	}{
		{"no base url", func(c *OpenAIConfig) { c.BaseURL = "" }, "BaseURL"},
		{"relative base url", func(c *OpenAIConfig) { c.BaseURL = "localhost:8000" }, "BaseURL"},
		{"ftp base url", func(c *OpenAIConfig) { c.BaseURL = "ftp://x" }, "BaseURL"},
		{"endpoint without slash", func(c *OpenAIConfig) { c.Endpoint = "v1/completions" }, "Endpoint"},
		{"no model", func(c *OpenAIConfig) { c.Model = "" }, "Model"},
		{"api key newline", func(c *OpenAIConfig) { c.APIKey = "sk-1\r\nX: y" }, "APIKey"},
		{"negative concurrency", func(c *OpenAIConfig) { c.MaxConcurrency = -3 }, "MaxConcurrency"},
		{"negative timeout", func(c *OpenAIConfig) { c.RequestTimeout = -time.Second }, "RequestTimeout"},
		{"negative idle", func(c *OpenAIConfig) { c.StreamIdleTimeout = -time.Second }, "StreamIdleTimeout"},
		{"negative line cap", func(c *OpenAIConfig) { c.MaxLineBytes = -1 }, "MaxLineBytes"},
		{"negative temperature", func(c *OpenAIConfig) { c.Temperature = &neg }, "Temperature"},
		{"top p", func(c *OpenAIConfig) { c.TopP = &bigP }, "TopP"},
		{"top k", func(c *OpenAIConfig) { c.TopK = &badK }, "TopK"},
		{"extra body", func(c *OpenAIConfig) { c.ExtraBody = map[string]any{"f": func() {}} }, "ExtraBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			tt.edit(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "OpenAIConfig."+tt.field)
			assert.NotContains(t, err.Error(), "sk-1", "the API key must not leak into errors")
			_, err = NewCompletions(cfg)
			assert.Error(t, err)
			_, err = NewChat(cfg)
			assert.Error(t, err)
		})
	}
	cfg := testConfig("http://127.0.0.1:1")
	assert.NoError(t, cfg.Validate())
}

func TestErrorReason(t *testing.T) {
	assert.Equal(t, "", ErrorReason(nil))
	wrapped := &HTTPError{StatusCode: 503, Body: "busy"}
	assert.Equal(t, "HTTP 503", ErrorReason(wrapped))
	assert.Equal(t, "HTTP 503", ErrorReason(wrap(wrapped)))
	assert.Equal(t, "short write", ErrorReason(io.ErrShortWrite))
	long := excerpt(bytes.Repeat([]byte("x"), 2000))
	assert.LessOrEqual(t, len(long), maxBodyExcerpt)
	assert.True(t, strings.HasSuffix(long, "..."))
}

func wrap(err error) error { return &wrapErr{err} }

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }
