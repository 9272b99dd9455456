package servingbench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/rxtime"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// wantArrival is the arrival source the own transport gives on this
// platform over TCP.
func wantArrival() servingbench.ArrivalSource {
	if rxtime.Supported {
		return servingbench.ArrivalKernel
	}
	return servingbench.ArrivalRead
}

// Over TCP on 127.0.0.1 the library's own transport reads the kernel's
// receive times: every event arrived after the server flushed the chunk
// before it (the next was written a step later) and no later than the
// request's end, and Lags has an entry per event.
func TestKernelArrivalLoopback(t *testing.T) {
	m := servingtest.FixedService(0, 2*time.Millisecond)
	m.Name = "m"
	srv := servingtest.NewServer(m)
	defer srv.Close()
	c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", IgnoreEOS: true, MaxConcurrency: 8})
	require.NoError(t, err)
	defer c.Close()
	reqs := make([]servingbench.Request, 8)
	for i := range reqs {
		reqs[i] = servingbench.Request{Prompt: fmt.Sprintf("prompt %d", i), MaxTokens: 12}
	}
	// A warm-up request first, so the kernel's stamping (turned on by the
	// first transport, see rxtime.Hold) is on before the measured ones.
	var warm servingbench.Result
	c.Send(context.Background(), &reqs[0], &warm)
	require.NoError(t, warm.Err)
	srv.Reset()

	rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs, MaxConcurrency: 8})
	require.NoError(t, err)
	truth := map[string]servingtest.Record{}
	for _, r := range srv.Truth() {
		truth[r.Prompt] = r
	}
	for _, res := range rep.Results {
		require.NoError(t, res.Err)
		rec := truth[reqs[res.Index].Prompt]
		require.Len(t, res.Events, 12)
		require.Len(t, rec.Chunks, 12)
		assert.Equal(t, wantArrival(), res.Arrival, "request %d", res.Index)
		if res.Arrival != servingbench.ArrivalKernel {
			assert.Nil(t, res.Lags)
			continue
		}
		require.Len(t, res.Lags, len(res.Events))
		assert.False(t, res.Events[0].Before(rec.Received), "the first token arrived after the request did")
		for i := 1; i < len(res.Events); i++ {
			// The last chunk flushed before chunk i was: a server behind by a
			// step flushes two chunks at once, and stamps both after the
			// flush, while loopback delivers the bytes during the write.
			j := i - 1
			for j >= 0 && rec.Chunks[j].Equal(rec.Chunks[i]) {
				j--
			}
			if j >= 0 {
				assert.False(t, res.Events[i].Before(rec.Chunks[j]), "request %d event %d arrived at %v, before chunk %d was flushed at %v",
					res.Index, i, res.Events[i], j, rec.Chunks[j])
			}
			assert.False(t, res.Events[i].Before(res.Events[i-1]), "event times never run backwards")
		}
		assert.False(t, res.Done.Before(res.Events[len(res.Events)-1]))
	}
}

// Events whose bytes came in one read share that read's arrival time and
// lag: here the server writes two token events in each write.
func TestKernelArrivalSharedByRead(t *testing.T) {
	const writes = 5
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range writes {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\" a%d\",\"finish_reason\":null}]}\n\n"+
				"data: {\"choices\":[{\"index\":0,\"text\":\" b%d\",\"finish_reason\":null}]}\n\n", i, i)
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond) // the next write is a separate segment
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":10}}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
	require.NoError(t, err)
	defer c.Close()
	req := servingbench.Request{Prompt: "p", MaxTokens: 2 * writes}
	var res servingbench.Result
	c.Send(context.Background(), &req, &res) // warm-up: the kernel's stamping on
	require.NoError(t, res.Err)
	c.Send(context.Background(), &req, &res)
	require.NoError(t, res.Err)
	require.Len(t, res.Events, 2*writes)
	assert.Equal(t, wantArrival(), res.Arrival)
	for i := 0; i < len(res.Events); i += 2 {
		assert.Equal(t, res.Events[i], res.Events[i+1], "events %d and %d came in one write", i, i+1)
		if res.Arrival == servingbench.ArrivalKernel {
			assert.Equal(t, res.Lags[i], res.Lags[i+1])
			assert.NotZero(t, res.Lags[i], "a read returns after its bytes arrived")
		}
		if i > 0 {
			assert.False(t, res.Events[i].Before(res.Events[i-1]))
		}
	}
}

// A caller's http.Client dials its own connections: the times are read
// times, and Lags is nil.
func TestCallerClientReadTimes(t *testing.T) {
	m := servingtest.ZeroCost()
	m.Name = "m"
	srv := servingtest.NewServer(m)
	defer srv.Close()
	c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", IgnoreEOS: true, HTTPClient: &http.Client{}})
	require.NoError(t, err)
	defer c.Close()
	var res servingbench.Result
	c.Send(context.Background(), &servingbench.Request{Prompt: "p", MaxTokens: 4}, &res)
	require.NoError(t, res.Err)
	assert.Len(t, res.Events, 4)
	assert.Equal(t, servingbench.ArrivalRead, res.Arrival)
	assert.Nil(t, res.Lags)
}
