// Package pendingtest holds what the tests of the readers over
// internal/linebuf share to check their linebuf.ErrPending path: a
// non-blocking source fed piece by piece, and the cutting of a stream
// into pieces.
package pendingtest

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/servingbench/servingbench/internal/linebuf"
)

// Source is a non-blocking source fed piece by piece: Read returns the
// bytes it holds, (0, linebuf.ErrPending) when it holds none and is not
// Closed, io.EOF once Closed and empty. With Together, the Read that
// empties it returns ErrPending with its last bytes.
type Source struct {
	Buf      []byte
	Closed   bool
	Together bool
}

func (s *Source) Read(p []byte) (int, error) {
	if len(s.Buf) == 0 {
		if s.Closed {
			return 0, io.EOF
		}
		return 0, linebuf.ErrPending
	}
	n := copy(p, s.Buf)
	s.Buf = s.Buf[n:]
	if s.Together && len(s.Buf) == 0 && !s.Closed {
		return n, linebuf.ErrPending
	}
	return n, nil
}

// ErrString names err and its type ("<nil>" for io.EOF), to compare how
// two reads of a stream ended.
func ErrString(err error) string {
	if err == io.EOF {
		return "<nil>"
	}
	return fmt.Sprintf("%T %v", err, err)
}

// Cut splits stream into pieces whose sizes cycle through pattern (0 to
// 255 bytes each, empty pieces included); the rest is one piece when the
// pattern is empty or all zero.
func Cut(stream, pattern []byte) [][]byte {
	if bytes.Count(pattern, []byte{0}) == len(pattern) {
		return [][]byte{stream}
	}
	var pieces [][]byte
	for i := 0; len(stream) > 0; i++ {
		n := min(int(pattern[i%len(pattern)]), len(stream))
		pieces = append(pieces, stream[:n])
		stream = stream[n:]
	}
	return pieces
}

// Feed hands pieces to src one by one; after each it calls next (one
// call of the reader's Next, which records what it returned and returns
// its error) until next returns linebuf.ErrPending, which it must do only
// once src is empty; then it closes src and calls next to the end of the
// stream. It returns how the stream ended (ErrString), failing t when the
// reader does not stop.
func Feed(t testing.TB, src *Source, pieces [][]byte, next func() error) string {
	t.Helper()
	total := 0
	for _, p := range pieces {
		total += len(p)
	}
	run := func() (stop bool, end string) {
		for range total + 2 {
			err := next()
			if err == linebuf.ErrPending {
				return false, ""
			}
			if err != nil {
				return true, ErrString(err)
			}
		}
		t.Fatalf("Next did not stop after %d calls", total+2)
		return true, ""
	}
	for _, p := range pieces {
		src.Buf = append(src.Buf, p...)
		if stop, end := run(); stop {
			return end
		}
		if len(src.Buf) > 0 {
			t.Fatalf("ErrPending with %d bytes unread", len(src.Buf))
		}
	}
	src.Closed = true
	stop, end := run()
	if !stop {
		t.Fatal("ErrPending from a closed source")
	}
	return end
}
