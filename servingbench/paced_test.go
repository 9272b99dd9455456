//go:build linux

package servingbench

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pacedFixture is two requests of three tokens each, as BenchmarkPacedStreams
// would see them: request 0 read late (ArrivalRead), request 1 with kernel
// times and lags. Times are offsets in ns from an arbitrary wall-clock base.
func pacedFixture() ([]Request, []*Result, map[string]*PacedRecord) {
	const base = int64(1_764_000_000_000_000_000)
	ms := int64(time.Millisecond)
	sent := time.Unix(0, base) // Events are offsets from it
	at := func(offsets ...int64) []time.Duration {
		out := make([]time.Duration, len(offsets))
		for i, o := range offsets {
			out[i] = time.Duration(o)
		}
		return out
	}
	reqs := []Request{{Prompt: "a"}, {Prompt: "b"}}
	results := []*Result{
		// Server ITL 10 ms, 10 ms; client 10.1 ms, 9.8 ms: errors 0.1 and
		// 0.2 ms; first event 0.5 ms after the first write.
		{Index: 0, Sent: sent, Events: at(200*ms+500_000, 210*ms+600_000, 220*ms+400_000)},
		{Index: 1, Sent: sent, Events: at(205*ms, 215*ms, 225*ms), Arrival: ArrivalKernel, Lags: []uint32{10, 20, 30}},
	}
	recs := map[string]*PacedRecord{
		"a": {Prompt: "a", Status: 200, Received: base, Chunks: []int64{base + 200*ms, base + 210*ms, base + 220*ms}},
		"b": {Prompt: "b", Status: 200, Received: base + 2*ms, Chunks: []int64{base + 205*ms, base + 215*ms, base + 225*ms}},
	}
	return reqs, results, recs
}

// TestPacedMetrics checks BenchmarkPacedStreams's arithmetic on Results
// and server records built by hand (numpy's linear percentiles, as
// internal/stats computes them).
func TestPacedMetrics(t *testing.T) {
	reqs, results, recs := pacedFixture()
	m := pacedMetrics{tokens: 3}
	require.NoError(t, m.add(reqs, results, 6000, recs))
	got, err := m.metrics()
	require.NoError(t, err)
	want := []pacedMetric{
		{"cpu-ns/chunk", 1000},
		{"ttft-err-p50-ns", 250_000},   // of 0 and 0.5 ms
		{"ttft-err-p99-ns", 495_000},   // 0.99 of the way
		{"itl-err-p50-ns", 50_000},     // of 0, 0, 0.1 and 0.2 ms
		{"itl-err-p99-ns", 197_000},    // rank 2.97
		{"kernel-%", 50},               // one of two requests
		{"client-lag-p99-ns", 29.8},    // of the kernel request's 10, 20, 30
		{"srv-itl-p50-ns", 10_000_000}, // every server gap
		{"srv-itl-p99-ns", 10_000_000},
		{"srv-ttft-p50-ns", 201_500_000}, // of 200 and 203 ms
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].unit, got[i].unit)
		assert.InDelta(t, want[i].value, got[i].value, 1e-6, want[i].unit)
	}

	// Without kernel times there is no lag metric.
	results[1].Arrival, results[1].Lags = ArrivalRead, nil
	m = pacedMetrics{tokens: 3}
	require.NoError(t, m.add(reqs, results, 6000, recs))
	got, err = m.metrics()
	require.NoError(t, err)
	for _, x := range got {
		assert.NotEqual(t, "client-lag-p99-ns", x.unit)
		if x.unit == "kernel-%" {
			assert.Equal(t, 0.0, x.value)
		}
	}
}

// TestPacedMetricsErrors checks that every mismatch between the client's
// results and the server's records is refused, naming the request.
func TestPacedMetricsErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(reqs []Request, results []*Result, recs map[string]*PacedRecord)
		want  string
	}{
		{"a record missing", func(_ []Request, _ []*Result, recs map[string]*PacedRecord) { delete(recs, "b") },
			"the server recorded 1 requests, the client sent 2"},
		{"another prompt", func(reqs []Request, _ []*Result, _ map[string]*PacedRecord) { reqs[1].Prompt = "c" },
			"request 1: no server record of its prompt"},
		{"a failed response", func(_ []Request, _ []*Result, recs map[string]*PacedRecord) { recs["a"].Status = 500 },
			"request 0: the server recorded status 500"},
		{"a cut response", func(_ []Request, _ []*Result, recs map[string]*PacedRecord) { recs["a"].Aborted = "client gone" },
			`request 0: the server recorded status 200, aborted "client gone"`},
		{"an event missing", func(_ []Request, results []*Result, _ map[string]*PacedRecord) {
			results[1].Events = results[1].Events[:2]
		}, "request 1: 2 client events, 3 server chunks, want 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reqs, results, recs := pacedFixture()
			tc.spoil(reqs, results, recs)
			m := pacedMetrics{tokens: 3}
			err := m.add(reqs, results, 0, recs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("a server off its pace", func(t *testing.T) {
		reqs, results, recs := pacedFixture()
		for _, r := range recs {
			r.Chunks[2] += 3 * int64(time.Millisecond) // gaps of 10 and 13 ms: median 11.5 ms
		}
		m := pacedMetrics{tokens: 3}
		require.NoError(t, m.add(reqs, results, 0, recs))
		_, err := m.metrics()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the ground-truth server did not keep its pace: median ITL 11.5ms, want 10ms")
	})
}

// TestSetProcessAffinity pins every thread of this process to one allowed
// CPU, checks each one's mask in /proc/self/task, restores the old mask,
// and checks that a CPU the process may not use is refused with an error
// that names the thread.
func TestSetProcessAffinity(t *testing.T) {
	old, err := affinity()
	require.NoError(t, err)
	cpu := 0
	for !old.IsSet(cpu) {
		cpu++
	}
	require.NoError(t, pinProcess(os.Getpid(), cpu))
	defer func() { require.NoError(t, setProcessAffinity(os.Getpid(), old)) }()
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	require.NotEmpty(t, tasks)
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		require.NoError(t, err)
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); errors.Is(err, unix.ESRCH) {
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, 1, set.Count(), "thread %d", tid)
		assert.True(t, set.IsSet(cpu), "thread %d", tid)
	}

	last := len(old)*64 - 1 // the last CPU a CPUSet holds
	require.False(t, old.IsSet(last), "this machine may use CPU %d", last)
	err = pinProcess(os.Getpid(), last)
	require.Error(t, err, "pinning to CPU %d", last)
	assert.Regexp(t, `^setting the CPU affinity of thread \d+ of process \d+ to 1 CPUs: invalid argument$`, err.Error())
}
