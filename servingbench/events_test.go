package servingbench

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadJSONEventOffsets: a detailed result file (--save-detailed) read
// back gives every successful request the Events offsets it was written
// with, to the nanosecond: the ttfts and the itls are seconds with
// Python's repr of the float, which reads back to the same nanoseconds,
// and ReadJSON adds the gaps up in nanoseconds. Offsets of 1 ns, a
// nanosecond short of a second, an hour and a nanosecond, runs of equal
// events and random ones; a failed request reads back with no events.
func TestReadJSONEventOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	mk := func(sentMS int, ev ...time.Duration) *Result {
		sent := summarizeT0.Add(time.Duration(sentMS) * time.Millisecond)
		r := &Result{Sent: sent, Scheduled: sent, SlotAcquired: sent, Events: ev, Done: sent.Add(ev[len(ev)-1] + 1),
			InputTokens: 3, InputSource: SourceUsage, OutputTokens: len(ev), OutputSource: SourceUsage}
		return r
	}
	random := make([]time.Duration, 200)
	for i := range random {
		random[i] = time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		if i > 0 {
			random[i] += random[i-1]
		}
	}
	failed := &Result{Sent: summarizeT0, Done: summarizeT0.Add(time.Second), Err: errors.New("HTTP 503: overloaded")}
	results := []*Result{
		mk(0, 1),
		mk(3, time.Second-1, time.Second-1, time.Second, time.Hour+1),
		failed,
		mk(7, 123_456_789, 123_456_790, 2_000_000_003),
		mk(1234, random...),
	}
	for i, r := range results {
		r.Index = i
	}
	rep := Summarize(summarizeT0, summarizeT0.Add(2*time.Hour), results, SLO{})
	got, err := ReadJSON(bytes.NewReader(writeJSON(t, rep, JSONOptions{Detailed: true})))
	require.NoError(t, err)
	require.Len(t, got.Results, len(results))
	for i, r := range results {
		g := got.Results[i]
		if !r.OK() {
			assert.Empty(t, g.Events, "request %d: failed, no events", i)
			continue
		}
		assert.Equal(t, r.Events, g.Events, "request %d: Events offsets read back", i)
		assert.Equal(t, r.Sent.Sub(summarizeT0), g.Sent.Sub(got.Date), "request %d: Sent - Date", i)
	}
}

// TestSendEventsExact: Send keeps a Result's events in a slice of their
// length (the buffer they were appended to, presized for MaxTokens+1,
// goes back to the client's pool), reuses the Result's own slice when it
// has room, as for a caller sending many requests into one Result, and
// leaves no events after a request that failed before any; Lags alike
// (nil when the times are read times).
func TestSendEventsExact(t *testing.T) {
	var fail atomic.Bool
	srv := newStreamServer(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(cannedStream(t, "vllm-completions.sse"))
	})
	c := newClient(t, kindCompletions, testConfig(srv.URL))
	res := &Result{}
	c.Send(t.Context(), &Request{Prompt: "p", MaxTokens: 100}, res)
	require.NoError(t, res.Err)
	require.Len(t, res.Events, 8)
	assert.Equal(t, 8, cap(res.Events), "cap(Events) after a request of 100 tokens that got 8")
	checkLags := func() {
		t.Helper()
		if res.Arrival != ArrivalKernel {
			assert.Nil(t, res.Lags, "Lags with read times")
			return
		}
		assert.Len(t, res.Lags, 8)
		assert.Equal(t, 8, cap(res.Lags), "cap(Lags)")
	}
	checkLags()
	first := &res.Events[0]

	c.Send(t.Context(), &Request{Prompt: "p", MaxTokens: 100}, res)
	require.NoError(t, res.Err)
	require.Len(t, res.Events, 8)
	assert.Same(t, first, &res.Events[0], "the Result's own slice, reused")
	checkLags()

	fail.Store(true)
	c.Send(t.Context(), &Request{Prompt: "p", MaxTokens: 100}, res)
	require.Error(t, res.Err)
	assert.Empty(t, res.Events, "no events after HTTP 503")
	assert.Nil(t, res.Lags, "no lags after HTTP 503")
	fresh := &Result{}
	c.Send(t.Context(), &Request{Prompt: "p", MaxTokens: 100}, fresh)
	require.Error(t, fresh.Err)
	assert.Nil(t, fresh.Events, "a new Result that got no events holds no slice")
}
