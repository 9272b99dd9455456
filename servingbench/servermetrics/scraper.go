package servermetrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/servingbench/servingbench/internal/promtext"
)

// Defaults of a Scraper.
const (
	// DefaultInterval is the time between two scrapes during a run.
	DefaultInterval = time.Second
	// DefaultTimeout bounds one scrape.
	DefaultTimeout = 5 * time.Second
)

// maxPageBytes bounds the page read: vLLM's, histograms and all, is some
// 100 KB per engine.
const maxPageBytes = 16 << 20

// Scraper scrapes a server's Prometheus endpoint around a run: once
// before it (Before), every Interval during it (Watch.Begin), and once
// after it (Watch.End), for the Summary. The zero Interval and Timeout
// are the defaults.
type Scraper struct {
	// URL is the page's address, for messages (Get sends the request).
	URL string
	// Get sends GET URL with whatever the server's requests carry (the
	// API key, headers, TLS configuration); the response's body is
	// closed by the Scraper.
	Get func(ctx context.Context) (*http.Response, error)
	// Interval is the time between two scrapes during the run, counted
	// from its start; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds each scrape; 0 means DefaultTimeout.
	Timeout time.Duration
}

// StatusError is a scrape answered with a status other than 200.
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: %d", e.URL, e.StatusCode) }

// scrape is one successful scrape: when it was answered and what it said.
type scrape struct {
	at     time.Time
	values promtext.Samples
}

// Scrape gets the page once and parses it (internal/promtext, the
// Prometheus project's parser): its values and the kind of each series.
// A status other than 200 is a *StatusError; a page that does not parse
// is an error naming the URL and the line.
func (s *Scraper) Scrape(ctx context.Context) (promtext.Samples, promtext.Kinds, error) {
	ctx, cancel := context.WithTimeout(ctx, cmpOr(s.Timeout, DefaultTimeout))
	defer cancel()
	resp, err := s.Get(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, nil, &StatusError{URL: s.URL, StatusCode: resp.StatusCode}
	}
	values, kinds, err := promtext.ParseKinds(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", s.URL, err)
	}
	return values, kinds, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Watch is a run's scrapes in progress. The methods of a nil *Watch do
// nothing (End returns nil), so that a run without a Scraper needs no
// test of its own. Begin and End are called once each, from one
// goroutine.
type Watch struct {
	s *Scraper
	// err is the failure of the scrape before the run: nothing more is
	// scraped.
	err error

	mu       sync.Mutex
	kinds    promtext.Kinds
	scrapes  []scrape // the successful ones, in time order
	failed   int
	firstErr error // the first failure after the one before the run

	start time.Time
	stop  context.CancelFunc
	done  chan struct{}
}

// Before scrapes the page once, right before the run's first request: the
// counters' starting values. When that scrape fails (a server without
// the page answers 404) the Watch scrapes no more and its Summary says
// why (Summary.Err). A nil Scraper returns a nil *Watch.
func (s *Scraper) Before(ctx context.Context) *Watch {
	if s == nil {
		return nil
	}
	w := &Watch{s: s, kinds: promtext.Kinds{}}
	w.err = w.scrape(ctx, false)
	return w
}

// scrape scrapes once and records the result; a failure is counted when
// count is set and ctx is not done (a scrape cut by the run's end is no
// failure of the server's).
func (w *Watch) scrape(ctx context.Context, count bool) error {
	values, kinds, err := w.s.Scrape(ctx)
	at := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if count && ctx.Err() == nil {
			w.failed++
			if w.firstErr == nil {
				w.firstErr = err
			}
		}
		return err
	}
	for k, v := range kinds {
		if _, ok := w.kinds[k]; !ok {
			w.kinds[k] = v
		}
	}
	w.scrapes = append(w.scrapes, scrape{at: at, values: values})
	return nil
}

// Begin starts scraping every Interval from start, the run's start (the
// first at start + Interval), until End. A scrape that outlasts the
// Interval makes the next one wait for the next multiple of it.
func (w *Watch) Begin(ctx context.Context, start time.Time) {
	if w == nil || w.err != nil {
		return
	}
	w.start = start
	ctx, w.stop = context.WithCancel(ctx)
	w.done = make(chan struct{})
	every := cmpOr(w.s.Interval, DefaultInterval)
	go func() {
		defer close(w.done)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for k := int64(1); ; k++ {
			next := start.Add(time.Duration(k) * every)
			d := time.Until(next)
			if d < 0 { // the last scrape overran: skip to the next tick ahead
				k += int64(-d / every)
				continue
			}
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			w.scrape(ctx, true)
		}
	}()
}

// End stops the scrapes of the run, which ended at end, scrapes the page
// once more (with ctx's values but not its cancellation: a run cut short
// still gets its counters), and summarises the run (see Summary).
func (w *Watch) End(ctx context.Context, end time.Time) *Summary {
	if w == nil {
		return nil
	}
	if w.err != nil {
		return &Summary{URL: w.s.URL, Err: w.err}
	}
	if w.stop != nil {
		w.stop()
		<-w.done
	}
	if err := w.scrape(context.WithoutCancel(ctx), true); err != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.summary(end, fmt.Errorf("server metrics: the scrape after the run failed (%w): counters are deltas up to the last scrape", err))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.summary(end, nil)
}

// errNotScraped is wrapped by Summary.Err's message.
var errNotScraped = errors.New("not scraped")
