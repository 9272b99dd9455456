package servingbench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ReadyInterval is the wait between two attempts of a ready check: vLLM's
// retry_interval.
const ReadyInterval = 5 * time.Second

// ReadyCheck says how long WaitReady waits for a server to answer. The
// zero value is no check.
type ReadyCheck struct {
	// Timeout bounds the wait, counted from the start of WaitReady; 0
	// means no check.
	Timeout time.Duration
	// Interval is the wait after a failed attempt before the next; 0
	// means ReadyInterval (5 s).
	Interval time.Duration
	// OnRetry, when set, is called after each failed attempt that is
	// followed by another, with the attempt's number (from 1) and its
	// error, before the wait: vLLM logs "Endpoint is not ready." there.
	OnRetry func(attempt int, err error)
}

func (rc ReadyCheck) validate() error {
	switch {
	case rc.Timeout < 0:
		return fmt.Errorf("servingbench: ReadyCheck.Timeout must be >= 0, got %v", rc.Timeout)
	case rc.Interval < 0:
		return fmt.Errorf("servingbench: ReadyCheck.Interval must be >= 0, got %v", rc.Interval)
	}
	return nil
}

// NotReadyError is a server that did not answer a ready check's request
// within its timeout.
type NotReadyError struct {
	Timeout  time.Duration
	Attempts int
	// Err is the last failure an attempt ended with; when the last attempt
	// was still waiting for its response at the timeout (Cut), the one
	// before it, or, when there was none, the cut attempt's.
	Err error
	// Cut reports that an attempt was in flight when the time was up.
	Cut bool
}

func (e *NotReadyError) Error() string {
	attempts := "1 attempt"
	if e.Attempts != 1 {
		attempts = fmt.Sprintf("%d attempts", e.Attempts)
	}
	if e.Cut {
		attempts += ", the last cut at the timeout"
	}
	return fmt.Sprintf("servingbench: the server was not ready within %v (%s); last failure: %v", e.Timeout, attempts, e.Err)
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// WaitReady waits until the server answers req, as vllm bench serve's
// --ready-check-timeout-sec does (wait_for_endpoint in
// vllm/benchmarks/lib/ready_checker.py): it sends req, untimed, and after
// a failure sends it again Interval later, until one succeeds or Timeout
// has passed since the call; an attempt in flight at the timeout is cut,
// and when the next attempt would come at the timeout or later WaitReady
// gives up at once.
// The request that succeeded is the run's warm-up (Warmup): a server that
// answered it is ready to be measured. Like vLLM it polls the benchmark's
// own request, not a health route, so the wait covers the whole path: the
// model loaded, the endpoint and model name, the API key, TLS.
//
// A server still starting refuses connections (vLLM before its model is
// loaded), answers 503 (llama.cpp while loading) or 502 and 503 through a
// gateway: WaitReady waits through any failure except those that waiting
// cannot mend, which it returns at once, wrapped: a *TLSError, a
// *ClientLimitError, and HTTP 401 and 403 (the credentials). A server not
// ready in time is a *NotReadyError. A zero rc.Timeout returns nil at
// once. A wait cut short by ctx returns nil, as Warmup does: the caller
// checks ctx.
func WaitReady(ctx context.Context, c Client, req *Request, rc ReadyCheck) error {
	if err := rc.validate(); err != nil {
		return err
	}
	if rc.Timeout == 0 {
		return nil
	}
	interval := rc.Interval
	if interval == 0 {
		interval = ReadyInterval
	}
	deadline := time.Now().Add(rc.Timeout)
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last error
	for attempt := 1; ; attempt++ {
		var res Result
		c.Send(actx, req, &res)
		switch {
		case res.OK():
			return nil
		case ctx.Err() != nil:
			return nil
		case actx.Err() != nil: // cut at the timeout
			if last == nil {
				last = resultErr(&res)
			}
			return &NotReadyError{Timeout: rc.Timeout, Attempts: attempt, Err: last, Cut: true}
		}
		last = resultErr(&res)
		if permanent(last) {
			return fmt.Errorf("servingbench: ready check: attempt %d failed with what waiting does not mend: %w", attempt, last)
		}
		if time.Until(deadline) <= interval {
			// The next attempt would come at the timeout or after it:
			// vLLM sleeps until then and gives up; so do we, without the
			// sleep.
			return &NotReadyError{Timeout: rc.Timeout, Attempts: attempt, Err: last}
		}
		if rc.OnRetry != nil {
			rc.OnRetry(attempt, last)
		}
		timer.Reset(interval)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil
		}
	}
}

// resultErr is the failure of a result that is not OK.
func resultErr(res *Result) error {
	if res.Err != nil {
		return res.Err
	}
	return errors.New("no token events")
}

// permanent reports whether a failed request fails for a reason waiting
// does not mend.
func permanent(err error) bool {
	if _, ok := errors.AsType[*TLSError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*ClientLimitError](err); ok {
		return true
	}
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden
	}
	return false
}

// WarmupError is the failure of some of the requests Warmups sent.
type WarmupError struct {
	// N requests were sent, Failed of them failed; First is the failure of
	// the first of the failed, in the order they were sent.
	N, Failed int
	First     error
}

func (e *WarmupError) Error() string {
	return fmt.Sprintf("servingbench: %d of %d warm-up requests failed, first: %v", e.Failed, e.N, e.First)
}

func (e *WarmupError) Unwrap() error { return e.First }

// All reports whether every warm-up request failed.
func (e *WarmupError) All() bool { return e.Failed == e.N }

// Warmups sends req n times, untimed, at most maxConcurrency at once (0
// means all n at once), and waits for them, as vllm bench serve's
// --num-warmups does: after the initial test request, to warm the
// server's caches and compiled graphs at the run's concurrency. It
// returns nil when every request succeeded, else a *WarmupError (All
// when none did); requests cut short by ctx are no failures.
func Warmups(ctx context.Context, c Client, req *Request, n, maxConcurrency int) error {
	switch {
	case n < 0:
		return fmt.Errorf("servingbench: Warmups: n must be >= 0, got %d", n)
	case maxConcurrency < 0:
		return fmt.Errorf("servingbench: Warmups: maxConcurrency must be >= 0, got %d", maxConcurrency)
	case n == 0:
		return nil
	}
	if maxConcurrency == 0 || maxConcurrency > n {
		maxConcurrency = n
	}
	results := make([]Result, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range maxConcurrency {
		wg.Go(func() {
			for i := range next {
				c.Send(ctx, req, &results[i])
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	e := &WarmupError{N: n}
	for i := range results {
		if !results[i].OK() {
			if e.Failed == 0 {
				e.First = resultErr(&results[i])
			}
			e.Failed++
		}
	}
	if e.Failed == 0 {
		return nil
	}
	return e
}
