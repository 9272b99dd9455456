package servingbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// cancelGrace bounds the time from the cancellation of a run to the return
// of Run: generous, for a loaded machine with the race detector (in a
// synctest bubble, the return takes no time on the bubble's clock).
const cancelGrace = 2 * time.Second

// TestRunCancelMidRun cancels runs against the simulated server while
// requests are in flight, waiting for the arrival schedule and waiting for a
// concurrency slot. Run must stop dispatching, end the requests in flight,
// and return the report of what was measured, marked partial.
func TestRunCancelMidRun(t *testing.T) {
	tests := []struct {
		name           string
		arrival        servingbench.Arrival
		maxConcurrency int
		allSent        bool // every request is sent at once, before the cancellation
	}{
		{"waiting-for-arrival", servingbench.Poisson(40, 1), 0, false},
		{"waiting-for-slot", nil, 8, false},
		{"all-in-flight", nil, 0, true},
	}
	for _, tt := range tests {
		for _, ck := range clientKinds {
			t.Run(tt.name+"/"+ck.name, func(t *testing.T) {
				defer checkNoLeaks(t)()
				testRunCancel(t, ck.new, tt.arrival, tt.maxConcurrency, tt.allSent)
			})
		}
	}
}

// testRunCancel runs in a synctest bubble, against a server on an
// in-memory listener: the cancellation comes 590 ms into the run on the
// bubble's clock, whatever the machine's load, so the run is in the same
// state every time (short requests done, long ones streaming, later ones
// waiting).
func testRunCancel(t *testing.T, newClient func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error),
	arrival servingbench.Arrival, maxConcurrency int, allSent bool) {
	synctest.Test(t, func(t *testing.T) {
		testRunCancelInBubble(t, newClient, arrival, maxConcurrency, allSent)
	})
}

func testRunCancelInBubble(t *testing.T, newClient func(servingbench.OpenAIConfig) (*servingbench.StreamClient, error),
	arrival servingbench.Arrival, maxConcurrency int, allSent bool) {
	// A slow model: 20ms a step; long requests take 4s, short ones 40ms.
	m := servingtest.Model{Name: "sim-slow", DecodeBase: 20 * time.Millisecond}
	srv := newBubbleServer(t, m)
	cfg := bubbleConfig(srv)
	cfg.IgnoreEOS = true
	client, err := newClient(cfg)
	require.NoError(t, err)
	defer client.Close()

	const n = 400
	reqs := uniqueRequests(n, 200)
	for i := range reqs {
		if i%4 == 0 {
			reqs[i].MaxTokens = 2 // some requests end before the cancellation
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancelledAt := make(chan time.Time, 1)
	timer := time.AfterFunc(590*time.Millisecond, func() { // between two 20ms steps
		cancelledAt <- time.Now()
		cancel()
	})
	defer timer.Stop()
	rep, err := servingbench.Run(ctx, servingbench.Config{
		Client: client, Requests: reqs, Arrival: arrival, MaxConcurrency: maxConcurrency, Model: m.Name,
	})
	returned := time.Now()
	require.NoError(t, err, "Run of a cancelled run returns the partial report, not an error")
	var cancelled time.Time
	select {
	case cancelled = <-cancelledAt:
	default:
		t.Fatal("Run returned before the cancellation")
	}
	assert.Less(t, returned.Sub(cancelled), cancelGrace, "Run returned %v after the cancellation", returned.Sub(cancelled))

	assert.True(t, rep.Partial, "Report.Partial")
	if allSent {
		assert.Len(t, rep.Results, n, "requests sent")
	} else {
		assert.Less(t, len(rep.Results), n, "requests sent, want fewer than all: dispatch must stop")
	}
	assert.Equal(t, len(rep.Results), rep.Completed+rep.Failed, "Completed %d + Failed %d", rep.Completed, rep.Failed)
	assert.Equal(t, n, rep.NumPrompts, "Report.NumPrompts")
	assert.Positive(t, rep.Completed, "requests completed before the cancellation")
	assert.Positive(t, rep.Failed, "requests cancelled in flight")
	for _, r := range rep.Results {
		require.NotNil(t, r)
		if r.OK() {
			// A success is a complete stream, even when its end was read
			// just after the cancellation.
			assert.Len(t, r.Events, reqs[r.Index].MaxTokens, "request %d: token events of a success", r.Index)
			assert.Equal(t, reqs[r.Index].MaxTokens, r.OutputTokens, "request %d: OutputTokens of a success", r.Index)
			continue
		}
		var ce *servingbench.CancelError
		assert.ErrorAs(t, r.Err, &ce, "request %d", r.Index)
		assert.ErrorIs(t, r.Err, context.Canceled, "request %d", r.Index)
		assert.Equal(t, "cancelled", servingbench.ErrorReason(r.Err), "request %d", r.Index)
		assert.Less(t, r.Done.Sub(cancelled), cancelGrace, "request %d ended %v after the cancellation", r.Index, r.Done.Sub(cancelled))
		assert.Equal(t, len(r.Events), ce.Tokens, "request %d: CancelError.Tokens vs events", r.Index)
	}
	assert.True(t, hasCancelWarning(rep.Warnings), "Report.Warnings = %v, want the cancellation", rep.Warnings)

	// The server saw no more requests than were dispatched (a request
	// cancelled before its bytes left may never reach it), at least every
	// completed one, and each one it saw ended.
	sent := len(rep.Results)
	assert.Eventually(t, func() bool {
		recs := srv.Truth()
		for _, r := range recs {
			if r.Done.IsZero() {
				return false
			}
		}
		return len(recs) <= sent && len(recs) >= rep.Completed
	}, 5*time.Second, 10*time.Millisecond, "the server's requests all end, and number between %d completed and %d sent", rep.Completed, sent)
	for _, rec := range srv.Truth() {
		if rec.Aborted != "" {
			assert.Equal(t, "client gone", rec.Aborted, "server's request %d", rec.Index)
		}
	}

	// The reports say so.
	var text bytes.Buffer
	require.NoError(t, servingbench.WriteText(&text, rep, servingbench.TextOptions{}))
	assert.Regexp(t, `(?m)^Partial:\s+yes \(cancelled\)`, text.String())
	assert.Regexp(t, `(?m)^  cancelled:\s+\d+`, text.String())
	var js bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&js, rep, servingbench.JSONOptions{Detailed: true}))
	var file struct {
		Partial     bool           `json:"partial"`
		Completed   int            `json:"completed"`
		Failed      int            `json:"failed"`
		ErrorCounts map[string]int `json:"error_counts"`
		Errors      []string       `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &file))
	assert.True(t, file.Partial, "JSON partial")
	assert.Equal(t, rep.Completed, file.Completed)
	assert.Equal(t, rep.Failed, file.Failed)
	assert.Equal(t, rep.Failed, file.ErrorCounts["cancelled"], "JSON error_counts")
	assert.Len(t, file.Errors, sent, "JSON errors")
}

func hasCancelWarning(ws []error) bool {
	for _, w := range ws {
		if errors.Is(w, context.Canceled) {
			return true
		}
	}
	return false
}

// TestRunCancelledBeforeStart: a run whose context is already cancelled
// sends nothing and returns ErrNotStarted, with no report.
func TestRunCancelledBeforeStart(t *testing.T) {
	m := servingtest.ZeroCost()
	srv := servingtest.NewServer(m)
	defer srv.Close()
	client, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: m.Name})
	require.NoError(t, err)
	defer client.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, noPrewarm := range []bool{false, true} {
		rep, err := servingbench.Run(ctx, servingbench.Config{Client: client, Requests: uniqueRequests(10, 4), NoPrewarm: noPrewarm})
		require.ErrorIs(t, err, servingbench.ErrNotStarted, "NoPrewarm %v", noPrewarm)
		assert.Nil(t, rep, "Report")
	}
	assert.Empty(t, srv.Truth(), "requests the server received")
}
