//go:build linux

package servingbench_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestPacedHelperServer is not a test: BenchmarkPacedStreams runs it in a
// child process, which the benchmark pins to CPU 1. It serves a fixed-time
// model (servingtest.FixedService with no bound on the batch, 10 ms steps,
// FirstTokenDelay 200 ms: TTFT 200 ms from admission and ITL 10 ms whatever
// the batch, one token a chunk, each chunk flushed) and prints "ADDR
// host:port". Each "TRUTH" line on its standard input is answered with one
// "REC " line of JSON (servingbench.PacedRecord) for every completion
// request received since the last, then "END n"; the records are then
// forgotten. It exits when its standard input closes.
func TestPacedHelperServer(t *testing.T) {
	if os.Getenv(servingbench.PacedHelperEnv) != "server" {
		t.Skip("helper process for BenchmarkPacedStreams")
	}
	m := servingtest.FixedService(0, servingbench.PacedITL)
	m.FirstTokenDelay = servingbench.PacedTTFT
	m.Name = servingbench.PacedModel
	srv := servingtest.NewServer(m)
	defer srv.Close()
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	fmt.Fprintf(out, "ADDR %s\n", srv.URL[len("http://"):])
	out.Flush()
	enc := json.NewEncoder(out)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "TRUTH" {
			t.Fatalf("paced helper server: unknown command %q", in.Text())
		}
		recs := srv.Truth()
		srv.Reset()
		for _, r := range recs {
			pr := servingbench.PacedRecord{Prompt: r.Prompt, Status: r.Status, Aborted: r.Aborted, Received: r.Received.UnixNano(), Chunks: make([]int64, len(r.Chunks))}
			for i, c := range r.Chunks {
				pr.Chunks[i] = c.UnixNano()
			}
			out.WriteString("REC ")
			if err := enc.Encode(&pr); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(out, "END %d\n", len(recs))
		if err := out.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPacedHelperBurner is not a test: BenchmarkPacedStreams runs it in a
// child process pinned to the client's CPU for its busy=true runs. One
// goroutine spins on the CPU (GOMAXPROCS 1) from the "READY" line it prints
// until its standard input closes.
func TestPacedHelperBurner(t *testing.T) {
	if os.Getenv(servingbench.PacedHelperEnv) != "burn" {
		t.Skip("helper process for BenchmarkPacedStreams")
	}
	runtime.GOMAXPROCS(1)
	var stop atomic.Bool
	done := make(chan uint64)
	go func() {
		var n uint64
		for !stop.Load() {
			n++
		}
		done <- n
	}()
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
	stop.Store(true)
	<-done
}
