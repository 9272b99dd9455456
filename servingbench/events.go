package servingbench

import "time"

// eventBuf is the pooled buffer a request's token events are appended to
// while it streams, presized for the request's MaxTokens+1 events (at most
// maxPresizedEvents). When the request ends, Send copies the events to a
// Result.Events of their exact length (keepEvents), so that a Result keeps
// no capacity it does not use: of 129 presized events of a request of 128
// tokens, 8 bytes would be kept for nothing, and of a request the server
// ended early all but the events it sent.
type eventBuf struct {
	events []time.Duration
}

// eventBuf returns a pooled buffer with room for maxTokens+1 events.
func (c *StreamClient) eventBuf(maxTokens int) *eventBuf {
	buf, _ := c.events.Get().(*eventBuf)
	if buf == nil {
		buf = &eventBuf{}
	}
	if n := min(maxTokens+1, maxPresizedEvents); cap(buf.events) < n {
		buf.events = make([]time.Duration, 0, n)
	}
	return buf
}

// keepEvents moves res.Events, appended to buf, to own (the Result's
// Events before the Send, reused when it has room, as for a caller that
// sends many requests into one Result) or else to a slice of exactly their
// length, and returns buf to the pool. A request without token events gets
// an empty Events of own's capacity (nil for a new Result). Lags, filled
// by the engine beside Events, is copied to a slice of its length when it
// has spare capacity.
func (c *StreamClient) keepEvents(res *Result, own []time.Duration, buf *eventBuf) {
	ev := res.Events
	if cap(own) < len(ev) {
		own = make([]time.Duration, 0, len(ev))
	}
	res.Events = append(own[:0], ev...)
	if cap(res.Lags) > len(res.Lags) {
		res.Lags = append(make([]uint32, 0, len(res.Lags)), res.Lags...)
	}
	if cap(ev) > maxPresizedEvents { // grown by a stream longer than its MaxTokens+1: not worth keeping
		return
	}
	buf.events = ev[:0]
	c.events.Put(buf)
}
