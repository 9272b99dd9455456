package h1

import (
	"errors"
	"net/http"
	"time"
)

// ErrClosedBeforeResponse is the error of an exchange whose connection
// the server closed before a byte of the response.
var ErrClosedBeforeResponse = errors.New("h1: server closed the connection before sending a response")

// Handler reads one response. Its methods are called on the poller
// goroutine, one at a time, with the connection's lock held: they must
// not block, and must not call the Transport.
type Handler interface {
	// Header is called when the response head arrived (1xx heads are
	// skipped). It returns what to do with the body.
	Header(resp *http.Response) Action
	// Body is called with the next bytes of the body, decoded from its
	// framing, valid only during the call; read is when the read that
	// brought them returned and arrival the kernel's receive time of its
	// last segment, as Unix nanoseconds of CLOCK_REALTIME (0 when the
	// bytes carry none). It returns what to do with the rest of the body.
	Body(p []byte, read time.Time, arrival int64) Action
}

// Action is what a Handler wants done with the rest of a body.
type Action int

const (
	// Continue hands the handler the next bytes of the body.
	Continue Action = iota
	// Drain reads the rest of the body without handing it on, within
	// limits (64 KiB, 1 s), so that the connection is reused.
	Drain
	// Close ends the exchange and closes the connection.
	Close
)

// Info is what Do reports about an exchange besides its error.
type Info struct {
	// Reused reports that the request went out on a pooled connection.
	Reused bool
	// Responded reports that a byte of the response arrived.
	Responded bool
	// BodyEnded reports that the body was read to its end (its framing's
	// end, or the close of a close-delimited body), drained or not, as
	// opposed to an error or a Close.
	BodyEnded bool
}

// Mode is the connection an exchange goes out on.
type Mode int

const (
	// Pooled takes an idle connection, or dials one; it is kept after.
	Pooled Mode = iota
	// Dial dials a new connection, kept after.
	Dial
	// Once dials a new connection, closed after the exchange (its head
	// should say "Connection: close").
	Once
)
