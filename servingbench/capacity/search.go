package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// Defaults of SearchConfig's zero fields.
const (
	DefaultMaxPoints      = 20
	DefaultRateResolution = 0.05
	DefaultNoise          = 0.05
	DefaultRepeats        = 3
)

// SearchConfig describes a capacity search. Every zero field has the
// documented default; Search validates the whole config first and names
// the bad field in its error.
type SearchConfig struct {
	// Dimension is the load varied: RequestRate (the zero value) or
	// MaxConcurrency.
	Dimension Dimension
	// SLA is what every point must meet. Required, at least one limit.
	SLA servingbench.SLA
	// Run runs the scenario at a load. Required.
	Run Runner
	// Base is the fixed part of every load: for a RequestRate search its
	// Concurrency (0: no bound), for a MaxConcurrency search its Rate (0:
	// all at once). Its value on Dimension and its Requests must be 0.
	Base Load
	// Start is the first load tried; 0 means 1 (req/s or concurrency).
	Start float64
	// Min is the lowest load tried when Start fails; 0 means 1 for
	// MaxConcurrency and Start/8 for RequestRate. Min <= Start.
	Min float64
	// Max is the highest load tried; when it passes the capacity is "at
	// least" Max. 0 means no bound for RequestRate, and the requests per
	// point for MaxConcurrency (a run of n requests never has more than n
	// in flight, so a larger concurrency cannot be told from n; Max may
	// not exceed it). Max >= Start.
	Max float64
	// Resolution ends the bisection: it stops when the lowest failing load
	// minus the highest passing one is at most Resolution times the
	// latter (and at most 1 for MaxConcurrency, whose loads are whole). 0
	// means 0.05 for RequestRate and exact (1) for MaxConcurrency. In [0, 1).
	Resolution float64
	// Requests is the number of requests of every point. 0 means
	// max(DefaultRequests, MinRequests(SLA, TailRequests)); a smaller
	// count than MinRequests is an error.
	Requests int
	// TailRequests is the number of requests a point is expected to have
	// beyond each percentile the SLA bounds (see MinRequests); 0 means 1.
	TailRequests int
	// MaxPoints bounds the loads tried (repeats of a load do not count);
	// 0 means DefaultMaxPoints.
	MaxPoints int
	// Budget bounds the search's time: no run starts once Budget has
	// passed since Search was called (a run in progress finishes). 0 means
	// no bound.
	Budget time.Duration
	// Noise is the run-to-run noise, relative: a point whose first run has
	// a value within Noise of a limit (|value - limit| <= Noise*limit) is
	// run again before it is judged. 0 means DefaultNoise; in [0, 1).
	Noise float64
	// Repeats is the number of runs whose majority judges such a point:
	// runs stop as soon as one verdict has Repeats/2+1 of them. 0 means
	// DefaultRepeats; odd; 1 turns repeats off.
	Repeats int
	// OnRun, when set, is called before each run with the load and the
	// run's number at that load (0, then 1, 2 for repeats).
	OnRun func(load Load, trial int)
	// OnPoint, when set, is called after each point is judged.
	OnPoint func(p Point)
}

// Stop says why a search ended.
type Stop string

const (
	// StopResolved: the bracket narrowed to the resolution.
	StopResolved Stop = "resolved"
	// StopMaxLoad: Max passed; the capacity is at least Max.
	StopMaxLoad Stop = "max-load"
	// StopMinLoad: Min failed; no load passed.
	StopMinLoad Stop = "min-load"
	// StopMaxPoints: MaxPoints loads were tried.
	StopMaxPoints Stop = "max-points"
	// StopBudget: the time budget was spent.
	StopBudget Stop = "budget"
	// StopCancelled: ctx ended.
	StopCancelled Stop = "cancelled"
	// StopError: the Runner failed.
	StopError Stop = "error"
)

// Trial is one run at a point's load.
type Trial struct {
	Report *servingbench.Report
	// Pass is set when the report meets every limit of the SLA.
	Pass bool
	// Violations are the SLA's, in its order (servingbench.SLA.Violations).
	Violations []servingbench.Violation
	// Measurements hold the report's value for every limit of the SLA, in
	// its order, the limits met included.
	Measurements []Measurement
	// Elapsed is the time the Runner took.
	Elapsed time.Duration
}

// Point is one load tried by a search and its verdict.
type Point struct {
	Load Load
	// Value is the load on the search's Dimension.
	Value float64
	// Pass is the verdict: the majority of the trials' verdicts (a tie,
	// left by a budget spent between repeats, fails).
	Pass bool
	// Trials are the runs, one unless Marginal.
	Trials []Trial
	// Judged is the index of the first trial whose verdict is the point's:
	// its report and violations are the point's.
	Judged int
	// Marginal is set when the first trial had a value within the noise of
	// a limit, so the point was run again.
	Marginal bool
	// Flipped is set when the trials disagreed.
	Flipped bool
}

// Report returns the report of the judged trial.
func (p *Point) Report() *servingbench.Report { return p.Trials[p.Judged].Report }

// Violations returns the violations of the judged trial.
func (p *Point) Violations() []servingbench.Violation { return p.Trials[p.Judged].Violations }

// Measurements returns the measurements of the judged trial.
func (p *Point) Measurements() []Measurement { return p.Trials[p.Judged].Measurements }

// SearchResult is the outcome of a search.
type SearchResult struct {
	Dimension Dimension
	SLA       servingbench.SLA
	// Capacity is the largest load that passed; 0 when none did.
	Capacity float64
	// AtLeast is set when no load above Capacity failed: Max passed, or
	// the search stopped before one failed. The capacity may be higher.
	AtLeast bool
	// Stop says why the search ended.
	Stop Stop
	// Points are the loads tried, in order.
	Points []Point
	// Requests, Resolution, Noise and Repeats are the values the search
	// used, defaults filled in.
	Requests   int
	Resolution float64
	Noise      float64
	Repeats    int
	// Elapsed is the search's duration.
	Elapsed time.Duration
}

// Best returns the passing point of the largest load (its load is the
// Capacity), or nil when none passed.
func (r *SearchResult) Best() *Point {
	var best *Point
	for i := range r.Points {
		if p := &r.Points[i]; p.Pass && (best == nil || p.Value > best.Value) {
			best = p
		}
	}
	return best
}

// Limiting returns the failing point of the smallest load, the one that
// bounds the capacity (for a capacity of 0, the lowest load tried), or nil
// when none failed.
func (r *SearchResult) Limiting() *Point {
	var lim *Point
	for i := range r.Points {
		if p := &r.Points[i]; !p.Pass && (lim == nil || p.Value < lim.Value) {
			lim = p
		}
	}
	return lim
}

// Reason says which limits the Limiting point violated and by how much,
// "max-concurrency=5: ttft.p99 = 111ms, want <= 50ms (+122.0%)", or ""
// when no point failed.
func (r *SearchResult) Reason() string {
	p := r.Limiting()
	if p == nil {
		return ""
	}
	var failed []string
	for _, m := range p.Measurements() {
		if !m.Holds() {
			failed = append(failed, m.String())
		}
	}
	return r.Dimension.String() + "=" + formatValue(r.Dimension, p.Value) + ": " + strings.Join(failed, "; ")
}

// Search finds the largest load at which every limit of cfg.SLA holds:
// see the package documentation for the rules. It returns the result so
// far with ctx.Err() when ctx ends (the point in progress is dropped), and
// with the error when the Runner fails; a bad config is an error and no
// result.
func Search(ctx context.Context, cfg SearchConfig) (*SearchResult, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s := &searcher{ctx: ctx, c: c, begin: time.Now(), res: &SearchResult{
		Dimension: c.Dimension, SLA: c.SLA, Requests: c.Requests,
		Resolution: c.Resolution, Noise: c.Noise, Repeats: c.Repeats,
	}}
	s.res.Stop, err = s.search()
	s.res.Elapsed = time.Since(s.begin)
	if best := s.res.Best(); best != nil {
		s.res.Capacity = best.Value
		lim := s.res.Limiting()
		s.res.AtLeast = lim == nil || lim.Value < best.Value
	}
	return s.res, err
}

type searcher struct {
	ctx   context.Context
	c     SearchConfig
	begin time.Time
	res   *SearchResult
}

// search brackets the capacity by doubling up from Start (or halving down
// to Min when Start fails), then bisects the bracket.
func (s *searcher) search() (Stop, error) {
	c := s.c
	v := c.Start
	pass, stop, err := s.try(v)
	if stop != "" {
		return stop, err
	}
	lo, hi := 0.0, 0.0
	if pass {
		for lo = v; ; lo = v {
			if v >= c.Max {
				return StopMaxLoad, nil
			}
			v = min(2*v, c.Max)
			if pass, stop, err = s.try(v); stop != "" {
				return stop, err
			}
			if !pass {
				hi = v
				break
			}
		}
	} else {
		for hi = v; ; hi = v {
			if v <= c.Min {
				return StopMinLoad, nil
			}
			v = max(s.half(v), c.Min)
			if pass, stop, err = s.try(v); stop != "" {
				return stop, err
			}
			if pass {
				lo = v
				break
			}
		}
	}
	for !s.resolved(lo, hi) {
		v = s.mid(lo, hi)
		if pass, stop, err = s.try(v); stop != "" {
			return stop, err
		}
		if pass {
			lo = v
		} else {
			hi = v
		}
	}
	return StopResolved, nil
}

func (s *searcher) half(v float64) float64 {
	if s.c.Dimension == MaxConcurrency {
		return math.Floor(v / 2)
	}
	return v / 2
}

func (s *searcher) mid(lo, hi float64) float64 {
	if s.c.Dimension == MaxConcurrency {
		return math.Floor((lo + hi) / 2)
	}
	return (lo + hi) / 2
}

// resolved reports whether the bracket (lo passed, hi failed) is narrow
// enough.
func (s *searcher) resolved(lo, hi float64) bool {
	width := s.c.Resolution * lo
	if s.c.Dimension == MaxConcurrency {
		width = max(width, 1)
	}
	return hi-lo <= width
}

// try runs and judges the point at v. A non-empty Stop ends the search:
// the point is dropped unless a budget spent between its repeats cut it
// short, when it is judged on the trials it has.
func (s *searcher) try(v float64) (pass bool, stop Stop, err error) {
	if len(s.res.Points) >= s.c.MaxPoints {
		return false, StopMaxPoints, nil
	}
	load := s.c.Dimension.With(s.c.Base, v)
	load.Requests = s.c.Requests
	p := Point{Load: load, Value: v}
	for !s.decided(&p) {
		if stop, err = s.spent(); stop != "" {
			if stop == StopBudget && len(p.Trials) > 0 {
				s.add(&p)
				return p.Pass, stop, nil
			}
			return false, stop, err
		}
		t, tstop, terr := s.trial(load, len(p.Trials))
		if tstop != "" {
			return false, tstop, terr
		}
		p.Trials = append(p.Trials, t)
		if len(p.Trials) == 1 {
			p.Marginal = s.c.Repeats > 1 && marginal(t.Measurements, s.c.Noise)
		}
	}
	s.add(&p)
	return p.Pass, "", nil
}

// decided reports whether p has the trials it needs: one when it is not
// marginal, else a majority of Repeats for one verdict.
func (s *searcher) decided(p *Point) bool {
	if len(p.Trials) == 0 {
		return false
	}
	if !p.Marginal {
		return true
	}
	passes := 0
	for _, t := range p.Trials {
		if t.Pass {
			passes++
		}
	}
	need := s.c.Repeats/2 + 1
	return passes >= need || len(p.Trials)-passes >= need
}

// add judges p by the majority of its trials and records it.
func (s *searcher) add(p *Point) {
	passes := 0
	for _, t := range p.Trials {
		if t.Pass {
			passes++
		}
	}
	p.Pass = 2*passes > len(p.Trials)
	p.Flipped = passes > 0 && passes < len(p.Trials)
	for i, t := range p.Trials {
		if t.Pass == p.Pass {
			p.Judged = i
			break
		}
	}
	s.res.Points = append(s.res.Points, *p)
	if s.c.OnPoint != nil {
		s.c.OnPoint(*p)
	}
}

func marginal(ms []Measurement, noise float64) bool {
	for _, m := range ms {
		if m.Marginal(noise) {
			return true
		}
	}
	return false
}

// spent reports a search that must not start another run.
func (s *searcher) spent() (Stop, error) {
	if err := s.ctx.Err(); err != nil {
		return StopCancelled, err
	}
	if s.c.Budget > 0 && time.Since(s.begin) >= s.c.Budget {
		return StopBudget, nil
	}
	return "", nil
}

// trial runs load once and judges the report.
func (s *searcher) trial(load Load, n int) (Trial, Stop, error) {
	if s.c.OnRun != nil {
		s.c.OnRun(load, n)
	}
	begin := time.Now()
	rep, err := s.c.Run(s.ctx, load)
	switch {
	case s.ctx.Err() != nil:
		return Trial{}, StopCancelled, s.ctx.Err()
	case err != nil:
		return Trial{}, StopError, fmt.Errorf("capacity: %v: %w", load, err)
	case rep == nil:
		return Trial{}, StopError, fmt.Errorf("capacity: %v: %w", load, errNilReport)
	}
	t := Trial{
		Report:       rep,
		Violations:   s.c.SLA.Violations(rep),
		Measurements: measure(s.c.SLA, rep),
		Elapsed:      time.Since(begin),
	}
	t.Pass = len(t.Violations) == 0
	return t, "", nil
}

var errNoLimits = errors.New("capacity: SearchConfig.SLA has no limits: every load would pass")
