package servingtest

import "time"

// FixedService returns a model whose capacity is known exactly, for tests
// of load sweeps and capacity searches: at most running sequences run at
// once (MaxRunning; 0 means no bound), every engine step lasts step
// (DecodeBase; no prefill or per-sequence cost), the KV cache is unbounded
// and no request stops early. So, for requests of O output tokens:
//
//   - a request admitted at a step boundary gets its first token at the
//     end of that step and its last O steps after admission: its service
//     time is S = O*step, and its slot is refilled at that same boundary;
//   - a request that finds a free slot waits at most for the step in
//     progress to end: its TTFT is step when the engine was idle, and in
//     (step, 2*step] when it was busy (a request arriving at the very
//     instant of a boundary may or may not join that step);
//   - a request that finds every slot taken waits for one to free;
//   - so the server sustains running concurrent requests and running/S
//     requests per second, and no more.
//
// Times are divided by Speed, as for every Model; set it on the result.
func FixedService(running int, step time.Duration) Model {
	return Model{
		Name:       "sim-fixed-service",
		DecodeBase: step,
		MaxRunning: running,
	}
}
