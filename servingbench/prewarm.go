package servingbench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// prewarmBudget bounds Prewarm as a whole. A server that accepts the
// connection but never answers must not hang the run before it starts, and
// one that serves fewer connections at once than asked holds the rest
// until a served one is closed: llama.cpp's server (cpp-httplib, a thread
// per connection, 8 here) keeps a prewarmed connection for its 5 s
// keep-alive timeout. Connections not open by then are opened by their
// requests.
const prewarmBudget = time.Second

// Prewarm opens up to n keep-alive connections ahead of a run with n
// concurrent GET BaseURL/v1/models requests (404 is accepted), within
// 1 s, or the smaller of RequestTimeout and StreamIdleTimeout when shorter;
// the connections not open by then are opened by the requests.
func (c *StreamClient) Prewarm(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("servingbench: Prewarm: n must be >= 0, got %d", n)
	}
	parent := ctx
	budget := c.prewarmTimeout()
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	target := c.prewarmURL()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if c.fast != nil {
				errs[i] = c.prewarmFast(ctx)
				return
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				errs[i] = err
				return
			}
			req.Header = c.getHeader.Clone()
			if c.host != "" {
				req.Host = c.host
			}
			resp, err := c.client.Do(req)
			if err != nil {
				errs[i] = &StreamError{Err: err}
				if cl := ClientLimitOf(err); cl != nil {
					errs[i] = cl
				} else if te := tlsErrorOf(err, c.haveCert, c.certAsked.Load()); te != nil {
					errs[i] = te
				}
				return
			}
			body := c.readExcerpt(resp.Body)
			drainClose(resp.Body)
			switch {
			case resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound:
				errs[i] = &HTTPError{StatusCode: resp.StatusCode, Body: body, RetryAfter: resp.Header.Get("Retry-After")}
			case ctx.Err() != nil: // the body did not arrive in time
				errs[i] = &StreamError{Err: ctx.Err(), Responded: true}
			}
		})
	}
	wg.Wait()
	failed, late, first := 0, 0, error(nil)
	for _, err := range errs {
		if err != nil {
			failed++
			if errors.Is(err, context.DeadlineExceeded) {
				late++
			}
			if first == nil {
				first = err
			}
		}
	}
	switch {
	case first == nil:
		return nil
	case late == failed && parent.Err() == nil:
		return fmt.Errorf("prewarm: %d of %d connections answered within %v; the others are opened by "+
			"their requests: %w", n-failed, n, budget, context.DeadlineExceeded)
	}
	return fmt.Errorf("prewarm: %d of %d requests failed, first: %w", failed, n, first)
}

// prewarmURL is the URL of the prewarm's GETs.
func (c *StreamClient) prewarmURL() string {
	return strings.TrimRight(c.cfg.BaseURL, "/") + "/v1/models"
}

func (c *StreamClient) prewarmTimeout() time.Duration {
	d := prewarmBudget
	for _, t := range []time.Duration{c.cfg.RequestTimeout, c.cfg.StreamIdleTimeout} {
		if t > 0 {
			d = min(d, t)
		}
	}
	return d
}
