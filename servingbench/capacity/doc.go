// Package capacity runs a scenario at many loads: a sweep over a list of
// request rates or concurrencies (Sweep), and vllm bench sweep
// serve_workload's evenly spaced points between the serial and the batch
// point (SweepWorkload). It needs no testing.B: a Runner (ConfigRunner
// wraps servingbench.Run) runs the scenario at a Load, and everything
// else is data.
//
// # Sweeps
//
// Sweep runs the loads in turn and keeps a point (load and report) per
// load. On a cancelled context it stops and returns the points finished,
// with ctx.Err(); the run it cut short is SweepResult.Interrupted.
// SweepWorkload picks its loads as serve_workload does; its documentation
// has the exact rule.
//
// Sweep and SweepWorkload are synchronous and call the Runner and the
// callbacks from the calling goroutine, one run at a time. Results are
// plain data, not safe for concurrent modification.
package capacity
