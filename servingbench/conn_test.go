package servingbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// Real servers close connections a client may still hold in its pool:
// llama.cpp's llama-server after every streamed response (while it
// announces "Keep-Alive: timeout=5"), uvicorn and cpp-httplib after 5 s
// idle. A request written to such a connection before the client noticed
// the close gets EOF before any response byte; it never reached the server
// and must not be counted as the server's failure.

// TestResendOnDroppedConnection: with servingtest's DropReused, every
// request that goes out on a pooled connection is dropped unanswered, so
// the first request of the run (on a prewarmed connection) always meets
// the race. It is resent once on a new connection, counted in
// Report.Resent and the report's outputs, and measured correctly; the
// client then stops reusing connections, so no later request is dropped;
// with a caller's http.Client too.
func TestResendOnDroppedConnection(t *testing.T) {
	for _, ck := range clientKinds {
		for _, own := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/own-transport=%v", ck.name, own), func(t *testing.T) {
				testResendOnDroppedConnection(t, ck.new, own)
			})
		}
	}
}

func testResendOnDroppedConnection(t *testing.T, newClient func(servingbench.OpenAIConfig) (closingClient, error), own bool) {
	defer checkNoLeaks(t)()
	m := matrixModel()
	m.DropReused = true
	srv := servingtest.NewServer(m)
	defer srv.Close()
	cfg := servingbench.OpenAIConfig{BaseURL: srv.URL, Model: m.Name, IgnoreEOS: true}
	if !own {
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		cfg.HTTPClient = hc
	}
	client, err := newClient(cfg)
	require.NoError(t, err)
	defer client.Close()

	reqs := uniqueRequests(40, matrixMaxTokens)
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: client, Requests: reqs, MaxConcurrency: 4, Warmup: true,
	})
	require.NoError(t, err)
	assert.Zero(t, rep.Failed, "Report.Failed; errors: %v", rep.Errors)
	assert.Equal(t, len(reqs), rep.Completed, "Report.Completed")
	// The warm-up dials the first connection; the prewarm (GET
	// /v1/models, which Go's transport itself retries when dropped,
	// as it may retry any idempotent request) leaves connections in
	// the pool, so the first requests of the run are dropped.
	require.Positive(t, srv.Dropped(), "requests the server dropped")
	if own {
		assert.Equal(t, srv.Dropped(), rep.Resent, "Report.Resent = requests the server dropped")
	} else { // a caller's client may take a pooled connection again
		assert.LessOrEqual(t, rep.Resent, srv.Dropped(), "Report.Resent <= requests the server dropped")
	}
	// Only the requests in flight before the first resend went out on
	// pooled connections: at most MaxConcurrency.
	assert.LessOrEqual(t, srv.Dropped(), 4, "requests dropped")
	resent := 0
	truth := recordsByPrompt(srv.Truth())
	for _, r := range rep.Results {
		if r.Resent {
			resent++
		}
		rec, ok := truth[reqs[r.Index].Prompt]
		require.True(t, ok, "request %d is not in the server's truth", r.Index)
		checkMeasured(t, r, rec, truthLate)
	}
	assert.Equal(t, rep.Resent, resent, "results with Resent")
	assert.Len(t, srv.Truth(), len(reqs)+1, "requests the server answered: the run and the warm-up, each once")

	var text bytes.Buffer
	require.NoError(t, servingbench.WriteText(&text, rep, servingbench.TextOptions{}))
	assert.Regexp(t, fmt.Sprintf(`(?m)^Resent on a new connection:\s+%d *$`, rep.Resent), text.String())
	var js bytes.Buffer
	require.NoError(t, servingbench.WriteJSON(&js, rep, servingbench.JSONOptions{}))
	var file struct {
		Resent *int `json:"resent_requests"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &file))
	require.NotNil(t, file.Resent, "JSON resent_requests")
	assert.Equal(t, rep.Resent, *file.Resent, "JSON resent_requests")
	back, err := servingbench.ReadJSON(bytes.NewReader(js.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, rep.Resent, back.Resent, "ReadJSON: Resent")
	require.NotEmpty(t, rep.Warnings, "Report.Warnings")
	assert.ErrorContains(t, rep.Warnings[0], "resent on a new connection because the server had closed the pooled keep-alive connection")
}

// TestServerClosingConnections: zero failures over 1,000 requests against a
// server that closes every connection after its response, and 1,000 against
// one that closes connections idle for 1 s, at mixed rates and
// concurrencies (bursts at full speed, gaps around the idle timeout).
func TestServerClosingConnections(t *testing.T) {
	const idle = time.Second
	type phase struct {
		n              int
		arrival        servingbench.Arrival
		maxConcurrency int
	}
	// bursts are groups of 200 requests separated by gaps around the idle
	// timeout, each group at a different rate.
	bursts := func(groups int) servingbench.Trace {
		var tr servingbench.Trace
		at := time.Duration(0)
		for g := range groups {
			gap := time.Second / time.Duration(500*(g+1)) // 500 to 2,500 req/s
			for range 200 {
				tr = append(tr, at)
				at += gap
			}
			at += idle - 20*time.Millisecond + time.Duration(g)*5*time.Millisecond
		}
		return tr
	}
	tests := []struct {
		name   string
		model  func(*servingtest.Model)
		phases []phase
	}{
		{"close-after-response", func(m *servingtest.Model) { m.CloseAfterResponse = true }, []phase{
			{250, nil, 1}, {250, nil, 4}, {250, nil, 16}, {250, servingbench.Poisson(2000, 1), 0},
		}},
		{"idle-timeout-1s", func(m *servingtest.Model) { m.IdleTimeout = idle }, []phase{
			{1000, bursts(5), 16},
		}},
	}
	for _, tt := range tests {
		for _, ck := range clientKinds {
			t.Run(tt.name+"/"+ck.name, func(t *testing.T) {
				t.Parallel() // the idle-timeout runs mostly wait
				m := servingtest.ZeroCost()
				tt.model(&m)
				srv := servingtest.NewServer(m)
				defer srv.Close()
				client, err := ck.new(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: m.Name, IgnoreEOS: true,
					RequestTimeout: 30 * time.Second})
				require.NoError(t, err)
				defer client.Close()
				total, resent := 0, 0
				for i, ph := range tt.phases {
					reqs := uniqueRequests(ph.n, 4)
					for k := range reqs {
						reqs[k].Prompt = fmt.Sprintf("phase %d: %s", i, reqs[k].Prompt)
					}
					rep, err := servingbench.Run(context.Background(), servingbench.Config{
						Client: client, Requests: reqs, Arrival: ph.arrival, MaxConcurrency: ph.maxConcurrency,
					})
					require.NoError(t, err)
					assert.Zero(t, rep.Failed, "phase %d: Report.Failed; errors: %v", i, rep.Errors)
					assert.Equal(t, ph.n, rep.Completed, "phase %d: Report.Completed", i)
					assert.Equal(t, ph.n*4, rep.TotalOutputTokens, "phase %d: output tokens", i)
					total += rep.Completed
					resent += rep.Resent
				}
				assert.Equal(t, 1000, total, "successful requests")
				assert.Len(t, srv.Truth(), 1000, "requests the server received: each once")
				t.Logf("%d requests, %d resent on a new connection", total, resent)
			})
		}
	}
}
