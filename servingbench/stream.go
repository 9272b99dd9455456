package servingbench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/servingbench/servingbench/internal/ndjson"
	"github.com/servingbench/servingbench/internal/rxtime"
	"github.com/servingbench/servingbench/internal/sse"
)

// drainGrace bounds the wait for the end of the body after the stream's
// completion marker.
const drainGrace = time.Second

// stream is the per-request state, pooled so that buffers are reused.
type stream struct {
	body   []byte
	frame  framing
	rd     sse.Reader    // frameSSE
	nd     ndjson.Reader // frameNDJSON
	dec    decoder
	ev     event
	text   []byte
	finish []byte
	split  reasoningSplit
	tr     timedBody
	// The message state of the response being consumed (see message).
	usage    usageCounts
	finished bool
	// fx is the state of a request sent through the poller client.
	fx fastExchange

	// What the transport reported about the current attempt: whether it
	// went out on a pooled connection, and whether a response byte came.
	trace     *httptrace.ClientTrace
	reused    atomic.Bool
	responded atomic.Bool
	// rx is the current attempt's connection when it reads with kernel
	// receive timestamps (see timedBody), nil when not.
	rx *rxtime.Conn
}

func newStream(dec decoder, f framing) *stream {
	st := &stream{dec: dec, frame: f}
	st.trace = &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			st.reused.Store(info.Reused)
			st.rx = nil
			if rc := rxtime.Of(info.Conn); rc != nil && rc.Kernel() {
				st.rx = rc
			}
		},
		GotFirstResponseByte: func() { st.responded.Store(true) },
	}
	return st
}

// maxPresizedEvents caps the Events capacity allocated up front.
const maxPresizedEvents = 1 << 16

// maxPooledBytes drops streams whose buffers grew beyond it.
const maxPooledBytes = 1 << 20

// timedBody stamps every Read of the response body: at with the arrival
// time of the bytes it returned, lag with how late the read came back.
// All the events decoded from one read share its time.
//
// With kernel receive timestamps (rx, see rxtime), the arrival is the
// kernel's CLOCK_REALTIME stamp of the last segment read, carried over to
// the monotonic clock of Sent: read is time.Now right after the Read, lag
// is read's wall clock minus the stamp, and at is read minus lag. Two wall
// clock readings microseconds to milliseconds apart are subtracted, so
// only a step of the wall clock between a segment's arrival and its read
// distorts that read's time; the damage is bounded: a lag below zero (the
// clock stepped back) is taken as zero, and an arrival before the last
// read's, or before Sent, is taken as that time (the clock stepped
// forward), so event times never run backwards. A read whose bytes carry
// no stamp (the kernel stamps only while some socket asks for it; see
// rxtime.Hold) falls back to its read time, and the request's times are
// then read times (unstamped).
type timedBody struct {
	r  io.Reader
	rx *rxtime.Conn // the connection Read reads, when it has kernel times
	// timed is set when the reads carry kernel times: through rx, or
	// handed to mark by the poller client (see fast.go).
	timed bool
	read  time.Time // when the last Read returned
	at    time.Time // arrival of the bytes of the last Read
	lag   time.Duration
	floor time.Time // no arrival is earlier: Sent, then the last arrival
	// unstamped is set once a read of the response had no kernel time.
	unstamped bool
	watch     *idleWatch
}

func (t *timedBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		var arrival int64
		if t.rx != nil {
			arrival = t.rx.Arrival()
		}
		t.mark(time.Now(), arrival)
	}
	return n, err
}

// mark records a read that returned at read, whose bytes the kernel
// stamped with arrival (Unix nanoseconds, 0 for none).
func (t *timedBody) mark(read time.Time, arrival int64) {
	t.read = read
	t.at, t.lag = read, 0
	if t.timed {
		t.stamp(arrival)
	}
	t.floor = t.at
	if t.watch != nil {
		t.watch.last.Store(int64(read.Sub(t.watch.sent)))
	}
}

// stamp sets at and lag from the kernel's time of the last read.
func (t *timedBody) stamp(arrival int64) {
	if arrival == 0 {
		t.unstamped = true
		return
	}
	lag := max(0, time.Duration(t.read.UnixNano()-arrival))
	at := t.read.Add(-lag)
	if at.Before(t.floor) {
		at, lag = t.floor, t.read.Sub(t.floor)
	}
	t.at, t.lag = at, lag
}

// kernel reports whether every read of the response so far had its
// kernel receive time.
func (t *timedBody) kernel() bool { return t.timed && !t.unstamped }

// saturate converts a lag to Result.Lags' unit, nanoseconds saturated at
// math.MaxUint32.
func saturate(lag time.Duration) uint32 {
	return uint32(min(lag, math.MaxUint32))
}

// read consumes the response and fills res; it returns the request's error.
func (c *StreamClient) read(parent, ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response,
	st *stream, watch *idleWatch, req *Request, res *Result) error {
	if !c.streams(resp.StatusCode, resp.Header) {
		body := c.readExcerpt(resp.Body)
		drainClose(resp.Body)
		res.Done = time.Now()
		return responseError(resp.StatusCode, resp.Header, body)
	}
	st.tr = timedBody{r: resp.Body, rx: st.rx, timed: st.rx != nil, floor: res.Sent, watch: watch}
	st.begin(&st.tr, c.maxLine)
	failure := c.consume(parent, ctx, st, res)
	res.Done = time.Now()
	if failure != nil {
		cancel(failure) // abort the connection rather than drain a broken stream
		resp.Body.Close()
	} else {
		// The stream is complete: read the end of the body so the
		// connection is reused.
		t := time.AfterFunc(drainGrace, func() { cancel(errDrainTimeout) })
		drainClose(resp.Body)
		t.Stop()
	}
	return c.conclude(st, req, res, failure)
}

// streams reports whether a response with status and header is the
// stream: 200 with the framing's content type.
func (c *StreamClient) streams(status int, header http.Header) bool {
	return status == http.StatusOK && c.proto.framing.accepts(header.Get("Content-Type"))
}

// responseError is the error of a response that is not the stream (see
// streams), with its body's excerpt.
func responseError(status int, header http.Header, body string) error {
	if status != http.StatusOK {
		return &HTTPError{StatusCode: status, Body: body, RetryAfter: header.Get("Retry-After")}
	}
	return &ContentTypeError{ContentType: header.Get("Content-Type"), Body: body}
}

// conclude completes res once its stream was consumed, through either
// transport: the source of its event times, its token counts (those of
// the server, or the tokenizer's), its text, and its error, failure or a
// stream without token events.
func (c *StreamClient) conclude(st *stream, req *Request, res *Result, failure error) error {
	if st.tr.kernel() {
		res.Arrival = ArrivalKernel
	} else {
		res.Lags = nil
	}
	if failure != nil {
		c.countFailed(req, res, st.usage)
		return failure
	}
	if c.cfg.KeepText {
		res.Text = string(st.text)
	}
	c.count(req, res, st.usage, st)
	if len(res.Events) == 0 {
		return &NoTokensError{FinishReason: string(st.finish)}
	}
	return nil
}

// consume reads the messages of the stream into res.Events and st (text,
// finish reason, the counts the server reported) until its end; it
// returns the request's error.
func (c *StreamClient) consume(parent, ctx context.Context, st *stream, res *Result) error {
	for {
		data, err := st.next()
		if over, failure, rerr := c.message(st, res, data, err); over {
			if rerr != nil {
				failure = c.classify(parent, ctx, rerr, len(res.Events), true)
			}
			return failure
		}
	}
}

// begin readies st for the stream of a new response, read from r: the
// framing's reader, the decoder, the text, finish reason and reasoning
// split, and the message state (see message).
func (st *stream) begin(r io.Reader, maxLine int) {
	st.readFrom(r, maxLine)
	st.dec.reset()
	st.text = st.text[:0]
	st.finish = st.finish[:0]
	st.split.reset()
	st.usage, st.finished = usageCounts{}, false
}

// message takes in one result of st.next: a message's data, or the error
// that ended the body. It reports whether the stream is over and, if so,
// its failure, or the read error (rerr) the caller classifies. The counts
// the server reported and whether the stream finished accumulate in st.
func (c *StreamClient) message(st *stream, res *Result, data []byte, err error) (over bool, failure, rerr error) {
	if errors.Is(err, io.EOF) {
		// The body ended at an event boundary without the completion
		// marker: complete once the finish reason or the usage arrived.
		if st.finished && c.proto.bodyEnds {
			return true, nil, nil
		}
		if st.finished && !c.cfg.RequireDone {
			res.NoDone = true
			return true, nil, nil
		}
		return true, &EndError{Tokens: len(res.Events), Finished: st.finished}, nil
	}
	if err != nil {
		return true, nil, err
	}
	if len(data) == 0 {
		return false, nil, nil
	}
	if st.frame == frameSSE && st.rd.ErrorEvent() { // llama.cpp: "error: {json}"
		return true, &ServerError{Message: excerpt(c.maskKey(data)), Tokens: len(res.Events)}, nil
	}
	ev := &st.ev
	*ev = event{}
	if err := st.dec.decode(data, ev); err != nil {
		return true, newParseError(err, c.maskKey(data), st.offset()), nil
	}
	if ev.serverError {
		return true, &ServerError{Message: string(c.maskKey(ev.errorMessage)), Tokens: len(res.Events)}, nil
	}
	if ev.token {
		res.Events = append(res.Events, st.tr.at.Sub(res.Sent))
		if st.tr.timed {
			res.Lags = append(res.Lags, saturate(st.tr.lag))
		}
		st.split.event(ev, len(res.Events)-1)
		if c.cfg.KeepText || c.cfg.Tokenizer != nil {
			st.text = st.split.appendText(st.text, st.dec, ev, c.cfg.Tokenizer != nil)
		}
	}
	st.usage.add(ev)
	if ev.finish != nil {
		st.finish = append(st.finish[:0], ev.finish...)
	}
	st.finished = st.finished || len(st.finish) > 0 || ev.finished || st.usage.any()
	// After its counts: llama.cpp's stop and Ollama's done carry them.
	return ev.end, nil, nil
}

// reset makes the reader of the stream's framing read st.tr.
func (st *stream) reset(maxLine int) { st.readFrom(&st.tr, maxLine) }

// readFrom makes the reader of the stream's framing read r.
func (st *stream) readFrom(r io.Reader, maxLine int) {
	if st.frame == frameNDJSON {
		st.nd.Reset(r, maxLine)
		return
	}
	st.rd.Reset(r, maxLine)
}

// next returns the next framed message of the body: an SSE event's data
// or an NDJSON line. The slice is valid until the next call.
func (st *stream) next() ([]byte, error) {
	if st.frame == frameNDJSON {
		return st.nd.Next()
	}
	return st.rd.Next()
}

// offset is the stream offset of the message last returned by next.
func (st *stream) offset() int64 {
	if st.frame == frameNDJSON {
		return st.nd.Offset()
	}
	return st.rd.Offset()
}

// bufferSize is the size of the stream's read buffers.
func (st *stream) bufferSize() int { return st.rd.BufferSize() + st.nd.BufferSize() }

// classify turns a transport error into the client's error types, using the
// cause of the request context.
func (c *StreamClient) classify(parent, ctx context.Context, err error, tokens int, responded bool) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errIdleTimeout):
		return &IdleTimeoutError{Idle: c.cfg.StreamIdleTimeout, Tokens: tokens}
	case errors.Is(cause, errRequestTimeout):
		return &TimeoutError{Timeout: c.cfg.RequestTimeout, Tokens: tokens}
	case parent.Err() != nil:
		return &CancelError{Tokens: tokens, Err: parent.Err()}
	}
	if cl := ClientLimitOf(err); cl != nil && !responded { // a dial out of descriptors: ours, not the server's
		return cl
	}
	if te := tlsErrorOf(err, c.haveCert, c.certAsked.Load()); te != nil && !responded {
		return te
	}
	return &StreamError{Tokens: tokens, Err: err, Responded: responded}
}

func newParseError(err error, data []byte, eventOffset int64) *ParseError {
	pe := &ParseError{Offset: eventOffset, Err: err}
	var se *sse.SyntaxError
	at := 0
	if errors.As(err, &se) {
		at = se.Offset
		pe.Offset += int64(at)
	}
	lo, hi := max(0, at-32), min(len(data), at+32)
	pe.Data = bytes.Clone(data[lo:hi])
	return pe
}

func isEventStream(contentType string) bool { return isMediaType(contentType, "text/event-stream") }

// isMediaType reports whether contentType's media type, its parameters
// left out, is mt (case-insensitive, as RFC 9110 has it).
func isMediaType(contentType, mt string) bool {
	got, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(got), mt)
}

// idleWatch cancels a request when no body bytes arrived for idle. The
// reader stores the time of its last read; the timer re-arms itself for the
// remaining time instead of being reset on every read.
type idleWatch struct {
	sent   time.Time
	idle   time.Duration
	last   atomic.Int64 // time of the last read, as an offset from sent
	done   atomic.Bool
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func startIdleWatch(sent time.Time, idle time.Duration, cancel context.CancelCauseFunc) *idleWatch {
	w := &idleWatch{sent: sent, idle: idle, cancel: cancel}
	w.timer = time.AfterFunc(idle, w.fire)
	return w
}

func (w *idleWatch) fire() {
	if w.done.Load() {
		return
	}
	quiet := time.Since(w.sent) - time.Duration(w.last.Load())
	if quiet >= w.idle {
		w.cancel(errIdleTimeout)
		return
	}
	w.timer.Reset(w.idle - quiet)
}

func (w *idleWatch) stop() {
	w.done.Store(true)
	w.timer.Stop()
}

// readExcerpt reads up to maxBodyExcerpt bytes of an error body, with the
// API key and the secret headers' values masked. It reads as far as a
// secret that starts inside the excerpt could reach, so that no part of
// it survives the cut.
func (c *StreamClient) readExcerpt(r io.Reader) string {
	buf := make([]byte, c.excerptLen())
	n, _ := io.ReadFull(r, buf)
	return excerpt(c.maskKey(buf[:n]))
}

// excerptLen is how much of an error body is read for its excerpt: as
// far as a secret that starts inside the excerpt could reach.
func (c *StreamClient) excerptLen() int {
	if len(c.secrets) > 0 {
		return maxBodyExcerpt + len(c.secrets[0])
	}
	return maxBodyExcerpt + 1
}

// maskKey overwrites every occurrence of the API key, and of the values
// of the secret headers (IsSecretHeader), in b with '*', in place,
// keeping the length so that offsets into b stay valid. Servers may echo
// the request's headers in an error body or event, and such text ends up
// in errors, reports and result files.
func (c *StreamClient) maskKey(b []byte) []byte {
	for _, key := range c.secrets { // longest first: a credential inside its header value is masked with it
		for i := 0; ; {
			j := bytes.Index(b[i:], key)
			if j < 0 {
				break
			}
			i += j
			for k := range len(key) {
				b[i+k] = '*'
			}
			i += len(key)
		}
	}
	return b
}

// maxDrain bounds what is read from a body only to reuse its connection.
const maxDrain = 64 << 10

// drainClose reads at most maxDrain more bytes of body and closes it.
func drainClose(body io.ReadCloser) {
	io.CopyN(io.Discard, body, maxDrain)
	body.Close()
}
