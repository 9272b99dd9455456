package ndjson

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type line struct {
	text string
	off  int64
}

// readAll reads every line of r with its offset, and the error that ended
// the stream (nil for io.EOF).
func readAll(r io.Reader, max int) ([]line, error) {
	rd := NewReader(r, max)
	var got []line
	for {
		b, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, line{string(b), rd.Offset()})
	}
}

var readers = map[string]func(io.Reader) io.Reader{
	"whole":         func(r io.Reader) io.Reader { return r },
	"OneByteReader": iotest.OneByteReader,
	"HalfReader":    iotest.HalfReader,
	"DataErrReader": iotest.DataErrReader,
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     []line
		tooLong  bool
	}{
		{name: "ollama", in: "{\"response\":\"a\",\"done\":false}\n{\"done\":true}\n",
			want: []line{{`{"response":"a","done":false}`, 0}, {`{"done":true}`, 30}}},
		{name: "CRLF", in: "{}\r\n{\"a\":1}\r\n", want: []line{{"{}", 0}, {`{"a":1}`, 4}}},
		{name: "blank lines skipped", in: "\n\r\n{}\n\n\n{}\n", want: []line{{"{}", 3}, {"{}", 8}}},
		{name: "lone CR stays", in: "{\r}\n\r\r\n", want: []line{{"{\r}", 0}, {"\r", 4}}},
		{name: "final line without newline", in: "{}\n{\"done\":true}", want: []line{{"{}", 0}, {`{"done":true}`, 3}}},
		{name: "final line CR dropped", in: "{}\r", want: []line{{"{}", 0}}},
		{name: "final CR only", in: "{}\n\r", want: []line{{"{}", 0}}},
		{name: "empty", in: "", want: nil},
		{name: "at the cap", in: "abcd\nabcd\r\nabcd", max: 4, want: []line{{"abcd", 0}, {"abcd", 5}, {"abcd", 11}}},
		{name: "over the cap", in: "abcd\nabcde\n", max: 4, want: []line{{"abcd", 0}}, tooLong: true},
		{name: "over the cap unterminated", in: "abcd\nabcde", max: 4, want: []line{{"abcd", 0}}, tooLong: true},
		{name: "cap with CR", in: "abcd\r", max: 4, want: []line{{"abcd", 0}}},
		{name: "no BOM handling", in: "\xEF\xBB\xBF{}\n", want: []line{{"\xEF\xBB\xBF{}", 0}}},
	} {
		for rname, wrap := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				got, err := readAll(wrap(strings.NewReader(tc.in)), tc.max)
				var tl *LineTooLongError
				if tc.tooLong {
					require.ErrorAs(t, err, &tl)
					assert.Equal(t, tc.max, tl.Limit)
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, tc.want, got, "readAll(%q)", tc.in)
			})
		}
	}
}

// A read error that is not io.EOF ends the stream with that error: the
// partial line before it is not returned (the connection broke; the line
// is not malformed).
func TestReaderErrorMidLine(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("{}\n{\"resp"), iotest.ErrReader(boom))
	got, err := readAll(r, 0)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []line{{"{}", 0}}, got)
}

func TestReaderNoProgress(t *testing.T) {
	_, err := readAll(zeroReader{}, 0)
	require.ErrorIs(t, err, io.ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// Lines longer than the initial buffer grow it up to the cap; offsets stay
// stream offsets across compactions.
func TestReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*initialBufferSize)
	var in strings.Builder
	var want []line
	for i := range 5 {
		want = append(want, line{long, int64(in.Len())}, line{"{}", int64(in.Len() + len(long) + 1)})
		in.WriteString(long + "\n{}\n")
		_ = i
	}
	for rname, wrap := range readers {
		t.Run(rname, func(t *testing.T) {
			got, err := readAll(wrap(strings.NewReader(in.String())), 0)
			require.NoError(t, err)
			require.Equal(t, len(want), len(got))
			for i := range want {
				assert.Equal(t, want[i].off, got[i].off, "line %d offset", i)
				assert.Equal(t, len(want[i].text), len(got[i].text), "line %d length", i)
			}
		})
	}
}

// Reset keeps the buffer, and reading a stream allocates nothing once the
// buffer is large enough.
func TestReaderResetNoAlloc(t *testing.T) {
	stream := []byte(strings.Repeat(`{"model":"m","response":" word","done":false}`+"\n", 200) + `{"done":true,"eval_count":200}` + "\n")
	rd := NewReader(bytes.NewReader(stream), 0)
	br := bytes.NewReader(stream)
	allocs := testing.AllocsPerRun(20, func() {
		br.Reset(stream)
		rd.Reset(br, 0)
		n := 0
		for {
			_, err := rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			n++
		}
		if n != 201 {
			t.Fatalf("read %d lines, want 201", n)
		}
	})
	assert.Zero(t, allocs, "allocations per stream")
	assert.Equal(t, initialBufferSize, rd.BufferSize())
}
