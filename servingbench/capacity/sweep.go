package capacity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// SweepPoint is one load of a sweep and its report.
type SweepPoint struct {
	Load   Load
	Report *servingbench.Report
	// Elapsed is the time the Runner took, warm-up and set-up included.
	Elapsed time.Duration
}

// SweepOptions are a sweep's progress callbacks; the zero value has none.
// They are called from the sweep's goroutine, between runs.
type SweepOptions struct {
	// OnStart, when set, is called before each point runs, with its index
	// in the order the points run.
	OnStart func(i int, load Load)
	// OnPoint, when set, is called after each point has finished, with the
	// same index.
	OnPoint func(i int, p SweepPoint)
}

// SweepResult holds the points a sweep finished, in load order for
// SweepWorkload and in the given order for Sweep.
type SweepResult struct {
	Points []SweepPoint
	// Interrupted is the point whose run ctx cut short, with the Runner's
	// partial report (nil when the Runner returned none), or nil.
	Interrupted *SweepPoint
}

// Sweep runs run at each load in turn and returns a point per load. The
// loads are validated first (an error names the bad one). When ctx ends,
// Sweep stops: the points finished so far are returned with ctx.Err(), and
// the one cut short is in Interrupted. An error from the Runner ends the
// sweep too: the finished points are returned with the error, wrapped with
// the load.
func Sweep(ctx context.Context, loads []Load, run Runner, opts SweepOptions) (*SweepResult, error) {
	if run == nil {
		return nil, errors.New("capacity: Sweep: the Runner is nil")
	}
	if len(loads) == 0 {
		return nil, errors.New("capacity: Sweep: no loads")
	}
	for i, l := range loads {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("capacity: Sweep: loads[%d]: %w", i, err)
		}
	}
	res := &SweepResult{}
	for i, l := range loads {
		p, err := sweepOne(ctx, i, l, run, opts)
		if err != nil {
			res.Interrupted = p
			return res, err
		}
		res.Points = append(res.Points, *p)
	}
	return res, nil
}

// sweepOne runs one point. It returns an error when ctx ended (ctx.Err(),
// with the partial point if the Runner returned a report) or the Runner
// failed.
func sweepOne(ctx context.Context, i int, l Load, run Runner, opts SweepOptions) (*SweepPoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.OnStart != nil {
		opts.OnStart(i, l)
	}
	begin := time.Now()
	rep, err := run(ctx, l)
	p := &SweepPoint{Load: l, Report: rep, Elapsed: time.Since(begin)}
	switch {
	case ctx.Err() != nil:
		if rep == nil {
			p = nil
		}
		return p, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("capacity: %v: %w", l, err)
	case rep == nil:
		return nil, fmt.Errorf("capacity: %v: %w", l, errNilReport)
	}
	if opts.OnPoint != nil {
		opts.OnPoint(i, *p)
	}
	return p, nil
}
