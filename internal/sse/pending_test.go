package sse

import (
	"bytes"
	"io"
	"testing"

	"github.com/servingbench/servingbench/internal/linebuf"
	"github.com/servingbench/servingbench/internal/linebuf/pendingtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// event is what Next returned, with ErrorEvent and Offset after it.
type event struct {
	data    string
	isError bool
	off     int64
}

// plainEvents reads stream through a blocking reader: its events and how
// it ended.
func plainEvents(stream []byte, max int) ([]event, string) {
	rd := NewReader(bytes.NewReader(stream), max)
	var evs []event
	for {
		data, err := rd.Next()
		if err != nil {
			return evs, pendingtest.ErrString(err)
		}
		evs = append(evs, event{string(data), rd.ErrorEvent(), rd.Offset()})
	}
}

// pendingEvents feeds pieces to a reader through a pendingtest.Source, calling
// Next until ErrPending after each, then closes the source and reads to
// the end: the events and how it ended, as plainEvents gives them.
func pendingEvents(t testing.TB, pieces [][]byte, max int, together bool) ([]event, string) {
	src := &pendingtest.Source{Together: together}
	rd := NewReader(src, max)
	var evs []event
	end := pendingtest.Feed(t, src, pieces, func() error {
		data, err := rd.Next()
		switch {
		case err == ErrPending && rd.ErrorEvent():
			t.Fatal("ErrorEvent true after ErrPending")
		case err == nil:
			evs = append(evs, event{string(data), rd.ErrorEvent(), rd.Offset()})
		}
		return err
	})
	return evs, end
}

// checkPending compares pendingEvents, both with and without the last
// bytes returned with ErrPending, with plainEvents.
func checkPending(t testing.TB, stream, pattern []byte, max int) {
	want, wantEnd := plainEvents(stream, max)
	pieces := pendingtest.Cut(stream, pattern)
	for _, together := range []bool{false, true} {
		got, end := pendingEvents(t, pieces, max, together)
		if end != wantEnd || len(got) != len(want) {
			t.Fatalf("stream %q pieces %q max %d together %v: got %+v ending %s, want %+v ending %s", stream, pieces, max, together, got, end, want, wantEnd)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("stream %q pieces %q max %d together %v: event %d = %+v, want %+v", stream, pieces, max, together, i, got[i], want[i])
			}
		}
	}
}

// pendingStreams cut awkwardly: CRLF, the BOM, field names and
// multi-line events across pieces, error events, long lines and data.
var pendingStreams = []string{
	"data: a\r\n\r\ndata: b\r\n\r\n",
	"\xEF\xBB\xBFdata: a\n\n",
	"\xEF\xBB\xBF\r\ndata: a\r\n\r\n",
	"data: a\ndata: b\ndata:\n\ndata:c\r\rdata: d\r\n",
	": ping\r\n\r\nerror: {\"code\":500}\r\n\r\ndata: x\n\n",
	"event: x\ndata: 1\nid: 2\nerror\ndata: 3\n\n",
	"data: 0123456789\n\ndata: a\ndata: b\ndata: c\n\n",
	"data: a\r",
	"data: a\n\ndata: b",
	"data: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ndata: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\n",
}

// TestReaderPendingSplits cuts each stream at every point, in two at
// every pair of points, and byte by byte, with several line caps.
func TestReaderPendingSplits(t *testing.T) {
	for _, s := range pendingStreams {
		stream := []byte(s)
		for _, max := range []int{0, 3, 8, 12, 40} {
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
	src := &pendingtest.Source{Buf: []byte("data: a\n\nerror: b\ndata: "), Together: true}
	rd := NewReader(src, 0)
	data, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(data))
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending)
	assert.False(t, rd.ErrorEvent())
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending, "Next again with nothing new")
	src.Buf = append(src.Buf, "c\r"...)
	_, err = rd.Next()
	require.ErrorIs(t, err, ErrPending)
	src.Buf = append(src.Buf, "\n\r\n"...)
	data, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "b\nc", string(data))
	assert.True(t, rd.ErrorEvent())
	assert.Equal(t, int64(len("data: a\n\nerror: ")), rd.Offset())
	src.Closed = true
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
	src.Buf = []byte("data: a\n\n")
	data, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(data))
}

func TestErrPendingShared(t *testing.T) {
	assert.True(t, ErrPending == linebuf.ErrPending, "sse.ErrPending is linebuf.ErrPending")
}

// TestReaderPendingNoAllocs reads a fixture stream fed in 7-byte pieces,
// returning to ErrPending after each, without allocating.
func TestReaderPendingNoAllocs(t *testing.T) {
	stream := fixtureStreams(t)["vllm-completions.sse"]
	src := &pendingtest.Source{}
	rd := NewReader(src, 0)
	var c Chunk
	allocs := testing.AllocsPerRun(50, func() {
		*src = pendingtest.Source{}
		rd.Reset(src, 0)
		events := 0
		for off := 0; off < len(stream); off += 7 {
			src.Buf = stream[off:min(off+7, len(stream))]
			for {
				data, err := rd.Next()
				if err == ErrPending {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if !IsDone(data) {
					_ = c.Decode(data)
				}
				events++
			}
		}
		if events == 0 {
			t.Fatal("no events")
		}
	})
	assert.Zero(t, allocs, "allocations per stream of Reader.Next + Chunk.Decode with ErrPending")
}

func FuzzPending(f *testing.F) {
	for _, s := range seedStreams(f) {
		f.Add(s, []byte{7}, uint16(0))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), []byte{1, 0, 2, 5}, uint16(64))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r")), []byte{200, 3}, uint16(300))
	}
	for _, s := range pendingStreams {
		f.Add([]byte(s), []byte{1}, uint16(0))
		f.Add([]byte(s), []byte{8, 0, 1}, uint16(8))
		f.Add([]byte(s), []byte{3, 2}, uint16(20))
	}
	f.Fuzz(func(t *testing.T, stream, pattern []byte, max16 uint16) {
		checkPending(t, stream, pattern, int(max16))
	})
}
