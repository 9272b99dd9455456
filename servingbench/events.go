package servingbench

import "time"

// eventBuf holds the pooled buffers a request's token events and their
// lags are appended to while it streams, presized for the request's
// MaxTokens+1 events (at most maxPresizedEvents). When the request ends,
// Send copies them to a Result.Events and Result.Lags of their exact
// length (keepEvents), so that a Result keeps no capacity it does not
// use: of 129 presized events of a request of 128 tokens, 12 bytes would
// be kept for nothing, and of a request the server ended early all but
// the events it sent.
type eventBuf struct {
	events []time.Duration
	lags   []uint32
}

// eventBuf returns a pooled buffer with room for maxTokens+1 events.
func (c *StreamClient) eventBuf(maxTokens int) *eventBuf {
	buf, _ := c.events.Get().(*eventBuf)
	if buf == nil {
		buf = &eventBuf{}
	}
	n := min(maxTokens+1, maxPresizedEvents)
	if cap(buf.events) < n {
		buf.events = make([]time.Duration, 0, n)
	}
	if cap(buf.lags) < n {
		buf.lags = make([]uint32, 0, n)
	}
	return buf
}

// keepEvents moves res.Events and res.Lags, appended to buf, to
// ownEvents and ownLags (the Result's slices before the Send, reused when
// they have room, as for a caller that sends many requests into one
// Result) or else to slices of exactly their length, and returns buf to
// the pool. A request without token events keeps an empty Events of
// ownEvents' capacity (nil for a new Result); Lags without entries (read
// times, ArrivalRead, or no events) is nil.
func (c *StreamClient) keepEvents(res *Result, ownEvents []time.Duration, ownLags []uint32, buf *eventBuf) {
	ev, lags := res.Events, res.Lags
	res.Events = keepExact(ownEvents, ev)
	res.Lags = nil
	if len(lags) > 0 {
		res.Lags = keepExact(ownLags, lags)
	}
	if cap(ev) > maxPresizedEvents || cap(lags) > maxPresizedEvents { // grown by a stream longer than MaxTokens+1
		return
	}
	buf.events = ev[:0]
	if cap(lags) > 0 { // the engine drops Lags, and the buffer with it, when the times are read times
		buf.lags = lags[:0]
	}
	c.events.Put(buf)
}

// keepExact returns s copied into own when own has room, else into a new
// slice of len(s) and no more capacity.
func keepExact[E any](own, s []E) []E {
	if cap(own) < len(s) {
		own = make([]E, 0, len(s))
	}
	return append(own[:0], s...)
}
