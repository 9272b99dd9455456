//go:build linux

package servingbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/servingbench/servingbench/internal/h1"
)

// floorClient is BenchmarkPacedStreams' measure of the floor under the
// engine: the poller client's transport (internal/h1: epoll, one recvmsg
// a readiness, chunked decoding) with none of the engine above it. It
// sends the engine's request and takes each "data: {" in a read as a
// token event at the read's kernel receive time, without parsing SSE or
// JSON. What the engine costs beyond it is its parsing and bookkeeping;
// what the floor costs is the kernel's (the receive, and on loopback the
// ACK the receive sends, processed by the server's socket on the
// client's CPU) and the transport's.
type floorClient struct {
	t    *h1.Transport
	path string
	host string
}

func newFloorClient(base string, streams int) (*floorClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	t, err := h1.New(u.Host, nil, streams, time.Minute)
	if err != nil {
		return nil, err
	}
	return &floorClient{t: t, path: "/v1/completions", host: u.Host}, nil
}

func (f *floorClient) Close() { f.t.Close() }

func (f *floorClient) Send(ctx context.Context, req *Request, res *Result) {
	body, _ := json.Marshal(map[string]any{
		"model": PacedModel, "prompt": req.Prompt, "max_tokens": req.MaxTokens,
		"stream": true, "ignore_eos": true,
	})
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", f.path, f.host, len(body))
	res.Events, res.Lags, res.Arrival = res.Events[:0], res.Lags[:0], ArrivalKernel
	res.Sent = time.Now()
	h := &floorHandler{res: res, tr: timedBody{timed: true, floor: res.Sent}}
	_, err := f.t.Do(ctx, head, body, h1.Pooled, h)
	res.Done = time.Now()
	switch {
	case err != nil:
		res.Err = err
	case h.status != http.StatusOK:
		res.Err = fmt.Errorf("status %d", h.status)
	case !h.tr.kernel():
		res.Arrival = ArrivalRead
	}
}

type floorHandler struct {
	res    *Result
	status int
	tr     timedBody
}

var floorEvent = []byte("data: {")

func (h *floorHandler) Header(resp *http.Response) h1.Action {
	h.status = resp.StatusCode
	return h1.Continue
}

// Body stamps the read as the engine does (timedBody.mark) and takes an
// event for each "data: {" in it.
func (h *floorHandler) Body(p []byte, read time.Time, arrival int64) h1.Action {
	h.tr.mark(read, arrival)
	for n := bytes.Count(p, floorEvent); n > 0; n-- {
		h.res.Events = append(h.res.Events, h.tr.at.Sub(h.res.Sent))
		h.res.Lags = append(h.res.Lags, saturate(h.tr.lag))
	}
	return h1.Continue
}
