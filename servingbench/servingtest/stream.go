package servingtest

import (
	"bufio"
	"context"
	"net/http"
	"time"
)

// streamBuffer is the size of a response's bufio.Writer.
const streamBuffer = 32 << 10

// streamResponse writes the SSE stream in the protocol of the job's
// route: token events as the engine produces tokens (Model.TokensPerChunk
// a flush), then the tail (finish, counts, completion marker), applying
// the job's fault. All events that are ready when the handler wakes are
// written with one flush, and stamped after it.
func (j *job) streamResponse(w http.ResponseWriter, r *http.Request) {
	m := &j.srv.model
	rc := http.NewResponseController(w)
	var out interface{ Write([]byte) (int, error) } = w
	if j.kind == FaultTrickle {
		out = &trickleWriter{w: w, rc: rc, delay: j.fault.Delay, ctx: r.Context(), quit: j.srv.quit}
	}
	bw := bufio.NewWriterSize(out, streamBuffer)
	enc := j.api.newEncoder(bw, j)

	ct := "text/event-stream"
	if nd, ok := j.api.(interface{ streamContentType() string }); ok { // Ollama's NDJSON
		ct = nd.streamContentType()
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	j.ent.update(func(rec *Record) { rec.Status = http.StatusOK })
	if rc.Flush() != nil {
		j.abort(j.srv.goneReason())
		return
	}
	flush := func() bool { return bw.Flush() == nil && rc.Flush() == nil }

	after := 0
	if j.fault != nil {
		after = j.fault.After
	}
	if j.kind == FaultStall {
		after = max(after, 1)
	}
	target, per := j.seq.target, m.TokensPerChunk
	step := per // tokens an event
	if enc.oneTokenAnEvent() {
		step = 1
	}
	sent, chunk, have := 0, 0, 0
	pending := make([]int, 0, 16)
	for sent < target {
		var reason string
		if have, reason = j.wait(r, have); reason != "" {
			j.abort(reason)
			return
		}
		for sent < have {
			n := min(per, have-sent)
			if n < per && have < target {
				break // wait for a full chunk
			}
			for end := sent + n; sent < end; {
				k := min(step, end-sent)
				if chunk == after && j.stops() {
					j.actStop(w, r, bw, rc, enc, pending)
					return
				}
				if chunk == after && j.kind == FaultMalformedJSON {
					enc.malformed()
				}
				enc.tokens(k, sent+k == target, j.kind == FaultHugeLine && chunk == after, j.kind == FaultInvalidUTF8 && chunk == after)
				sent += k
				chunk++
				pending = append(pending, k)
			}
		}
		if len(pending) > 0 {
			ok := flush()
			t := time.Now()
			if !ok {
				j.abort(j.srv.goneReason())
				return
			}
			j.ent.addChunks(t, pending)
			pending = pending[:0]
		}
	}
	if j.stops() {
		// The stream had fewer chunks than Fault.After: act at its end.
		j.actStop(w, r, bw, rc, enc, pending)
		return
	}
	// Recorded before the tail, so a client that has read the completion
	// marker finds it.
	j.ent.update(func(rec *Record) { rec.FinishReason = j.finish })
	enc.tail()
	if !flush() {
		j.abort(j.srv.goneReason())
	}
}

// actStop carries out FaultReset, FaultStall, FaultTruncate or
// FaultErrorEvent after flushing what is written.
func (j *job) actStop(w http.ResponseWriter, r *http.Request, bw *bufio.Writer, rc *http.ResponseController, enc encoder, pending []int) {
	if j.kind == FaultErrorEvent {
		enc.errorEvent("simulated fault " + j.kind.String())
	}
	ok := bw.Flush() == nil && rc.Flush() == nil
	t := time.Now()
	if ok && len(pending) > 0 {
		j.ent.addChunks(t, pending)
	}
	switch j.kind {
	case FaultReset:
		resetConn(w)
		j.abort("fault")
	case FaultTruncate, FaultErrorEvent: // the handler returns: the body ends cleanly
		j.abort("fault")
	default:
		j.abort(j.hold(r))
	}
}

// stops reports whether the job's fault ends the stream early (see actStop).
func (j *job) stops() bool {
	return j.kind == FaultReset || j.kind == FaultStall || j.kind == FaultTruncate || j.kind == FaultErrorEvent
}

// trickleWriter writes one byte at a time, flushing each, delay apart.
type trickleWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	delay time.Duration
	ctx   context.Context
	quit  <-chan struct{}
	timer *time.Timer
}

func (t *trickleWriter) Write(p []byte) (int, error) {
	delay := t.delay
	if delay == 0 {
		delay = 20 * time.Microsecond
	}
	if t.timer == nil {
		t.timer = time.NewTimer(delay)
		t.timer.Stop()
	}
	for i := range p {
		if _, err := t.w.Write(p[i : i+1]); err != nil {
			return i, err
		}
		if err := t.rc.Flush(); err != nil {
			return i, err
		}
		t.timer.Reset(delay)
		select {
		case <-t.timer.C:
		case <-t.ctx.Done():
			return i + 1, t.ctx.Err()
		case <-t.quit:
			return i + 1, http.ErrServerClosed
		}
	}
	return len(p), nil
}
