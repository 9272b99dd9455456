package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/servingbench/servingbench/servingbench"
)

// SerialLoad returns serve_workload's serial point for base: concurrency
// 1, and for a RequestRate sweep also rate 1.
func SerialLoad(d Dimension, base Load) Load {
	l := base
	l.Concurrency = 1
	if d == RequestRate {
		l.Rate = 1
	}
	return l
}

// BatchLoad returns serve_workload's batch point for base: concurrency
// base.Requests (the dataset size), and for a RequestRate sweep also that
// many requests per second.
func BatchLoad(d Dimension, base Load) Load {
	l := base
	l.Concurrency = base.Requests
	if d == RequestRate {
		l.Rate = float64(base.Requests)
	}
	return l
}

// WorkloadValue is vLLM's estimate of the load a run carried on d: its
// request throughput (RequestRate), or its request throughput times its
// mean E2EL in seconds (MaxConcurrency).
func WorkloadValue(d Dimension, r *servingbench.Report) float64 {
	if d == MaxConcurrency {
		return r.RequestThroughput * r.E2EL.Mean.Seconds()
	}
	return r.RequestThroughput
}

// IntermediateLoads returns the loads serve_workload runs between the
// serial and the batch point, from their reports: points-2 evenly spaced
// whole values at most (fewer when they round to the same value).
func IntermediateLoads(d Dimension, base Load, serial, batch *servingbench.Report, points int) []Load {
	lo := math.Ceil(WorkloadValue(d, serial))
	hi := math.Floor(WorkloadValue(d, batch))
	var values []float64
	// numpy.linspace: i*step + start with step = (stop-start)/(num-1), in
	// that order of operations, so that halves round as in vLLM.
	step := (hi - lo) / float64(points-1)
	for i := 1; i < points-1; i++ {
		v := math.RoundToEven(float64(i)*step + lo)
		if v >= 1 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	values = slices.Compact(values)
	loads := make([]Load, len(values))
	for i, v := range values {
		loads[i] = d.With(base, v)
	}
	return loads
}

// SweepWorkload runs the sweep of vllm bench sweep serve_workload
// (vllm/benchmarks/sweep/serve_workload.py, explore_comb_workloads), with
// points loads in all at most:
//
//  1. the serial point runs base with max_concurrency 1 and the varied
//     variable set to 1 (SerialLoad; for a RequestRate sweep: rate 1
//     req/s and concurrency 1);
//  2. the batch point runs base with max_concurrency n, the dataset size
//     base.Requests, and the varied variable set to n (BatchLoad; for a
//     RequestRate sweep: rate n and concurrency n);
//  3. each is turned into a workload value (WorkloadValue, vLLM's
//     _estimate_workload_value): the request throughput for a rate, the
//     throughput times the mean E2EL in seconds (Little's law: the mean
//     requests in flight) for a concurrency; the serial value is rounded
//     up, the batch one down;
//  4. the points between (IntermediateLoads) are
//     numpy.linspace(serial, batch, points)[1:-1], each rounded half to
//     even (Python's round), duplicates dropped, sorted; they run base with
//     only the varied variable set, the other keeping base's value.
//
// As in vLLM, points must be at least 2. Values that round below 1 (a
// batch point slower than the serial one) are dropped here, where vLLM
// would send a rate or a concurrency of 0 and fail. The result lists the
// serial, intermediate and batch points in that order, as vLLM's summary
// does; the callbacks' indexes count in the order the points run (serial
// 0, batch 1, then the others). Cancellation and errors are as for Sweep.
func SweepWorkload(ctx context.Context, d Dimension, base Load, points int, run Runner, opts SweepOptions) (*SweepResult, error) {
	switch {
	case run == nil:
		return nil, errors.New("capacity: SweepWorkload: the Runner is nil")
	case !d.valid():
		return nil, fmt.Errorf("capacity: SweepWorkload: unknown dimension %v", d)
	case points < 2:
		return nil, fmt.Errorf("capacity: SweepWorkload: points must be >= 2 (the serial and the batch point), got %d", points)
	case base.Requests < 1:
		return nil, fmt.Errorf("capacity: SweepWorkload: base.Requests (the dataset size) must be >= 1, got %d", base.Requests)
	}
	if err := base.Validate(); err != nil {
		return nil, fmt.Errorf("capacity: SweepWorkload: base: %w", err)
	}
	res := &SweepResult{}
	serial, err := sweepOne(ctx, 0, SerialLoad(d, base), run, opts)
	if err != nil {
		res.Interrupted = serial
		return res, err
	}
	res.Points = append(res.Points, *serial)
	batch, err := sweepOne(ctx, 1, BatchLoad(d, base), run, opts)
	if err != nil {
		res.Interrupted = batch
		return res, err
	}
	for i, l := range IntermediateLoads(d, base, serial.Report, batch.Report, points) {
		p, err := sweepOne(ctx, 2+i, l, run, opts)
		if err != nil {
			res.Interrupted = p
			res.Points = append(res.Points, *batch)
			return res, err
		}
		res.Points = append(res.Points, *p)
	}
	res.Points = append(res.Points, *batch)
	return res, nil
}
