package servingbench_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// scriptClient answers each request with what fail says for the time of
// the send (nil: a one-token success), after taking delay; hang makes a
// send wait for its context. It counts the sends and the most in flight.
type scriptClient struct {
	fail     func(now time.Duration) error
	delay    time.Duration
	hang     func(now time.Duration) bool
	start    time.Time
	sends    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (c *scriptClient) Send(ctx context.Context, req *servingbench.Request, res *servingbench.Result) {
	c.sends.Add(1)
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	now := time.Since(c.start)
	res.Sent = time.Now()
	if c.hang != nil && c.hang(now) {
		<-ctx.Done()
		res.Err = &servingbench.CancelError{Err: ctx.Err()}
		return
	}
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	if c.fail != nil {
		if err := c.fail(now); err != nil {
			res.Err = err
			return
		}
	}
	res.Events = []time.Duration{time.Since(res.Sent)}
}

var (
	errRefused = &servingbench.StreamError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	errLoading = &servingbench.HTTPError{StatusCode: http.StatusServiceUnavailable, Body: `{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`}
)

// until fails with err before d, then succeeds.
func until(d time.Duration, err error) func(time.Duration) error {
	return func(now time.Duration) error {
		if now < d {
			return err
		}
		return nil
	}
}

// TestWaitReady: the attempts are Interval apart after each failure, on
// the bubble's clock, until one succeeds or the timeout; failures that
// waiting does not mend end the wait at once.
func TestWaitReady(t *testing.T) {
	tests := []struct {
		name     string
		rc       servingbench.ReadyCheck
		fail     func(time.Duration) error
		hang     func(time.Duration) bool
		took     time.Duration
		attempts int
		want     string // the error's text; "" for none
		notReady bool
		cut      bool
	}{
		{name: "ready at once", rc: servingbench.ReadyCheck{Timeout: time.Minute}, attempts: 1},
		{name: "refused until 12s", rc: servingbench.ReadyCheck{Timeout: time.Minute}, fail: until(12*time.Second, errRefused), took: 15 * time.Second, attempts: 4},
		{name: "503 until 12s", rc: servingbench.ReadyCheck{Timeout: time.Minute}, fail: until(12*time.Second, errLoading), took: 15 * time.Second, attempts: 4},
		{name: "an interval of 2s", rc: servingbench.ReadyCheck{Timeout: time.Minute, Interval: 2 * time.Second}, fail: until(3*time.Second, errRefused), took: 4 * time.Second, attempts: 3},
		{name: "not ready in 20s", rc: servingbench.ReadyCheck{Timeout: 20 * time.Second}, fail: until(time.Hour, errLoading),
			took: 15 * time.Second, attempts: 4, notReady: true, want: "servingbench: the server was not ready within 20s (4 attempts); last failure: HTTP 503: "},
		{name: "not ready in 7s", rc: servingbench.ReadyCheck{Timeout: 7 * time.Second}, fail: until(time.Hour, errRefused),
			took: 5 * time.Second, attempts: 2, notReady: true, want: "within 7s (2 attempts); last failure: request failed: dial tcp: connection refused"},
		{name: "an attempt cut at the timeout", rc: servingbench.ReadyCheck{Timeout: 7 * time.Second}, fail: until(time.Hour, errRefused),
			hang: func(now time.Duration) bool { return now > 0 }, took: 7 * time.Second, attempts: 2, notReady: true, cut: true,
			want: "(2 attempts, the last cut at the timeout); last failure: request failed: dial tcp: connection refused"},
		{name: "the first attempt cut", rc: servingbench.ReadyCheck{Timeout: 7 * time.Second},
			hang: func(time.Duration) bool { return true }, took: 7 * time.Second, attempts: 1, notReady: true, cut: true, want: "deadline exceeded"},
		{name: "401", rc: servingbench.ReadyCheck{Timeout: time.Minute}, fail: until(time.Hour, &servingbench.HTTPError{StatusCode: 401, Body: "no key"}),
			attempts: 1, want: "servingbench: ready check: attempt 1 failed with what waiting does not mend: HTTP 401: no key"},
		{name: "403", rc: servingbench.ReadyCheck{Timeout: time.Minute}, fail: until(time.Hour, &servingbench.HTTPError{StatusCode: 403}), attempts: 1, want: "HTTP 403"},
		{name: "TLS", rc: servingbench.ReadyCheck{Timeout: time.Minute}, fail: until(time.Hour, &servingbench.TLSError{Problem: servingbench.TLSUnknownAuthority, Err: errors.New("x509")}),
			attempts: 1, want: "TLS: certificate signed by unknown authority: x509"},
		{name: "no check", rc: servingbench.ReadyCheck{}, fail: until(time.Hour, errRefused), attempts: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &scriptClient{fail: tt.fail, hang: tt.hang, start: time.Now()}
				var retries []int
				rc := tt.rc
				rc.OnRetry = func(attempt int, err error) {
					require.Error(t, err)
					retries = append(retries, attempt)
				}
				err := servingbench.WaitReady(context.Background(), c, &servingbench.Request{Prompt: "p", MaxTokens: 1}, rc)
				assert.Equal(t, tt.took, time.Since(c.start), "time WaitReady took")
				assert.EqualValues(t, tt.attempts, c.sends.Load(), "attempts")
				if tt.want == "" {
					assert.NoError(t, err)
				} else {
					require.Error(t, err)
					assert.Contains(t, err.Error(), tt.want)
				}
				var nr *servingbench.NotReadyError
				if assert.Equal(t, tt.notReady, errors.As(err, &nr), "a *NotReadyError: %v", err) && tt.notReady {
					assert.Equal(t, tt.attempts, nr.Attempts, "NotReadyError.Attempts")
					assert.Equal(t, tt.cut, nr.Cut, "NotReadyError.Cut")
					assert.Equal(t, tt.rc.Timeout, nr.Timeout)
				}
				assert.Len(t, retries, max(0, tt.attempts-1), "OnRetry calls: each attempt but the last")
			})
		})
	}
}

// TestWaitReadyCancelled: a wait cut short by ctx returns nil at once,
// in an attempt and between two.
func TestWaitReadyCancelled(t *testing.T) {
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("in an attempt=%v", hang), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &scriptClient{fail: until(time.Hour, errRefused), hang: func(time.Duration) bool { return hang }, start: time.Now()}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				err := servingbench.WaitReady(ctx, c, &servingbench.Request{Prompt: "p"}, servingbench.ReadyCheck{Timeout: time.Minute})
				assert.NoError(t, err)
				assert.Equal(t, 3*time.Second, time.Since(c.start))
			})
		})
	}
}

// TestWarmups: n requests, never more than maxConcurrency at once, all
// awaited; failures are counted.
func TestWarmups(t *testing.T) {
	tests := []struct {
		n, conc    int
		failFirst  int // the first sends that fail
		took       time.Duration
		peak       int
		failed     int
		wantAll    bool
		wantErrMsg string
	}{
		{n: 10, conc: 3, took: 4 * time.Second, peak: 3},
		{n: 10, conc: 0, took: time.Second, peak: 10},
		{n: 2, conc: 8, took: time.Second, peak: 2},
		{n: 1, conc: 1, took: time.Second, peak: 1},
		{n: 0, conc: 1, took: 0, peak: 0},
		{n: 6, conc: 2, failFirst: 2, took: 3 * time.Second, peak: 2, failed: 2, wantErrMsg: "servingbench: 2 of 6 warm-up requests failed, first: HTTP 503"},
		{n: 4, conc: 4, failFirst: 4, took: time.Second, peak: 4, failed: 4, wantAll: true, wantErrMsg: "4 of 4 warm-up requests failed"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d/conc=%d/fail=%d", tt.n, tt.conc, tt.failFirst), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var sent atomic.Int64
				c := &scriptClient{delay: time.Second, start: time.Now()}
				c.fail = func(time.Duration) error {
					if int(sent.Add(1)) <= tt.failFirst {
						return errLoading
					}
					return nil
				}
				err := servingbench.Warmups(context.Background(), c, &servingbench.Request{Prompt: "p"}, tt.n, tt.conc)
				assert.Equal(t, tt.took, time.Since(c.start), "time Warmups took")
				assert.EqualValues(t, tt.n, c.sends.Load(), "requests sent")
				assert.EqualValues(t, tt.peak, c.peak.Load(), "most requests in flight")
				if tt.failed == 0 {
					assert.NoError(t, err)
					return
				}
				var we *servingbench.WarmupError
				require.True(t, errors.As(err, &we), "error %v", err)
				assert.Equal(t, tt.failed, we.Failed)
				assert.Equal(t, tt.wantAll, we.All())
				assert.ErrorContains(t, err, tt.wantErrMsg)
			})
		})
	}
	_, err := 0, servingbench.Warmups(context.Background(), &scriptClient{}, &servingbench.Request{}, -1, 0)
	assert.ErrorContains(t, err, "n must be >= 0, got -1")
}

// gatedDialer refuses connections until its time has come, as a server
// still loading its model does, then dials ln.
type gatedDialer struct {
	ln      *servingtest.Listener
	ready   time.Time
	refused atomic.Int64
}

func (g *gatedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if time.Now().Before(g.ready) {
		g.refused.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	return g.ln.DialContext(ctx, network, addr)
}

// loadingGateway answers 503 "Loading model" (llama.cpp's reply while it
// loads) until its time has come, as a gateway in front of a server
// still starting does, then passes requests to next.
type loadingGateway struct {
	next    http.RoundTripper
	ready   time.Time
	loading atomic.Int64
}

func (g *loadingGateway) RoundTrip(r *http.Request) (*http.Response, error) {
	if time.Now().Before(g.ready) {
		g.loading.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`)),
			Request: r}, nil
	}
	return g.next.RoundTrip(r)
}

// TestRunReadyCheck: a run against the simulated server, which becomes
// ready 12 s after the run is started, refusing connections, or, behind
// a gateway, answering 503 until then: Config.ReadyCheck waits for it
// (attempts at 0, 5, 10 and 15 s on the bubble's clock), then the
// further warm-ups and the run follow, every request received once.
func TestRunReadyCheck(t *testing.T) {
	for _, gateway := range []bool{false, true} {
		t.Run(fmt.Sprintf("gateway=%v", gateway), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				srv := newBubbleServer(t, servingtest.ZeroCost())
				ln := srv.Listener.(*servingtest.Listener)
				cfg := bubbleConfig(srv)
				var refused func() int64
				if gateway {
					gw := &loadingGateway{next: srv.Client().Transport, ready: start.Add(12 * time.Second)}
					cfg.HTTPClient = &http.Client{Transport: gw}
					refused = gw.loading.Load
				} else {
					g := &gatedDialer{ln: ln, ready: start.Add(12 * time.Second)}
					cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: g.DialContext}}
					defer cfg.HTTPClient.CloseIdleConnections()
					refused = g.refused.Load
				}
				c, err := servingbench.NewCompletions(cfg)
				require.NoError(t, err)
				defer c.Close()
				var retries []error
				var mu sync.Mutex
				rep, err := servingbench.Run(context.Background(), servingbench.Config{
					Client: c, Requests: uniqueRequests(8, 3), MaxConcurrency: 2, Warmup: true, Warmups: 5,
					ReadyCheck: servingbench.ReadyCheck{Timeout: time.Minute, OnRetry: func(_ int, err error) {
						mu.Lock()
						retries = append(retries, err)
						mu.Unlock()
					}},
				})
				require.NoError(t, err)
				assert.Equal(t, 8, rep.Completed, "completed: %v", rep.Errors)
				assert.Equal(t, 15*time.Second, rep.Date.Sub(start), "the run started after the attempt at 15 s (the simulated server takes no time)")
				assert.EqualValues(t, 3, refused(), "attempts the server was not ready for")
				require.Len(t, retries, 3)
				reason := "connection refused"
				if gateway {
					reason = "HTTP 503"
				}
				for _, err := range retries {
					assert.Equal(t, reason, servingbench.ErrorReason(err))
				}
				assert.Len(t, srv.Truth(), 1+5+8, "requests received: the ready check's success (the warm-up), the 5 warm-ups, the run's")
			})
		})
	}
}

// TestRunWarmups: every warm-up failing aborts the run before its first
// request; some failing is a warning.
func TestRunWarmups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent atomic.Int64
		c := &scriptClient{start: time.Now(), delay: time.Second}
		failFirst := int64(3)
		c.fail = func(time.Duration) error {
			if sent.Add(1) <= failFirst {
				return errLoading
			}
			return nil
		}
		reqs := uniqueRequests(4, 1)
		rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs, Warmups: 3, MaxConcurrency: 2})
		assert.Nil(t, rep)
		assert.ErrorContains(t, err, "servingbench: 3 of 3 warm-up requests failed, first: HTTP 503")
		assert.EqualValues(t, 3, c.sends.Load(), "no request of the run was sent")

		sent.Store(0)
		failFirst = 1
		rep, err = servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs, Warmups: 3, MaxConcurrency: 2})
		require.NoError(t, err)
		assert.Equal(t, 4, rep.Completed)
		require.Len(t, rep.Warnings, 1)
		assert.ErrorContains(t, rep.Warnings[0], "1 of 3 warm-up requests failed")

		_, err = servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs, Warmups: -1})
		assert.ErrorContains(t, err, "servingbench: Config.Warmups must be >= 0, got -1")
		_, err = servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: reqs, ReadyCheck: servingbench.ReadyCheck{Timeout: -time.Second}})
		assert.ErrorContains(t, err, "servingbench: Config.ReadyCheck.Timeout must be >= 0, got -1s")
	})
}
