package servingtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServerThroughput measures how fast a zero-cost server streams:
// concurrent streams of 256 tokens each, read by a minimal client that
// counts data lines. An iteration is one request; tok/s is the rate of
// token chunks (one token each) over the whole run.
//
//	go test -run '^$' -bench BenchmarkServerThroughput ./servingbench/servingtest/
func BenchmarkServerThroughput(b *testing.B) {
	const maxTokens = 256
	for _, streams := range []int{64, 256} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			srv := NewServer(ZeroCost())
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: streams, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := srv.URL + "/v1/completions"
			var next, tokens atomic.Int64
			var failed atomic.Value
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range streams {
				wg.Go(func() {
					br := bufio.NewReaderSize(nil, 64<<10)
					for int(next.Add(1)) <= b.N {
						body := fmt.Sprintf(`{"prompt":"worker %d","max_tokens":%d,"stream":true,"ignore_eos":true}`, w, maxTokens)
						n, err := countStream(client, url, body, br)
						if err == nil && n != maxTokens {
							err = fmt.Errorf("got %d token chunks, want %d", n, maxTokens)
						}
						if err != nil {
							failed.Store(err)
							return
						}
						tokens.Add(int64(n))
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err, ok := failed.Load().(error); ok {
				b.Fatal(err)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(tokens.Load())/elapsed.Seconds(), "tok/s")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
		})
	}
}

// countStream sends one streaming request and counts its data lines
// before [DONE].
func countStream(client *http.Client, url, body string, br *bufio.Reader) (int, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	br.Reset(resp.Body)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return n, fmt.Errorf("after %d chunks: %w", n, err)
		}
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		if bytes.HasPrefix(line, []byte("data: [DONE]")) {
			io.Copy(io.Discard, resp.Body)
			return n, nil
		}
		n++
	}
}
