// Package capacity runs a scenario at many loads: a sweep over a list of
// request rates or concurrencies (Sweep), vllm bench sweep
// serve_workload's evenly spaced points between the serial and the batch
// point (SweepWorkload), and the search for the largest load at which
// every limit of a servingbench.SLA holds (Search): the capacity, a number
// a regression gate can compare between builds. It needs no testing.B: a
// Runner (ConfigRunner wraps servingbench.Run) runs the scenario at a
// Load, and everything else is data: reports, verdicts, violations.
//
// # Sweeps
//
// Sweep runs the loads in turn and keeps a point (load and report) per
// load. On a cancelled context it stops and returns the points finished,
// with ctx.Err(); the run it cut short is SweepResult.Interrupted.
// SweepWorkload picks its loads as serve_workload does; its documentation
// has the exact rule. SweepResult.WriteTable, WriteJSON and WriteCSV write
// a sweep's table and summaries.
//
// # The capacity search
//
// Search varies one Dimension of the load, the request rate (the default)
// or the maximum concurrency, keeping the rest of SearchConfig.Base:
//
//   - Bracket. Start (default 1) runs first. While a load passes, the next
//     is twice it, capped at Max; when Max passes the search stops and the
//     capacity is "at least" Max (StopMaxLoad). When Start fails, loads are
//     halved down to Min (default 1 for concurrency, Start/8 for rates);
//     when Min fails the capacity is 0 (StopMinLoad). Concurrencies halve
//     rounding down.
//   - Bisect. Between the highest passing load lo and the lowest failing
//     one hi, the midpoint runs ((lo+hi)/2, rounded down for
//     concurrencies), until hi - lo <= Resolution*lo: by default 5% of the
//     value for rates, and hi - lo = 1 for concurrencies (at most
//     max(1, Resolution*lo) when Resolution is set).
//   - Capacity is the largest load that passed, 0 when none did. AtLeast
//     is set when no load above it failed (Max passed, or the search
//     stopped first). SearchResult.Limiting is the lowest failing load
//     (for a capacity of 0, the lowest load tried) and Reason says which
//     of its limits failed and by how much.
//   - Bounds. MaxPoints (default 20) loads at most, repeats not counted;
//     no run starts once Budget has passed; a cancelled context stops the
//     search and drops the point in progress. SearchResult.Stop says why
//     the search ended. Passing loads always lie below failing ones, so
//     the bracket stays consistent however it ends.
//
// # Sizing a point
//
// Every point runs the same number of requests, SearchConfig.Requests,
// which the Runner receives as Load.Requests. A statistic needs enough
// samples to mean anything: for each limit on a percentile pNN (NN < 100)
// a point needs ceil(T*100/(100-NN)) requests, with T =
// SearchConfig.TailRequests (default 1) the requests expected beyond the
// percentile: 100 for a p99, 1,000 for a p99.9. With fewer, the sample is
// not expected to hold one request from the tail the percentile bounds,
// and its pNN reads low. Means, medians, throughputs and failure counts
// add no requirement. Requests 0 means the largest requirement, and at
// least DefaultRequests (100); a smaller Requests is a configuration
// error naming the limit (MinRequests computes the rule). A concurrency
// search may not go above Requests, since n requests never have more
// than n in flight (Max defaults to Requests).
//
// # Noise: repeating a point
//
// A point's run measures a value for every limit (Measurement). When any
// value lies within the run-to-run noise of its limit, |value - limit| <=
// Noise*limit (Noise defaults to 5%; limits of 0, such as failed<=0, are
// exact and never marginal), the point is Marginal and is run again until
// one verdict has a majority of Repeats (default 3: two runs that agree).
// The majority is the point's verdict, and the first run with that verdict
// is its judged run (its report and violations are the point's). Points
// whose runs disagreed are Flipped and reported. A budget spent between
// repeats leaves the point judged on the runs it has, a tie failing.
//
// # Results
//
// SearchResult.WriteText prints the capacity, the points tried and the
// first failing point; SearchResult.WriteJSON writes the capacity
// command's --save-result file, each point with its vLLM result JSON
// (servingbench.WriteJSON). A run's report is judged by
// servingbench.SLA.Violations, so an unknown value (no samples, a goodput
// limit without SLOs) fails.
//
// # Concurrency
//
// Sweep, SweepWorkload and Search are synchronous and call the Runner and
// the callbacks from the calling goroutine, one run at a time. Results are
// plain data, not safe for concurrent modification.
package capacity
