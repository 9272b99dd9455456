package servingbench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitGone blocks until the client has gone or the test's safety limit.
func waitGone(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(20 * time.Second):
	}
}

// hijackReset answers with a chunked event stream holding prefix, then
// resets the connection.
func hijackReset(prefix string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, bufrw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(bufrw, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(prefix), prefix)
		bufrw.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
		conn.Close()
	}
}

func TestClientsFailures(t *testing.T) {
	token := "data: " + tokenChunk("a") + "\n\n"
	malformed := token + `data: {"choices":[{"text":"b"}]x}` + "\n\n"
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request)
		cfg     func(*OpenAIConfig)
		cancel  time.Duration // cancel the Send context after this long
		reason  string
		detail  string
		check   func(t *testing.T, err error)
	}{
		{name: "HTTP 500 with body",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "engine crashed", 500) },
			reason:  "HTTP 500", detail: "HTTP 500: engine crashed",
			check: func(t *testing.T, err error) {
				var he *HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, 500, he.StatusCode)
				assert.Equal(t, "engine crashed\n", he.Body)
			}},
		{name: "HTTP 503 long body excerpt",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, strings.Repeat("z", 5000), 503) },
			reason:  "HTTP 503",
			check: func(t *testing.T, err error) {
				var he *HTTPError
				require.ErrorAs(t, err, &he)
				assert.LessOrEqual(t, len(he.Body), maxBodyExcerpt)
			}},
		{name: "HTTP 429 with Retry-After",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
			},
			reason: "HTTP 429", detail: "Retry-After 7",
			check: func(t *testing.T, err error) {
				var he *HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, "7", he.RetryAfter)
			}},
		{name: "malformed JSON",
			handler: serveEvents([]byte(malformed)),
			reason:  "malformed JSON", detail: fmt.Sprintf("malformed JSON at byte %d", strings.Index(malformed, "]x")+1),
			check: func(t *testing.T, err error) {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, int64(strings.Index(malformed, "]x")+1), pe.Offset)
				assert.Contains(t, string(pe.Data), `"b"}]x}`)
			}},
		{name: "connection reset mid-stream",
			handler: hijackReset(token + token),
			reason:  "connection reset", detail: "connection reset after 2 tokens",
			check: func(t *testing.T, err error) {
				var se *StreamError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, 2, se.Tokens)
				assert.True(t, se.Responded)
			}},
		{name: "stall hits the idle timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte(token))
				w.(http.Flusher).Flush()
				waitGone(r)
			},
			cfg:    func(c *OpenAIConfig) { c.StreamIdleTimeout = 200 * time.Millisecond },
			reason: "stream idle timeout", detail: "no data for 200ms after 1 token",
			check: func(t *testing.T, err error) {
				var ie *IdleTimeoutError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, 1, ie.Tokens)
			}},
		{name: "stall before headers hits the idle timeout",
			handler: func(w http.ResponseWriter, r *http.Request) { waitGone(r) },
			cfg:     func(c *OpenAIConfig) { c.StreamIdleTimeout = 100 * time.Millisecond },
			reason:  "stream idle timeout", detail: "no data for 100ms after 0 tokens"},
		{name: "slow stream hits the request timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				for r.Context().Err() == nil {
					w.Write([]byte(token))
					w.(http.Flusher).Flush()
					time.Sleep(20 * time.Millisecond)
				}
			},
			cfg: func(c *OpenAIConfig) {
				c.RequestTimeout = 300 * time.Millisecond
				c.StreamIdleTimeout = 10 * time.Second
			},
			reason: "request timeout", detail: "timeout after 300ms",
			check: func(t *testing.T, err error) {
				var te *TimeoutError
				require.ErrorAs(t, err, &te)
				assert.Positive(t, te.Tokens)
			}},
		{name: "cancelled mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte(token))
				w.(http.Flusher).Flush()
				waitGone(r)
			},
			cancel: 200 * time.Millisecond,
			reason: "cancelled", detail: "cancelled after 1 token",
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, context.Canceled)
				var ce *CancelError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, 1, ce.Tokens)
			}},
		{name: "truncated: no finish_reason, no usage, no [DONE]",
			handler: serveEvents([]byte(token + token)),
			reason:  "no finish_reason", detail: "stream ended after 2 tokens without finish_reason",
			check: func(t *testing.T, err error) {
				var ee *EndError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, EndError{Tokens: 2}, *ee)
			}},
		{name: "no [DONE] after finish_reason, RequireDone",
			handler: serveEvents([]byte(token + `data: {"choices":[{"text":"","finish_reason":"length"}]}` + "\n\n")),
			cfg:     func(c *OpenAIConfig) { c.RequireDone = true },
			reason:  "no [DONE]", detail: "stream ended without [DONE] after 1 token (finish_reason or usage seen; RequireDone is set)"},
		{name: "wrong content type",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<html>login page</html>"))
			},
			reason: "wrong content type text/html", detail: "<html>login page</html>",
			check: func(t *testing.T, err error) {
				var ce *ContentTypeError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "text/html; charset=utf-8", ce.ContentType)
			}},
		{name: "server error event",
			handler: serveEvents(cannedStream(t, "vllm-error.sse")),
			reason:  "server error event", detail: "The decoder prompt is too long",
			check: func(t *testing.T, err error) {
				var se *ServerError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, 1, se.Tokens)
			}},
		{name: "llama.cpp error field",
			handler: serveEvents([]byte(token + `error: {"code":400,"message":"context size exceeded","type":"invalid_request_error"}` + "\n\n")),
			reason:  "server error event", detail: "context size exceeded",
			check: func(t *testing.T, err error) {
				var se *ServerError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, 1, se.Tokens)
			}},
		{name: "no token events",
			handler: serveEvents([]byte(`data: {"choices":[{"delta":{"role":"assistant","content":""}}]}` + "\n\n" +
				`data: {"choices":[{"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")),
			reason: "no token events", detail: "finish_reason stop"},
		{name: "line over the cap",
			handler: serveEvents([]byte("data: " + tokenChunk(strings.Repeat("x", 4096)) + "\n\ndata: [DONE]\n\n")),
			cfg:     func(c *OpenAIConfig) { c.MaxLineBytes = 1024 },
			reason:  "line too long", detail: "1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, tt.handler)
			cfg := testConfig(srv.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := newClient(t, kindCompletions, cfg)
			ctx := context.Background()
			if tt.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancel, cancel)
			}
			res := &Result{}
			c.Send(ctx, &Request{Prompt: "p", MaxTokens: 4}, res)
			require.Error(t, res.Err)
			assert.False(t, res.OK())
			assert.Equal(t, tt.reason, ErrorReason(res.Err), "ErrorReason(%v)", res.Err)
			assert.Contains(t, res.Err.Error(), tt.detail)
			assert.False(t, res.Sent.IsZero(), "Sent")
			assert.False(t, res.Done.Before(res.Sent), "Done before Sent")
			if tt.check != nil {
				tt.check(t, res.Err)
			}
		})
	}
}

func TestClientsConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	res := sendOne(t, kindChat, testConfig("http://"+addr), Request{Prompt: "p", MaxTokens: 4})
	var se *StreamError
	require.ErrorAs(t, res.Err, &se)
	assert.False(t, se.Responded)
	assert.Equal(t, "connection refused", ErrorReason(res.Err))
	assert.Contains(t, res.Err.Error(), "request failed")
}

func TestStreamErrorReasons(t *testing.T) {
	assert.Equal(t, "transport error", (&StreamError{Err: errors.New("x")}).Reason())
	assert.Equal(t, "no [DONE]", (&EndError{Finished: true}).Reason())
	assert.Equal(t, "no finish_reason", (&EndError{}).Reason())
	assert.Equal(t, "deadline exceeded", (&CancelError{Err: context.DeadlineExceeded}).Reason())
	assert.Equal(t, "wrong content type (none)", (&ContentTypeError{}).Reason())
}
