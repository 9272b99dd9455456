package servingtest

import (
	"errors"
	"fmt"
	"time"
)

// FaultKind is a kind of injected failure or unusual-but-valid stream.
type FaultKind uint8

const (
	// FaultNone: a normal response.
	FaultNone FaultKind = iota
	// FaultBadRequest: HTTP 400 with an OpenAI-style JSON error body.
	FaultBadRequest
	// FaultRateLimit: HTTP 429 with a Retry-After header (Fault.RetryAfter,
	// whole seconds, at least 1) and a JSON error body.
	FaultRateLimit
	// FaultInternal: HTTP 500 with a JSON error body.
	FaultInternal
	// FaultUnavailable: HTTP 503 with a JSON error body.
	FaultUnavailable
	// FaultReset: after Fault.After token chunks the connection is hijacked
	// and closed with SO_LINGER 0, so the client sees a TCP RST.
	FaultReset
	// FaultMalformedJSON: after Fault.After token chunks a data line with
	// truncated JSON is sent; the stream then goes on normally.
	FaultMalformedJSON
	// FaultStall: after max(Fault.After,1) token chunks the server sends
	// nothing more and holds the connection open until the client goes away
	// or the server closes.
	FaultStall
	// FaultNoDone: the stream is complete (tokens, finish, usage) but ends
	// without "data: [DONE]". OpenAI only (see FaultKind.AppliesTo).
	FaultNoDone
	// FaultHugeLine: token chunk number Fault.After (0-based) carries an
	// extra "padding" field of 2 MiB, making a valid data line longer than
	// 2 MiB. The request succeeds for a client that accepts long lines.
	FaultHugeLine
	// FaultInvalidUTF8: token chunk number Fault.After has the bytes
	// 0xff 0xfe in its text; the token count is unchanged.
	FaultInvalidUTF8
	// FaultPings: a ": ping" comment line precedes every event. The stream
	// is valid SSE and the request succeeds.
	FaultPings
	// FaultTrickle: the response body is written one byte at a time, each
	// flushed, Fault.Delay apart (default 20µs). Valid; the request succeeds.
	FaultTrickle
	// FaultWrongContentType: HTTP 200 with Content-Type application/json
	// and a JSON error body instead of an event stream.
	FaultWrongContentType
	// FaultGoAway: the request is queued, then the server shuts down as
	// Server.Close does: the listener and every connection are closed,
	// including those of requests still waiting in the queue.
	FaultGoAway
	// FaultTruncate: after Fault.After token chunks the response ends
	// cleanly at an event boundary, without finish_reason, usage or
	// "data: [DONE]": a stream cut short that no framing error reveals.
	FaultTruncate
	// FaultErrorEvent: after Fault.After token chunks the server sends an
	// error inside the stream, as each protocol's servers do (vLLM's
	// data: {"error": {...}}, TGI's data:{"error": ..., "error_type":
	// ...}, llama.cpp's "error: {...}" event), and ends the response
	// cleanly.
	FaultErrorEvent

	numFaultKinds
)

var faultNames = [numFaultKinds]string{
	FaultNone:             "none",
	FaultBadRequest:       "http-400",
	FaultRateLimit:        "http-429",
	FaultInternal:         "http-500",
	FaultUnavailable:      "http-503",
	FaultReset:            "reset",
	FaultMalformedJSON:    "malformed-json",
	FaultStall:            "stall",
	FaultNoDone:           "no-done",
	FaultHugeLine:         "huge-line",
	FaultInvalidUTF8:      "invalid-utf8",
	FaultPings:            "pings",
	FaultTrickle:          "trickle",
	FaultWrongContentType: "wrong-content-type",
	FaultGoAway:           "go-away",
	FaultTruncate:         "truncate",
	FaultErrorEvent:       "error-event",
}

func (k FaultKind) String() string {
	if k < numFaultKinds {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", uint8(k))
}

// HugeLineSize is the size of FaultHugeLine's padding.
const HugeLineSize = 2 << 20

// Fault selects requests and says what goes wrong with them. A Fault with
// neither Every nor Match selects every request; with both, a request must
// satisfy both.
type Fault struct {
	Kind FaultKind
	// Every selects every k-th request: those whose 1-based index (the
	// count of completion requests received, Record.Index) is a multiple
	// of Every. 0: not used.
	Every int
	// Match selects requests by index and prompt. Nil: not used. It is
	// called from handler goroutines and must be safe for concurrent use.
	Match func(i int, prompt string) bool
	// After is the number of token chunks sent before the fault acts
	// (FaultReset, FaultMalformedJSON, FaultStall, FaultHugeLine,
	// FaultInvalidUTF8, FaultTruncate, FaultErrorEvent).
	After int
	// RetryAfter is FaultRateLimit's Retry-After; 0 means 1s.
	RetryAfter time.Duration
	// Delay is FaultTrickle's pause between bytes; 0 means 20µs. It is not
	// scaled by Model.Speed.
	Delay time.Duration
}

func (f Fault) validate() error {
	switch {
	case f.Kind == FaultNone || f.Kind >= numFaultKinds:
		return fmt.Errorf("Kind must be a fault kind, got %v", f.Kind)
	case f.Every < 0:
		return fmt.Errorf("Every must be >= 0, got %d", f.Every)
	case f.After < 0:
		return fmt.Errorf("After must be >= 0, got %d", f.After)
	case f.RetryAfter < 0 || f.Delay < 0:
		return errors.New("RetryAfter and Delay must be >= 0")
	}
	return nil
}

func (f *Fault) selects(i int, prompt string) bool {
	if f.Every > 0 && i%f.Every != 0 {
		return false
	}
	return f.Match == nil || f.Match(i, prompt)
}

// pickFault returns the first fault selecting request i, or nil.
func pickFault(faults []Fault, i int, prompt string) *Fault {
	for k := range faults {
		if faults[k].selects(i, prompt) {
			return &faults[k]
		}
	}
	return nil
}

// statusFaults maps the status-code faults to their code and error type.
var statusFaults = map[FaultKind]struct {
	code int
	typ  string
}{
	FaultBadRequest:  {400, "BadRequestError"},
	FaultRateLimit:   {429, "RateLimitError"},
	FaultInternal:    {500, "InternalServerError"},
	FaultUnavailable: {503, "ServiceUnavailableError"},
}

// streamOnly reports whether kind only changes a streamed response; such
// faults leave a non-streaming response as it is (recorded as FaultNone).
func (k FaultKind) streamOnly() bool {
	switch k {
	case FaultMalformedJSON, FaultNoDone, FaultHugeLine, FaultInvalidUTF8, FaultPings, FaultTrickle, FaultTruncate, FaultErrorEvent:
		return true
	}
	return false
}
