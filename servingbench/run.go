package servingbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Prewarmer is implemented by clients that can open their keep-alive
// connections before the run, so that the first requests do not pay for
// connection set-up inside their TTFT. Run calls it when the client has it.
type Prewarmer interface {
	Prewarm(ctx context.Context, conns int) error
}

// Prewarm bounds: Run opens ahead of time as many connections as there are
// requests scheduled in the first prewarmWindow of the run, at most
// MaxConcurrency, or defaultPrewarm when concurrency is unbounded, and never
// more than maxPrewarm. Later requests dial their own connections: a
// connection opened now and first used seconds later would sit idle past
// the keep-alive timeout of many servers (5 s for uvicorn and cpp-httplib).
const (
	prewarmWindow  = time.Second
	defaultPrewarm = 64
	maxPrewarm     = 256
)

// ErrNotStarted is wrapped by the error Run returns when ctx ends before the
// benchmark's first request is dispatched, during the warm-up or while
// connections are prewarmed: nothing was measured, so there is no report.
var ErrNotStarted = errors.New("interrupted before the benchmark started")

// notStarted is Run's error for a context that ended during phase.
func notStarted(ctx context.Context, phase string) error {
	return fmt.Errorf("servingbench: %w (during the %s): %w", ErrNotStarted, phase, context.Cause(ctx))
}

// Run sends cfg.Requests through cfg.Client on cfg.Arrival's schedule and
// returns the report. It is synchronous: every goroutine it starts has ended
// when it returns.
//
// Before the first request Run waits for the server (Config.ReadyCheck) or
// sends the warm-up request (Config.Warmup), then the further warm-ups
// (Config.Warmups), then prewarms connections (see Config.NoPrewarm).
//
// A bad Config is returned as an error before any request is sent. Once the
// run has started, failed requests are data (Result.Err), never errors. When
// ctx is cancelled, Run stops dispatching, cancels the requests in flight and
// still returns the report of everything sent so far, with Report.Partial set
// and a nil error. A ctx cancelled before the first request is dispatched
// (during the warm-up, the prewarm or the wait for the first request's
// scheduled time) returns an error wrapping ErrNotStarted and no report.
// A server not ready in time, a failed warm-up, every further warm-up
// failing and a TLS failure in the prewarm return an error and no report,
// before the first request.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Conversations) > 0 {
		return runConversations(ctx, cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	reqs := cfg.Requests
	offsets := cfg.offsets(len(reqs))
	if len(offsets) != len(reqs) { // a custom Arrival; it would index out of range below
		return nil, fmt.Errorf("servingbench: Config.Arrival %v: Offsets(%d) returned %d offsets", cfg.Arrival, len(reqs), len(offsets))
	}

	warnings, err := cfg.warmUp(ctx, offsets)
	if err != nil {
		return nil, err
	}

	results := make([]*Result, len(reqs))
	var slots chan struct{}
	if cfg.MaxConcurrency > 0 {
		slots = make(chan struct{}, cfg.MaxConcurrency)
	}
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	late, err := cfg.waitStartAt(ctx)
	if err != nil {
		return nil, err
	}
	watch := cfg.ServerMetrics.Before(ctx) // nil without a Scraper
	start := cfg.runStart()
	if cfg.OnStart != nil {
		cfg.OnStart(start)
	}
	watch.Begin(ctx, start)
dispatch:
	for i := range reqs {
		if !cfg.Shard.owns(i) {
			continue
		}
		scheduled := start.Add(offsets[i])
		if d := time.Until(scheduled); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				break dispatch
			}
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				break dispatch
			}
		} else if ctx.Err() != nil {
			break dispatch
		}
		res := &Result{Index: i, Scheduled: scheduled, SlotAcquired: time.Now()}
		results[i] = res
		wg.Go(func() {
			if slots != nil {
				defer func() { <-slots }()
			}
			cfg.Client.Send(ctx, &reqs[i], res)
			if cfg.OnResult != nil {
				cfg.OnResult(res)
			}
		})
	}
	wg.Wait()
	end := time.Now()
	serverMetrics := watch.End(ctx, end)

	sent := results[:0] // in place: the Report keeps one slice of the run's size
	for _, r := range results {
		if r != nil {
			sent = append(sent, r)
		}
	}
	clear(results[len(sent):])
	if len(sent) == 0 && ctx.Err() != nil {
		return nil, notStarted(ctx, "wait for the first request")
	}
	own := cfg.Shard.Size(len(reqs))
	rep := Summarize(start, end, sent, cfg.Goodput)
	cfg.identify(rep, start, len(reqs)) // the schedule's n: a ramp's events are the whole schedule's
	rep.NumPrompts = own
	rep.Shard = cfg.shardInfo(start, late, reqs, offsets)
	if late > 0 {
		warnings = append(warnings, lateWarning(rep.Shard))
	}
	rep.Partial = ctx.Err() != nil
	if rep.Partial {
		rep.Warnings = append(rep.Warnings, fmt.Errorf("servingbench: run cancelled after %d of %d requests were sent: %w",
			len(sent), own, context.Cause(ctx)))
	}
	rep.Warnings = append(warnings, rep.Warnings...)
	rep.addServerMetrics(serverMetrics, cfg.Shard.Count <= 1)
	return rep, nil
}

// warmUp does what Run does before its first request: the ready check or
// the warm-up, the further warm-ups, the prewarm. It returns the warnings
// of the report to be.
func (cfg *Config) warmUp(ctx context.Context, offsets []time.Duration) ([]error, error) {
	reqs := cfg.Requests
	switch {
	case cfg.ReadyCheck.Timeout > 0:
		if err := WaitReady(ctx, cfg.Client, &reqs[0], cfg.ReadyCheck); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, notStarted(ctx, "ready check")
		}
	case cfg.Warmup:
		if err := Warmup(ctx, cfg.Client, &reqs[0]); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, notStarted(ctx, "warm-up")
		}
	}
	var warnings []error
	if cfg.Warmups > 0 {
		err := Warmups(ctx, cfg.Client, &reqs[0], cfg.Warmups, cfg.MaxConcurrency)
		if ctx.Err() != nil {
			return nil, notStarted(ctx, "warm-ups")
		}
		if we, ok := errors.AsType[*WarmupError](err); ok && we.All() {
			return nil, err
		} else if err != nil {
			warnings = append(warnings, err)
		}
	}
	if p, ok := cfg.Client.(Prewarmer); ok && !cfg.NoPrewarm {
		err := p.Prewarm(ctx, cfg.prewarmConns(offsets))
		if ctx.Err() != nil {
			return nil, notStarted(ctx, "connection prewarm")
		}
		if _, ok := errors.AsType[*TLSError](err); ok {
			return nil, fmt.Errorf("servingbench: prewarming connections: %w", err)
		} else if err != nil {
			warnings = append(warnings, fmt.Errorf("servingbench: prewarming connections: %w", err))
		}
	}
	return warnings, nil
}

func (cfg *Config) validate() error {
	switch {
	case cfg.Client == nil:
		return errors.New("servingbench: Config.Client is nil")
	case len(cfg.Requests) == 0:
		return errors.New("servingbench: Config.Requests is empty")
	case cfg.MaxConcurrency < 0:
		return fmt.Errorf("servingbench: Config.MaxConcurrency must be >= 0, got %d", cfg.MaxConcurrency)
	case cfg.Warmups < 0:
		return fmt.Errorf("servingbench: Config.Warmups must be >= 0, got %d", cfg.Warmups)
	}
	if err := cfg.Shard.validate(); err != nil {
		return fmt.Errorf("servingbench: Config.Shard: %w", err)
	}
	if err := cfg.ReadyCheck.validate(); err != nil {
		return fmt.Errorf("servingbench: Config.%s", strings.TrimPrefix(err.Error(), "servingbench: "))
	}
	if v, ok := cfg.Arrival.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("servingbench: Config.Arrival: %w", err)
		}
	}
	for i, r := range cfg.Requests {
		if r.MaxTokens < 0 {
			return fmt.Errorf("servingbench: Config.Requests[%d].MaxTokens must be >= 0, got %d", i, r.MaxTokens)
		}
		if r.PromptTokens < 0 {
			return fmt.Errorf("servingbench: Config.Requests[%d].PromptTokens must be >= 0, got %d", i, r.PromptTokens)
		}
	}
	if cfg.Goodput.TTFT < 0 || cfg.Goodput.TPOT < 0 || cfg.Goodput.E2EL < 0 {
		return fmt.Errorf("servingbench: Config.Goodput objectives must be >= 0, got %+v", cfg.Goodput)
	}
	return nil
}

func (cfg *Config) offsets(n int) []time.Duration {
	if cfg.Arrival == nil {
		return make([]time.Duration, n)
	}
	return cfg.Arrival.Offsets(n)
}

// prewarmConns is the number of connections to open before a run with
// these arrival offsets: the requests scheduled in its first prewarmWindow
// (the shard's own, Config.Shard), bounded as the prewarm constants say.
func (cfg *Config) prewarmConns(offsets []time.Duration) int {
	n := 0
	for i, off := range offsets {
		if off < prewarmWindow && cfg.Shard.owns(i) {
			n++
		}
	}
	limit := defaultPrewarm
	if cfg.MaxConcurrency > 0 {
		limit = cfg.MaxConcurrency
	}
	return min(n, limit, maxPrewarm)
}

// identify copies the run's identity into the report.
func (cfg *Config) identify(rep *Report, start time.Time, n int) {
	rep.Date = start
	rep.Backend, rep.Model, rep.TokenizerID = cfg.Backend, cfg.Model, cfg.TokenizerID
	rep.NumPrompts = n
	rep.MaxConcurrency = cfg.MaxConcurrency
	rep.Metadata = cfg.Metadata
	rep.RequestRate, rep.Burstiness = math.Inf(1), 1
	switch a := cfg.Arrival.(type) {
	case Gamma:
		if a.Rate > 0 && !math.IsInf(a.Rate, 1) {
			rep.RequestRate = a.Rate
		}
		rep.Burstiness = a.shape()
	case Trace:
		// A replayed trace has no configured rate: record its mean rate.
		if len(a) > 1 && a[len(a)-1] > 0 {
			rep.RequestRate = float64(len(a)-1) / a[len(a)-1].Seconds()
		}
	case Ramp:
		// vLLM records a ramp-up run at request_rate inf, with the
		// burstiness its gaps were drawn with and the ramp's own keys.
		rep.Burstiness = a.shape()
		rep.Ramp = &a
		rep.RPSChanges = rampEvents(a, start, n, rep.Results)
	}
}

// rampEvents are the rps_change_events of a run of n requests on r
// started at start: Ramp.RPSChanges at start plus each offset, up to the
// last request dispatched (all of them unless the run was cancelled), as
// vLLM records an event when it dispatches the request that reached it.
func rampEvents(r Ramp, start time.Time, n int, sent []*Result) []RPSChangeEvent {
	var last time.Time
	for _, res := range sent {
		if res.Scheduled.After(last) {
			last = res.Scheduled
		}
	}
	var events []RPSChangeEvent
	for _, c := range r.RPSChanges(n) {
		t := start.Add(c.Offset)
		if c.Offset > 0 && t.After(last) {
			break
		}
		events = append(events, RPSChangeEvent{RPS: c.RPS, Time: t})
	}
	return events
}

// Warmup sends one untimed request, as vLLM v0.9.1 does before a run, and
// returns an error when it fails: a server that cannot answer one request is
// not worth measuring. A warm-up cut short by ctx is no server failure and
// returns nil; the run that follows then returns its (empty) partial report.
// Run calls it when Config.Warmup is set.
func Warmup(ctx context.Context, c Client, req *Request) error {
	var res Result
	c.Send(ctx, req, &res)
	if !res.OK() && ctx.Err() == nil {
		err := res.Err
		if err == nil {
			err = errors.New("no token events")
		}
		return fmt.Errorf("servingbench: warm-up request failed: %w", err)
	}
	return nil
}
