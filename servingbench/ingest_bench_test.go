package servingbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ingestTokens is the number of token chunks in each benchmark stream.
const ingestTokens = 256

// ingestModel is the model name the helper server serves.
const ingestModel = "m"

// ingestStream pre-renders a vLLM-style completions stream of n one-token
// chunks, a usage chunk and [DONE].
func ingestStream(n int) []byte {
	var sb strings.Builder
	for i := range n {
		finish := "null"
		if i == n-1 {
			finish = `"length"`
		}
		fmt.Fprintf(&sb, `data: {"id":"cmpl-8f0c1b6f0a8e4f5c9b1d2e3f4a5b6c7d","object":"text_completion","created":1760000000,"model":"Qwen/Qwen3-0.6B","choices":[{"index":0,"text":" tok%d","logprobs":null,"finish_reason":%s,"stop_reason":null}],"usage":null}`+"\n\n", i%1000, finish)
	}
	fmt.Fprintf(&sb, `data: {"id":"cmpl-8f0c1b6f0a8e4f5c9b1d2e3f4a5b6c7d","object":"text_completion","created":1760000000,"model":"Qwen/Qwen3-0.6B","choices":[],"usage":{"prompt_tokens":32,"total_tokens":%d,"completion_tokens":%d}}`+"\n\ndata: [DONE]\n\n", 32+n, n)
	return []byte(sb.String())
}

const ingestHelperEnv = "SERVINGBENCH_INGEST_HELPER"

// startIngestServer starts the helper server process (a zero-cost
// servingtest server, TestIngestHelperServer) and returns its URL.
// SERVINGBENCH_INGEST_URL, when set, points the benchmark at another server
// instead (it must stream ignore_eos completions of ingestTokens tokens).
func startIngestServer(b *testing.B) string {
	if u := os.Getenv("SERVINGBENCH_INGEST_URL"); u != "" {
		return u
	}
	h := startHelper(b, "TestIngestHelperServer", ingestHelperEnv+"=1")
	addr := h.expect(b, "ADDR ")
	go io.Copy(io.Discard, h.out)
	return "http://" + addr
}

// helperProcess is the test binary re-executed to run one helper test
// (a server or a CPU burner) in a process of its own, so that the
// benchmark's getrusage counts the client only. The helper runs until its
// standard input closes, which the benchmark's cleanup does (and the
// kernel does if the benchmark dies), so no helper outlives it.
type helperProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startHelper starts the test binary running only the test named run,
// with env added to its environment, and registers its end (stdin closed,
// then waited for) with b.Cleanup. Its standard error is the benchmark's.
func startHelper(b *testing.B, run string, env ...string) *helperProcess {
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.v=false")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting helper %s: %v", run, err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	return &helperProcess{cmd: cmd, in: stdin, out: bufio.NewReaderSize(stdout, 1<<16)}
}

// expect reads the helper's output up to a line starting with prefix and
// returns the rest of that line; other lines are skipped.
func (h *helperProcess) expect(b *testing.B, prefix string) string {
	for {
		line, err := h.out.ReadString('\n')
		if rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), prefix); ok {
			return rest
		}
		if err != nil {
			b.Fatalf("helper %s ended before a %q line: %v", h.cmd.Args[1], prefix, err)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamIngest measures the client's cost of ingesting streamed
// tokens: one op is one request of ingestTokens token chunks, with `streams`
// requests in flight. The server runs in a child process, so cpu-ns/tok is
// the client's own CPU (user+sys from getrusage) per token.
func BenchmarkStreamIngest(b *testing.B) {
	url := startIngestServer(b)
	for _, streams := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			benchIngest(b, url, streams)
		})
	}
}

func benchIngest(b *testing.B, url string, streams int) {
	c, err := NewCompletions(OpenAIConfig{BaseURL: url, Model: ingestModel, MaxConcurrency: streams, IgnoreEOS: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Prewarm(ctx, streams); err != nil {
		b.Fatal(err)
	}
	req := Request{Prompt: strings.Repeat("hello ", 32), MaxTokens: ingestTokens}
	// Warm the client's pools with one round at full concurrency.
	runIngest(b, c, &req, streams, streams)

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	tokens := runIngest(b, c, &req, streams, b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	if tokens == 0 {
		b.Fatal("no tokens")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(tokens), "cpu-ns/tok")
	b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tok/s")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(tokens), "B/tok")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(tokens), "allocs/tok")
}

// runIngest sends n requests with `streams` in flight and returns the
// number of token events.
func runIngest(b *testing.B, c Client, req *Request, streams, n int) int64 {
	var next, tokens atomic.Int64
	var wg sync.WaitGroup
	for range min(streams, n) {
		wg.Go(func() {
			res := &Result{}
			for next.Add(1) <= int64(n) {
				c.Send(context.Background(), req, res)
				if res.Err != nil || len(res.Events) != ingestTokens || res.OutputTokens != ingestTokens {
					b.Errorf("Send: err %v, %d events, %d output tokens", res.Err, len(res.Events), res.OutputTokens)
					return
				}
				tokens.Add(int64(len(res.Events)))
			}
		})
	}
	wg.Wait()
	return tokens.Load()
}
