package servingbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sizes of BenchmarkRunMemory's run: issue 15's 100,000 requests of 128
// output tokens, 256 in flight.
const (
	memoryRequests    = 100_000
	memoryTokens      = 128
	memoryConcurrency = 256
	memoryPromptBytes = 192 // a size class of Go's allocator: each prompt's string takes exactly this
)

// BenchmarkRunMemory measures the heap a Run keeps for every request it
// sent: one op is a Run of memoryRequests requests (SERVINGBENCH_MEMORY_REQUESTS
// overrides the count) of memoryTokens output tokens each (ignore_eos),
// memoryConcurrency in flight, against the zero-cost simulated server in a
// child process (startIngestServer), so that the server's records of the
// requests are not in this process's heap.
//
// live-B/req is the live heap once Run has returned and the client is
// closed (HeapAlloc after two runtime.GC, the second one emptying the
// sync.Pools' victim caches), minus the live heap before the requests were
// built, minus the bytes of their prompt text, divided by the number of
// requests: what the Report, its Results and summaries, and the Requests
// themselves keep per request. Results whose Lags are nil (times from
// reads, ArrivalRead) are given a Lags of one entry per token event before
// the measure, as the engine fills it with kernel timestamps, so that the
// figure includes them either way; Lags the engine filled must have no
// capacity beyond their length, nor Events.
//
// peak-B/req is the largest heap in use during the Run (the runtime's
// /memory/classes/heap/objects:bytes, live and not yet swept objects,
// sampled every millisecond), less the same baseline, per request.
// itl-p99-ms is how long the Report's first ITL P99 took, selected from
// the Results' events (Summary.Percentile).
//
// SERVINGBENCH_MEMPROFILE=FILE writes the heap profile taken at the live
// measure to FILE (runtime.MemProfileRate is set to 4096 for the run, so
// the profile sees small allocations); read what the Report keeps with
//
//	go tool pprof -sample_index=inuse_space -top servingbench.test FILE
//
// and what the run allocated with -sample_index=alloc_space.
func BenchmarkRunMemory(b *testing.B) {
	n := memoryRequests
	if s := os.Getenv("SERVINGBENCH_MEMORY_REQUESTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("SERVINGBENCH_MEMORY_REQUESTS=%q: not a positive number of requests", s)
		}
		n = v
	}
	profile := os.Getenv("SERVINGBENCH_MEMPROFILE")
	if profile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 4096
	}
	url := startIngestServer(b)
	for range b.N {
		benchRunMemory(b, url, n, profile)
	}
}

func benchRunMemory(b *testing.B, url string, n int, profile string) {
	c, err := NewCompletions(OpenAIConfig{BaseURL: url, Model: ingestModel, MaxConcurrency: memoryConcurrency, IgnoreEOS: true})
	if err != nil {
		b.Fatal(err)
	}
	base := liveHeap()
	reqs := make([]Request, n)
	prompts := 0
	for i := range reqs {
		p := fmt.Sprintf("request %d:", i)
		p += strings.Repeat(" hello", (memoryPromptBytes-len(p))/6)
		p += strings.Repeat(".", memoryPromptBytes-len(p))
		reqs[i] = Request{Prompt: p, MaxTokens: memoryTokens}
		prompts += len(p)
	}

	peak := newPeakSampler()
	rep, err := Run(context.Background(), Config{Client: c, Requests: reqs, MaxConcurrency: memoryConcurrency})
	maxHeap := peak.stop()
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	c = nil
	if rep.Completed != n || rep.TotalOutputTokens != n*memoryTokens {
		b.Fatalf("%d of %d requests completed with %d output tokens, want %d; errors %v",
			rep.Completed, n, rep.TotalOutputTokens, n*memoryTokens, rep.Errors)
	}
	for _, r := range rep.Results {
		if cap(r.Events) != len(r.Events) {
			b.Fatalf("request %d: Events has capacity %d for %d events", r.Index, cap(r.Events), len(r.Events))
		}
		switch {
		case r.Lags == nil:
			r.Lags = make([]uint32, len(r.Events))
		case cap(r.Lags) != len(r.Events):
			b.Fatalf("request %d: Lags has capacity %d for %d events", r.Index, cap(r.Lags), len(r.Events))
		}
	}
	live := liveHeap()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(reqs)
	t0 := time.Now()
	if _, ok := rep.ITL.Percentile(99); !ok {
		b.Fatal("ITL P99 not known")
	}
	selectTime := time.Since(t0)
	b.ReportMetric(float64(int64(live)-int64(base)-int64(prompts))/float64(n), "live-B/req")
	b.ReportMetric(float64(int64(maxHeap)-int64(base)-int64(prompts))/float64(n), "peak-B/req")
	b.ReportMetric(float64(selectTime.Milliseconds()), "itl-p99-ms")
}

// liveHeap returns the live heap after two garbage collections: the
// second frees what the first moved to the sync.Pools' victim caches.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// peakSampler reads the heap's objects in use every millisecond until
// stopped and keeps the largest figure.
type peakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

func newPeakSampler() *peakSampler {
	p := &peakSampler{done: make(chan struct{})}
	p.wg.Go(func() {
		s := []metrics.Sample{{Name: heapObjectsMetric}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			p.max = max(p.max, s[0].Value.Uint64())
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	})
	return p
}

// stop ends the sampling and returns the largest heap seen.
func (p *peakSampler) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}
