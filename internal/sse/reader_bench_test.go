package sse

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkReader reads a vLLM-shaped completions stream of 256 events
// through one reused Reader, in 4 KiB reads (the size of an HTTP/1.1
// chunk a server's writes often arrive in): the reader's own cost per
// event, apart from the transport's.
func BenchmarkReader(b *testing.B) {
	var s bytes.Buffer
	for i := range 256 {
		fmt.Fprintf(&s, `data: {"id":"cmpl-8f0c1b6f0a8e4f5c9b1d2e3f4a5b6c7d","object":"text_completion","created":1760000000,"model":"Qwen/Qwen3-0.6B","choices":[{"index":0,"text":" tok%d","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`+"\n\n", i)
	}
	s.WriteString("data: [DONE]\n\n")
	stream := s.Bytes()
	var rd Reader
	br := bytes.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(stream)
		rd.Reset(chunkedReader{br, 4096}, 0)
		events := 0
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			events++
		}
		if events != 257 {
			b.Fatalf("%d events, want 257", events)
		}
	}
}

// chunkedReader returns at most n bytes a Read.
type chunkedReader struct {
	r *bytes.Reader
	n int
}

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }
