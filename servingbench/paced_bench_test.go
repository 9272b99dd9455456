//go:build linux

package servingbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/servingbench/servingbench/internal/stats"
)

// The paced regime of issue 15, served by TestPacedHelperServer.
const (
	// PacedTTFT is the server's time from admission to the first token,
	// PacedITL its step (the time between tokens), PacedTokens the tokens
	// of every request, one a chunk.
	PacedTTFT   = 200 * time.Millisecond
	PacedITL    = 10 * time.Millisecond
	PacedTokens = 128
	// PacedModel is the model name the helper server serves.
	PacedModel = "m"
	// PacedHelperEnv selects the helper a re-executed test binary runs:
	// "server" (TestPacedHelperServer) or "burn" (TestPacedHelperBurner).
	PacedHelperEnv = "SERVINGBENCH_PACED_HELPER"
)

// The CPUs of the paced benchmark: the client (this process, and the
// burner) on one, the ground-truth server on the other.
const (
	pacedClientCPU = 0
	pacedServerCPU = 1
)

// PacedRecord is one request as the helper server recorded it, the line it
// sends after "REC ": the prompt, the status sent, why it was cut short
// ("" if it was not), and the wall-clock times (UnixNano, CLOCK_REALTIME)
// at which the handler received it and had written and flushed each token
// chunk (servingtest.Record.Received and Chunks).
type PacedRecord struct {
	Prompt   string  `json:"prompt"`
	Status   int     `json:"status"`
	Aborted  string  `json:"aborted,omitempty"`
	Received int64   `json:"received"`
	Chunks   []int64 `json:"chunks"`
}

// BenchmarkPacedStreams measures the client against an independent ground
// truth in the paced regime real servers stream in: every request gets its
// first token 200 ms after the server admits it and one token a chunk every
// 10 ms after, 128 tokens, whatever the batch (TestPacedHelperServer, a
// servingtest server in a child process pinned to CPU 1). The benchmark
// process, the client, is pinned to CPU 0 for the run (every thread; the
// old mask is restored after), and runs Run with NewCompletions' own
// transport (no HTTPClient, so whatever the engine does on its own
// connections, kernel receive times included, is measured): 2*streams
// requests of unique prompts, at most streams in flight. With busy=true a
// CPU burner process (TestPacedHelperBurner) spins on CPU 0 during the run.
//
// After each run the server sends its records (PacedRecord), matched to
// the Results by prompt. Both processes stamp times with time.Now, whose
// wall reading is CLOCK_REALTIME, as the kernel's receive timestamps
// (SO_TIMESTAMPNS) are, so the client's event times and the server's write
// times compare as UnixNano on one clock (a wall-clock step during a run
// would corrupt the errors; none is expected in 3 s). The
// metrics of each sub-benchmark:
//
//   - cpu-ns/chunk: the client's CPU (getrusage user+sys of this process,
//     over Run alone) per token event;
//   - ttft-err-p50-ns, ttft-err-p99-ns: the client's first event time
//     minus the server's first write time, over the requests. The server
//     stamps a chunk when its flush has returned, and loopback delivers
//     the bytes inside that write, so with kernel receive times the error
//     can be a few microseconds below zero;
//   - itl-err-p50-ns, itl-err-p99-ns: |client ITL - server ITL| over every
//     pair of consecutive chunks;
//   - kernel-%: the share of requests whose event times are kernel
//     receive times (Result.Arrival == ArrivalKernel), and client-lag-p99-ns, the
//     99th percentile of their Result.Lags, reported only when there are
//     some;
//   - srv-itl-p50-ns, srv-itl-p99-ns, srv-ttft-p50-ns: the server's own
//     pace from its records; a median ITL more than 10% off its 10 ms step
//     fails the benchmark, whose ground truth then was not paced.
//
// Any failed request fails the benchmark, naming the errors. Run it with
//
//	go test -run '^$' -bench PacedStreams -benchtime 1x ./servingbench
//
// for all three clients (see pacedClients), or with -bench
// 'PacedStreams/client=engine' for one
//
// (about 3 s a sub-benchmark; it needs CPUs 0 and 1, and is not run by the
// test command).
func BenchmarkPacedStreams(b *testing.B) {
	checkPacedCPUs(b)
	srv := startHelper(b, "TestPacedHelperServer", PacedHelperEnv+"=server")
	url := "http://" + srv.expect(b, "ADDR ")
	if err := pinProcess(srv.cmd.Process.Pid, pacedServerCPU); err != nil {
		b.Fatal(err)
	}
	for _, client := range pacedClients {
		for _, streams := range []int{64, 256, 1024} {
			for _, busy := range []bool{false, true} {
				b.Run(fmt.Sprintf("client=%s/streams=%d/busy=%v", client, streams, busy), func(b *testing.B) {
					benchPaced(b, url, srv, client, streams, busy)
				})
			}
		}
	}
}

// The clients of BenchmarkPacedStreams: the engine (NewCompletions, on
// the poller client), the engine through net/http (SERVINGBENCH_TRANSPORT
// set to net/http) and the floor (floorClient).
var pacedClients = []string{"engine", "net-http", "floor"}

// newPacedClient returns the named client of pacedClients.
func newPacedClient(b *testing.B, name, url string, streams int) (Client, func()) {
	if name == "floor" {
		f, err := newFloorClient(url, streams)
		if err != nil {
			b.Fatal(err)
		}
		return f, f.Close
	}
	if name == "net-http" {
		b.Setenv(transportEnv, "net/http")
	}
	c, err := NewCompletions(OpenAIConfig{BaseURL: url, Model: PacedModel, MaxConcurrency: streams, IgnoreEOS: true})
	if err != nil {
		b.Fatal(err)
	}
	if (c.fast == nil) != (name == "net-http") {
		b.Fatalf("client %s: the poller client is in use: %v", name, c.fast != nil)
	}
	return c, c.Close
}

func benchPaced(b *testing.B, url string, srv *helperProcess, client string, streams int, busy bool) {
	c, closeClient := newPacedClient(b, client, url, streams)
	defer closeClient()
	reqs := make([]Request, 2*streams)
	for i := range reqs {
		reqs[i] = Request{Prompt: fmt.Sprintf("paced request %d: %s", i, strings.Repeat("hello ", 30)), MaxTokens: PacedTokens}
	}
	if busy {
		burner := startHelper(b, "TestPacedHelperBurner", PacedHelperEnv+"=burn")
		burner.expect(b, "READY")
		if err := pinProcess(burner.cmd.Process.Pid, pacedClientCPU); err != nil {
			b.Fatal(err)
		}
	}
	m := pacedMetrics{tokens: PacedTokens}
	b.ResetTimer()
	for range b.N {
		rep, cpu := runPinned(b, Config{Client: c, Requests: reqs, MaxConcurrency: streams})
		b.StopTimer()
		if err := m.add(reqs, rep.Results, cpu, fetchTruth(b, srv)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	ms, err := m.metrics()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(0, "ns/op")
	for _, x := range ms {
		b.ReportMetric(x.value, x.unit)
	}
}

// runPinned runs cfg with every thread of this process pinned to the
// client's CPU and returns the report and the process's CPU time over the
// run; the old affinity is restored before it returns.
func runPinned(b *testing.B, cfg Config) (*Report, time.Duration) {
	old, err := affinity()
	if err != nil {
		b.Fatal(err)
	}
	if err := pinProcess(os.Getpid(), pacedClientCPU); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	rep, err := Run(context.Background(), cfg)
	cpu := cpuTime() - cpu0
	if rerr := setProcessAffinity(os.Getpid(), old); rerr != nil {
		b.Fatalf("restoring the benchmark's CPU affinity: %v", rerr)
	}
	if err != nil {
		b.Fatal(err)
	}
	if rep.Failed > 0 {
		b.Fatalf("%d of %d requests failed: %v", rep.Failed, rep.Failed+rep.Completed, rep.Errors)
	}
	return rep, cpu
}

// fetchTruth asks the helper server for its records since the last call.
func fetchTruth(b *testing.B, srv *helperProcess) map[string]*PacedRecord {
	if _, err := srv.in.Write([]byte("TRUTH\n")); err != nil {
		b.Fatalf("asking the paced server for its records: %v", err)
	}
	recs := map[string]*PacedRecord{}
	for {
		line, err := srv.out.ReadString('\n')
		if err != nil {
			b.Fatalf("reading the paced server's records: %v", err)
		}
		if rest, ok := strings.CutPrefix(line, "REC "); ok {
			r := new(PacedRecord)
			if err := json.Unmarshal([]byte(rest), r); err != nil {
				b.Fatalf("paced server record %q: %v", rest, err)
			}
			recs[r.Prompt] = r
		} else if rest, ok := strings.CutPrefix(line, "END "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err != nil || n != len(recs) {
				b.Fatalf("paced server sent %d distinct records, its END line says %q", len(recs), rest)
			}
			return recs
		}
	}
}

// pacedMetrics accumulates the errors of a sub-benchmark's runs.
type pacedMetrics struct {
	tokens               int // token events every request must have
	cpu                  time.Duration
	events               int
	ttftErr, itlErr, lag []int64
	srvITL, srvTTFT      []int64
	requests, kernel     int
}

// add matches the results of a run of reqs to the server's records by
// prompt and pools their errors and the run's CPU time. A result without
// its record, a record of a failed or cut response and a result or record
// without m.tokens events are errors.
func (m *pacedMetrics) add(reqs []Request, results []*Result, cpu time.Duration, recs map[string]*PacedRecord) error {
	m.cpu += cpu
	if len(recs) != len(results) {
		return fmt.Errorf("the server recorded %d requests, the client sent %d", len(recs), len(results))
	}
	for _, res := range results {
		rec := recs[reqs[res.Index].Prompt]
		if rec == nil {
			return fmt.Errorf("request %d: no server record of its prompt", res.Index)
		}
		ev := eventTimes(res)
		switch {
		case rec.Status != 200 || rec.Aborted != "":
			return fmt.Errorf("request %d: the server recorded status %d, aborted %q", res.Index, rec.Status, rec.Aborted)
		case len(ev) != m.tokens || len(rec.Chunks) != m.tokens:
			return fmt.Errorf("request %d: %d client events, %d server chunks, want %d", res.Index, len(ev), len(rec.Chunks), m.tokens)
		}
		m.requests++
		m.events += len(ev)
		m.ttftErr = append(m.ttftErr, ev[0]-rec.Chunks[0])
		m.srvTTFT = append(m.srvTTFT, rec.Chunks[0]-rec.Received)
		for k := 1; k < len(ev); k++ {
			srv := rec.Chunks[k] - rec.Chunks[k-1]
			m.srvITL = append(m.srvITL, srv)
			m.itlErr = append(m.itlErr, abs(ev[k]-ev[k-1]-srv))
		}
		if res.Arrival == ArrivalKernel {
			m.kernel++
			for _, l := range res.Lags {
				m.lag = append(m.lag, int64(l))
			}
		}
	}
	return nil
}

// pacedMetric is one metric of BenchmarkPacedStreams.
type pacedMetric struct {
	unit  string
	value float64
}

// metrics returns the sub-benchmark's metrics, in the order documented at
// BenchmarkPacedStreams, or an error when the server's median ITL was more
// than 10% off PacedITL (its ground truth was then not paced).
func (m *pacedMetrics) metrics() ([]pacedMetric, error) {
	for _, s := range [][]int64{m.ttftErr, m.itlErr, m.lag, m.srvITL, m.srvTTFT} {
		slices.Sort(s)
	}
	if med := time.Duration(stats.Median(m.srvITL)); med < PacedITL*9/10 || med > PacedITL*11/10 {
		return nil, fmt.Errorf("the ground-truth server did not keep its pace: median ITL %v, want %v (p99 %v)", med, PacedITL, time.Duration(stats.Percentile(m.srvITL, 99)))
	}
	out := []pacedMetric{
		{"cpu-ns/chunk", float64(m.cpu.Nanoseconds()) / float64(m.events)},
		{"ttft-err-p50-ns", stats.Median(m.ttftErr)},
		{"ttft-err-p99-ns", stats.Percentile(m.ttftErr, 99)},
		{"itl-err-p50-ns", stats.Median(m.itlErr)},
		{"itl-err-p99-ns", stats.Percentile(m.itlErr, 99)},
		{"kernel-%", 100 * float64(m.kernel) / float64(m.requests)},
	}
	if len(m.lag) > 0 {
		out = append(out, pacedMetric{"client-lag-p99-ns", stats.Percentile(m.lag, 99)})
	}
	return append(out,
		pacedMetric{"srv-itl-p50-ns", stats.Median(m.srvITL)},
		pacedMetric{"srv-itl-p99-ns", stats.Percentile(m.srvITL, 99)},
		pacedMetric{"srv-ttft-p50-ns", stats.Median(m.srvTTFT)},
	), nil
}

// eventTimes returns the wall-clock time (UnixNano) of each of res's token
// events.
func eventTimes(res *Result) []int64 {
	out := make([]int64, len(res.Events))
	for i := range res.Events {
		out[i] = res.EventTime(i).UnixNano()
	}
	return out
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

// checkPacedCPUs fails b unless this process may run on both of the
// benchmark's CPUs.
func checkPacedCPUs(b *testing.B) {
	set, err := affinity()
	if err != nil {
		b.Fatal(err)
	}
	if !set.IsSet(pacedClientCPU) || !set.IsSet(pacedServerCPU) {
		b.Fatalf("BenchmarkPacedStreams needs CPUs %d and %d, this process may run on %d CPUs )", pacedClientCPU, pacedServerCPU, set.Count())
	}
}

// affinity returns the CPU affinity of the calling thread.
func affinity() (unix.CPUSet, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return set, fmt.Errorf("sched_getaffinity: %w", err)
	}
	return set, nil
}

// pinProcess pins every thread of process pid to cpu.
func pinProcess(pid, cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return setProcessAffinity(pid, set)
}

// setProcessAffinity sets the CPU affinity of every thread of process pid
// (sched_setaffinity on each task of /proc/PID/task). A thread inherits
// its creator's mask, so a thread started during a pass by a thread not
// yet set is caught by the next: it returns after a pass that found every
// thread set, and fails, naming the thread, if one cannot be set.
func setProcessAffinity(pid int, set unix.CPUSet) error {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	for range 100 {
		tasks, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("pinning process %d: %w", pid, err)
		}
		changed := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var cur unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &cur); errors.Is(err, unix.ESRCH) {
				continue // the thread has exited
			} else if err != nil {
				return fmt.Errorf("sched_getaffinity of thread %d of process %d: %w", tid, pid, err)
			}
			if cur == set {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); errors.Is(err, unix.ESRCH) {
				continue
			} else if err != nil {
				return fmt.Errorf("setting the CPU affinity of thread %d of process %d to %d CPUs: %w", tid, pid, set.Count(), err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return fmt.Errorf("setting the CPU affinity of process %d: threads kept changing over 100 passes", pid)
}
