package ndjson

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/servingbench/servingbench/internal/linebuf"
	"github.com/servingbench/servingbench/internal/linebuf/pendingtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainLines reads stream through a blocking reader: its lines and how it
// ended.
func plainLines(stream []byte, max int) ([]line, string) {
	rd := NewReader(bytes.NewReader(stream), max)
	var got []line
	for {
		b, err := rd.Next()
		if err != nil {
			return got, pendingtest.ErrString(err)
		}
		got = append(got, line{string(b), rd.Offset()})
	}
}

// pendingLines feeds pieces to a reader through a pendingtest.Source, calling
// Next until ErrPending after each, then closes the source and reads to
// the end: the lines and how it ended, as plainLines gives them.
func pendingLines(t testing.TB, pieces [][]byte, max int, together bool) ([]line, string) {
	src := &pendingtest.Source{Together: together}
	rd := NewReader(src, max)
	var got []line
	end := pendingtest.Feed(t, src, pieces, func() error {
		b, err := rd.Next()
		if err == nil {
			got = append(got, line{string(b), rd.Offset()})
		}
		return err
	})
	return got, end
}

// checkPending compares pendingLines, both with and without the last
// bytes returned with ErrPending, with plainLines.
func checkPending(t testing.TB, stream, pattern []byte, max int) {
	want, wantEnd := plainLines(stream, max)
	pieces := pendingtest.Cut(stream, pattern)
	for _, together := range []bool{false, true} {
		got, end := pendingLines(t, pieces, max, together)
		if end != wantEnd || len(got) != len(want) {
			t.Fatalf("stream %q pieces %q max %d together %v: got %+v ending %s, want %+v ending %s", stream, pieces, max, together, got, end, want, wantEnd)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("stream %q pieces %q max %d together %v: line %d = %+v, want %+v", stream, pieces, max, together, i, got[i], want[i])
			}
		}
	}
}

// pendingStreams cut awkwardly: CRLF, empty lines, a final line without
// "\n", lines at and over small caps.
var pendingStreams = []string{
	"{\"a\":1}\r\n\r\n{\"b\":2}\r\n",
	"a\n\n\nbb\r\r\nccc",
	"\r\n\r",
	"0123456789\n01234567\r\n012345678\r",
	"abcdefghijklmnopqrstuvwxyz\nab\n",
}

// TestReaderPendingSplits cuts each stream at every point, in two at
// every pair of points, and byte by byte, with several line caps.
func TestReaderPendingSplits(t *testing.T) {
	for _, s := range pendingStreams {
		stream := []byte(s)
		for _, max := range []int{0, 2, 8, 9, 20} {
			checkPending(t, stream, []byte{1}, max)
			checkPending(t, stream, []byte{0, 1, 0}, max)
			for i := range len(stream) + 1 {
				checkPending(t, stream, []byte{byte(i), 255}, max)
				for j := range len(stream) - i + 1 {
					checkPending(t, stream, []byte{byte(i), byte(j), 255}, max)
				}
			}
		}
	}
}

// TestReaderPendingTogether reads a Read that returns bytes and
// ErrPending together: the bytes are scanned before Next reports
// ErrPending, which is not sticky.
func TestReaderPendingTogether(t *testing.T) {
	src := &pendingtest.Source{Buf: []byte("{}\r\n{\"a\""), Together: true}
	rd := NewReader(src, 0)
	b, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending)
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending, "Next again with nothing new")
	src.Buf = append(src.Buf, ":1}\r"...)
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending)
	src.Buf = append(src.Buf, "\n"...)
	b, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(b))
	assert.Equal(t, int64(4), rd.Offset())
	src.Buf, src.Closed = []byte("x"), true
	b, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))
	_, err = rd.Next()
	assert.ErrorIs(t, err, io.EOF)
}

// TestReaderPendingNoProgress checks that reads returning ErrPending and
// nothing are not counted as empty reads (io.ErrNoProgress).
func TestReaderPendingNoProgress(t *testing.T) {
	src := &pendingtest.Source{}
	rd := NewReader(src, 0)
	for range 300 {
		_, err := rd.Next()
		require.ErrorIs(t, err, ErrPending)
	}
	src.Buf = []byte("a\n")
	b, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(b))
}

func TestErrPendingShared(t *testing.T) {
	assert.True(t, ErrPending == linebuf.ErrPending, "ndjson.ErrPending is linebuf.ErrPending")
}

// TestReaderPendingNoAllocs reads a stream fed in 7-byte pieces,
// returning to ErrPending after each, without allocating.
func TestReaderPendingNoAllocs(t *testing.T) {
	var s bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&s, "{\"model\":\"m\",\"response\":\"tok%d\",\"done\":false}\n", i)
	}
	stream := s.Bytes()
	src := &pendingtest.Source{}
	rd := NewReader(src, 0)
	allocs := testing.AllocsPerRun(20, func() {
		*src = pendingtest.Source{}
		rd.Reset(src, 0)
		n := 0
		for off := 0; off < len(stream); off += 7 {
			src.Buf = stream[off:min(off+7, len(stream))]
			for {
				_, err := rd.Next()
				if err == ErrPending {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
		if n != 200 {
			t.Fatalf("read %d lines, want 200", n)
		}
	})
	assert.Zero(t, allocs, "allocations per stream with ErrPending")
}

func FuzzPending(f *testing.F) {
	seeds, _ := filepath.Glob("../../servingbench/testdata/streams/*.ndjson") // the Ollama fixtures
	for _, name := range seeds {
		s, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, []byte{7}, uint16(0))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), []byte{1, 0, 2, 5}, uint16(64))
		f.Add(bytes.TrimSuffix(s, []byte("\n")), []byte{200, 3}, uint16(300))
	}
	for _, s := range pendingStreams {
		f.Add([]byte(s), []byte{1}, uint16(0))
		f.Add([]byte(s), []byte{8, 0, 1}, uint16(8))
	}
	f.Fuzz(func(t *testing.T, stream, pattern []byte, max16 uint16) {
		checkPending(t, stream, pattern, int(max16))
	})
}
