package ndjson

import (
	"bytes"
	"testing"
)

// BenchmarkReader reads an Ollama-shaped /api/generate stream of 256
// lines through one reused Reader, in 4 KiB reads: the reader's own cost
// per line, apart from the transport's.
func BenchmarkReader(b *testing.B) {
	var s bytes.Buffer
	for range 256 {
		s.WriteString(`{"model":"m","created_at":"2026-08-21T18:48:22.385406455Z","response":" tok","done":false}` + "\n")
	}
	s.WriteString(`{"model":"m","created_at":"2026-08-21T18:48:22.385406455Z","response":"","done":true,"done_reason":"length","prompt_eval_count":3,"eval_count":256}` + "\n")
	stream := s.Bytes()
	var rd Reader
	br := bytes.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(stream)
		rd.Reset(chunkedReader{br, 4096}, 0)
		lines := 0
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			lines++
		}
		if lines != 257 {
			b.Fatalf("%d lines, want 257", lines)
		}
	}
}

// chunkedReader returns at most n bytes a Read.
type chunkedReader struct {
	r *bytes.Reader
	n int
}

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }
