package servingbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/servingbench/servingbench/internal/ndjson"
	"github.com/servingbench/servingbench/internal/sse"
)

// Errors of the streaming clients. Each type has a Reason method giving a
// short, stable group key without per-request numbers (Report.Errors groups
// failures by it) while Error gives the full detail.

// ErrorReason returns the group key of a failed request's error: the Reason
// of the first error in err's chain that has one, else err.Error().
func ErrorReason(err error) string {
	if err == nil {
		return ""
	}
	var r interface{ Reason() string }
	if errors.As(err, &r) {
		return r.Reason()
	}
	return err.Error()
}

// maxBodyExcerpt bounds the body excerpt kept in errors.
const maxBodyExcerpt = 512

// HTTPError is a response with a status other than 200.
type HTTPError struct {
	StatusCode int
	// Body is an excerpt of the response body (at most 512 bytes).
	Body string
	// RetryAfter is the Retry-After header, if any (429, 503).
	RetryAfter string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.StatusCode)
	if e.RetryAfter != "" {
		s += " (Retry-After " + e.RetryAfter + ")"
	}
	if body := strings.TrimSpace(e.Body); body != "" {
		s += ": " + body
	}
	return s
}

// Reason is "HTTP <code>".
func (e *HTTPError) Reason() string { return fmt.Sprintf("HTTP %d", e.StatusCode) }

// ContentTypeError is a 200 response that is not an event stream.
type ContentTypeError struct {
	ContentType string
	// Body is an excerpt of the response body (at most 512 bytes).
	Body string
}

func (e *ContentTypeError) Error() string {
	return fmt.Sprintf("wrong content type %q, want text/event-stream: %s", e.ContentType, e.Body)
}

// Reason is "wrong content type <media type>".
func (e *ContentTypeError) Reason() string {
	mt, _, _ := strings.Cut(e.ContentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		mt = "(none)"
	}
	return "wrong content type " + mt
}

// ParseError is a data event whose JSON is malformed.
type ParseError struct {
	// Offset is the byte offset of the offending byte in the response body
	// (for a multi-line event, the offset in its joined data from the
	// event's first data byte).
	Offset int64
	// Data is an excerpt of the event data around the offending byte.
	Data []byte
	// Err is the underlying *sse.SyntaxError.
	Err error
}

func (e *ParseError) Error() string {
	msg := e.Err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "malformed JSON") {
		msg = msg[i+2:]
	}
	return fmt.Sprintf("malformed JSON at byte %d: %s: %q", e.Offset, msg, e.Data)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reason is "malformed JSON".
func (e *ParseError) Reason() string { return "malformed JSON" }

// ServerError is an error the server sent inside the stream: vLLM's
// data: {"error": {...}} or {"object": "error", "message": ...}, or
// llama.cpp's "error: {...}" event (Message is then the raw JSON excerpt).
type ServerError struct {
	Message string
	// Tokens is the number of token events received before it.
	Tokens int
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("server error event after %s: %s", tokensText(e.Tokens), e.Message)
}

// Reason is "server error event".
func (e *ServerError) Reason() string { return "server error event" }

// StreamError is a transport failure (the request could not be sent, or the
// connection broke mid-stream) or an SSE framing failure.
type StreamError struct {
	// Tokens is the number of token events received before the failure.
	Tokens int
	// Err is the cause.
	Err error
	// Responded is false when the failure happened before a response
	// arrived (dial error, connection refused, ...).
	Responded bool
}

func (e *StreamError) Error() string {
	switch {
	case e.Err == nil:
		return "stream error after " + tokensText(e.Tokens)
	case !e.Responded:
		return fmt.Sprintf("request failed: %v", e.Err)
	}
	return fmt.Sprintf("%s after %s: %v", e.Reason(), tokensText(e.Tokens), e.Err)
}

func (e *StreamError) Unwrap() error { return e.Err }

// Reason is "connection refused", "connection reset", "line too long",
// "network timeout" or "transport error".
func (e *StreamError) Reason() string {
	var tooLong *sse.LineTooLongError
	var tooLongLine *ndjson.LineTooLongError
	switch {
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(e.Err, syscall.ECONNRESET), errors.Is(e.Err, syscall.EPIPE),
		errors.Is(e.Err, io.ErrUnexpectedEOF), errors.Is(e.Err, io.EOF):
		return "connection reset"
	case errors.As(e.Err, &tooLong), errors.As(e.Err, &tooLongLine):
		return "line too long"
	}
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() {
		return "network timeout"
	}
	return "transport error"
}

// EndError is a response body that ended cleanly, at an event boundary,
// without "data: [DONE]" and either before the stream's finish_reason and
// usage (a truncated stream), or, with OpenAIConfig.RequireDone, after them.
type EndError struct {
	// Tokens is the number of token events received.
	Tokens int
	// Finished is set when a finish_reason or usage chunk had arrived.
	Finished bool
}

func (e *EndError) Error() string {
	if e.Finished {
		return fmt.Sprintf("stream ended without [DONE] after %s (finish_reason or usage seen; RequireDone is set)", tokensText(e.Tokens))
	}
	return fmt.Sprintf("stream ended after %s without finish_reason", tokensText(e.Tokens))
}

// Reason is "no finish_reason" for a truncated stream, "no [DONE]" for a
// complete one under RequireDone.
func (e *EndError) Reason() string {
	if e.Finished {
		return "no [DONE]"
	}
	return "no finish_reason"
}

// IdleTimeoutError is a stream that sent no bytes for Idle
// (OpenAIConfig.StreamIdleTimeout).
type IdleTimeoutError struct {
	Idle   time.Duration
	Tokens int
}

func (e *IdleTimeoutError) Error() string {
	return fmt.Sprintf("no data for %v after %s", e.Idle, tokensText(e.Tokens))
}

// Reason is "stream idle timeout".
func (e *IdleTimeoutError) Reason() string { return "stream idle timeout" }

// TimeoutError is a request that exceeded OpenAIConfig.RequestTimeout.
type TimeoutError struct {
	Timeout time.Duration
	Tokens  int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timeout after %v (%s received)", e.Timeout, tokensText(e.Tokens))
}

// Reason is "request timeout".
func (e *TimeoutError) Reason() string { return "request timeout" }

// CancelError is a request ended by its context (the run was cancelled or
// the caller's deadline passed). It wraps the context's error, so
// errors.Is(err, context.Canceled) holds for a cancellation.
type CancelError struct {
	Tokens int
	Err    error
}

func (e *CancelError) Error() string {
	return fmt.Sprintf("%s after %s: %v", e.Reason(), tokensText(e.Tokens), e.Err)
}

func (e *CancelError) Unwrap() error { return e.Err }

// Reason is "cancelled", or "deadline exceeded" for a caller's deadline.
func (e *CancelError) Reason() string {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	return "cancelled"
}

// NoTokensError is a complete stream ([DONE] seen) without a token event.
type NoTokensError struct {
	// FinishReason is the last finish_reason seen, if any.
	FinishReason string
}

func (e *NoTokensError) Error() string {
	if e.FinishReason != "" {
		return "no token events (finish_reason " + e.FinishReason + ")"
	}
	return "no token events"
}

// Reason is "no token events".
func (e *NoTokensError) Reason() string { return "no token events" }

// excerpt returns at most maxBodyExcerpt bytes of b as a string, marking a
// cut.
func excerpt(b []byte) string {
	if len(b) <= maxBodyExcerpt {
		return string(b)
	}
	return string(b[:maxBodyExcerpt-3]) + "..."
}

// tokensText is "1 token" or "N tokens": the token events received before
// a failure.
func tokensText(n int) string {
	if n == 1 {
		return "1 token"
	}
	return fmt.Sprintf("%d tokens", n)
}
