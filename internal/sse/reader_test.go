package sse

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAll returns the data of every event and the error that ended the
// stream (nil for io.EOF).
func readAll(r io.Reader, maxLine int) ([]string, error) {
	rd := NewReader(r, maxLine)
	var events []string
	for {
		data, err := rd.Next()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, string(data))
	}
}

func TestReaderFraming(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"lf", "data: a\n\ndata: b\n\n", []string{"a", "b"}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}},
		{"lone cr", "data: a\r\rdata: b\r\r", []string{"a", "b"}},
		{"mixed terminators", "data: a\r\n\ndata: b\n\r\n", []string{"a", "b"}},
		{"no space after colon", "data:a\n\ndata:  b\n\n", []string{"a", " b"}},
		{"multi-line data joined", "data: a\ndata: b\ndata:\n\n", []string{"a\nb\n"}},
		{"comments skipped", ": ping\n\n:\ndata: a\n: mid-event ping\n\n", []string{"a"}},
		{"error field is data", "error: {\"code\":500}\n\n", []string{`{"code":500}`}},
		{"other fields ignored", "event: message\nid: 7\nretry: 10\ndata: a\n\n", []string{"a"}},
		{"event without data not dispatched", "event: x\n\nid: 1\n\n", nil},
		{"data without colon is empty data", "data\n\n", []string{""}},
		{"unknown field without colon", "foo\ndata: a\n\n", []string{"a"}},
		{"bom stripped", "\xEF\xBB\xBFdata: a\n\n", []string{"a"}},
		{"bom only at start", "data: a\n\n\xEF\xBB\xBFdata: b\n\n", []string{"a"}},
		{"blank lines between events", "\n\n\ndata: a\n\n\n\n", []string{"a"}},
		{"done", "data: x\n\ndata: [DONE]\n\n", []string{"x", "[DONE]"}},
		{"eof after terminated line dispatches", "data: a\n\ndata: b\n", []string{"a", "b"}},
		{"eof in unterminated line discards", "data: a\n\ndata: b", []string{"a"}},
		{"empty", "", nil},
		{"colon in value kept", "data: {\"a\":1}\n\n", []string{`{"a":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(strings.NewReader(tt.in), 0)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "readAll(%q)", tt.in)
			got, err = readAll(iotest.OneByteReader(strings.NewReader(tt.in)), 0)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "readAll(OneByteReader(%q))", tt.in)
		})
	}
}

func fixtureStreams(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.sse")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	m := make(map[string][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		m[filepath.Base(p)] = b
	}
	return m
}

func TestReaderIOTest(t *testing.T) {
	for name, stream := range fixtureStreams(t) {
		want, err := readAll(bytes.NewReader(stream), 0)
		require.NoError(t, err)
		require.NotEmpty(t, want)
		assert.Equal(t, "[DONE]", want[len(want)-1], "%s: last event", name)
		wrappers := map[string]func(io.Reader) io.Reader{
			"OneByteReader": iotest.OneByteReader,
			"HalfReader":    iotest.HalfReader,
			"DataErrReader": iotest.DataErrReader,
			"CRLF": func(r io.Reader) io.Reader {
				b, _ := io.ReadAll(r)
				return bytes.NewReader(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
			},
			"CR": func(r io.Reader) io.Reader {
				b, _ := io.ReadAll(r)
				return iotest.OneByteReader(bytes.NewReader(bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))))
			},
		}
		for wname, wrap := range wrappers {
			t.Run(name+"/"+wname, func(t *testing.T) {
				got, err := readAll(wrap(bytes.NewReader(stream)), 0)
				require.NoError(t, err)
				assert.Equal(t, want, got)
			})
		}
	}
}

func TestReaderTimeout(t *testing.T) {
	// TimeoutReader fails the second read: the events of the first read are
	// returned, then the error.
	stream := "data: a\n\ndata: b\n\n"
	rd := NewReader(iotest.TimeoutReader(strings.NewReader(stream)), 0)
	data, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(data))
	data, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "b", string(data))
	_, err = rd.Next()
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	// The error is sticky.
	_, err = rd.Next()
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func TestReaderErrorMidEvent(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(boom))
	got, err := readAll(r, 0)
	assert.Equal(t, []string{"a"}, got)
	assert.ErrorIs(t, err, boom)
}

func TestReaderLongLines(t *testing.T) {
	big := strings.Repeat("x", 2<<20) // 2 MiB, over bufio.Scanner's 64 KiB
	stream := "data: a\n\ndata: " + big + "\n\ndata: b\n\n"

	got, err := readAll(strings.NewReader(stream), 0)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, len(big), len(got[1]))
	assert.Equal(t, []string{"a", "b"}, []string{got[0], got[2]})

	got, err = readAll(iotest.HalfReader(strings.NewReader(stream)), 0)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, big, got[1])

	got, err = readAll(strings.NewReader(stream), 1<<20)
	var tooLong *LineTooLongError
	require.ErrorAs(t, err, &tooLong)
	assert.Equal(t, 1<<20, tooLong.Limit)
	assert.Contains(t, err.Error(), "1048576")
	assert.Equal(t, []string{"a"}, got)
}

func TestReaderLineCapExact(t *testing.T) {
	// A line longer than max (terminator excluded), or event data longer
	// than max, is an error whatever the read sizes.
	tests := []struct {
		in      string
		max     int
		wantErr bool
	}{
		{"data:abcd\n\n", 9, false},
		{"data:abcd\n\n", 8, true},
		{"data:abcd\r\n\r\n", 9, false},
		{"data:ab\ndata:cd\n\n", 7, false},
		{"data:ab\ndata:cd\n\n", 6, true},
		{"data:abcd\ndata:abcd\ndata:abcd\n\n", 9, true},
		{"data:abcd\ndata:abcd\ndata:abcd\n\n", 14, false},
		{"data:abcdefgh", 3, true}, // unterminated, but already too long
	}
	for _, tt := range tests {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if one {
				r = iotest.OneByteReader(r)
			}
			_, err := readAll(r, tt.max)
			if !tt.wantErr {
				assert.NoError(t, err, "readAll(%q, %d) one byte %v", tt.in, tt.max, one)
				continue
			}
			var tooLong *LineTooLongError
			if assert.ErrorAs(t, err, &tooLong, "readAll(%q, %d) one byte %v", tt.in, tt.max, one) {
				assert.Equal(t, tt.max, tooLong.Limit)
			}
		}
	}
}

func TestReaderErrorEvent(t *testing.T) {
	rd := NewReader(strings.NewReader("data: a\n\nerror: {\"message\":\"x\"}\n\ndata: b\n\n"), 0)
	for _, want := range []bool{false, true, false} {
		_, err := rd.Next()
		require.NoError(t, err)
		assert.Equal(t, want, rd.ErrorEvent())
	}
}

func TestReaderOffset(t *testing.T) {
	stream := ": ping\n\ndata: {}\n\ndata:[1]\n\n"
	rd := NewReader(strings.NewReader(stream), 0)
	_, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, int64(strings.Index(stream, "{}")), rd.Offset())
	_, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, int64(strings.Index(stream, "[1]")), rd.Offset())
}

func TestReaderNoProgress(t *testing.T) {
	_, err := readAll(zeroReader{}, 0)
	assert.ErrorIs(t, err, io.ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestIsDone(t *testing.T) {
	for in, want := range map[string]bool{"[DONE]": true, " [DONE] ": true, "[DONE": false, "": false, `{"a":1}`: false} {
		assert.Equal(t, want, IsDone([]byte(in)), "IsDone(%q)", in)
	}
}

func TestReaderReset(t *testing.T) {
	rd := NewReader(strings.NewReader("data: a\n\n"), 0)
	data, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(data))
	rd.Reset(strings.NewReader("data: b\n\n"), 0)
	data, err = rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "b", string(data))
	assert.Equal(t, int64(6), rd.Offset())
}

func TestReaderNoAllocs(t *testing.T) {
	stream := fixtureStreams(t)["vllm-completions.sse"]
	rd := NewReader(bytes.NewReader(stream), 0)
	br := bytes.NewReader(stream)
	var c Chunk
	allocs := testing.AllocsPerRun(100, func() {
		br.Reset(stream)
		rd.Reset(br, 0)
		for {
			data, err := rd.Next()
			if err != nil || IsDone(data) {
				break
			}
			_ = c.Decode(data)
		}
	})
	assert.Zero(t, allocs, "allocations per stream of Reader.Next + Chunk.Decode")
}
