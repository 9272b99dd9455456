package chunked

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeAll decodes src in pieces of the sizes sizes cycles through
// (each at least 1), into dst buffers of dstSize (0: in place), and
// returns the data, whether the body ended, the bytes after it and the
// error.
func decodeAll(src []byte, sizes []int, dstSize int) (data []byte, done bool, rest []byte, err error) {
	var d Decoder
	buf := bytes.Clone(src)
	for i, k := 0, 0; i < len(buf) && !d.Done(); k++ {
		n := len(buf) - i
		if len(sizes) > 0 {
			n = min(n, max(1, sizes[k%len(sizes)]))
		}
		piece := buf[i : i+n]
		for len(piece) > 0 && !d.Done() {
			dst := piece
			if dstSize > 0 {
				dst = make([]byte, dstSize)
			}
			nd, ns, err := d.Decode(dst, piece)
			data = append(data, dst[:nd]...)
			if err != nil {
				return data, false, nil, err
			}
			if ns == 0 && nd == 0 {
				break
			}
			piece = piece[ns:]
			i += ns
		}
		if d.Done() {
			return data, true, buf[i:], nil
		}
	}
	return data, d.Done(), nil, nil
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in, data, rest, err string
		done                      bool
		off                       int64
	}{
		{name: "simple", in: "5\r\nhello\r\n0\r\n\r\n", data: "hello", done: true},
		{name: "two chunks", in: "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", data: "hello", done: true},
		{name: "upper hex, extension, OWS", in: "A;name=v\r\n0123456789\r\n1 \t\r\nx\r\n0\r\n\r\n", data: "0123456789x", done: true},
		{name: "trailer", in: "2\r\nok\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\nNEXT", data: "ok", done: true, rest: "NEXT"},
		{name: "bytes after", in: "0\r\n\r\nHTTP/1.1", done: true, rest: "HTTP/1.1"},
		{name: "incomplete", in: "5\r\nhel", data: "hel"},
		{name: "bare LF line", in: "5\nhello\r\n", err: "bare LF", off: 1},
		{name: "CR inside line", in: "5\rx\r\n", err: "invalid CR", off: 2},
		{name: "bad hex", in: "5g\r\n", err: "invalid chunk size byte 'g'", off: 1},
		{name: "empty size", in: "\r\n", err: "empty chunk size", off: 1},
		{name: "leading space", in: " 5\r\n", err: "empty chunk size", off: 0},
		{name: "space before extension", in: "5 ;x\r\n", err: "invalid chunk size byte ';'", off: 2},
		{name: "too large", in: "11111111111111111\r\n", err: "chunk size too large", off: 16},
		{name: "no CRLF after data", in: "2\r\nokX", err: "missing CRLF", off: 5},
		{name: "long line", in: "1;" + strings.Repeat("e", 5000) + "\r\n", err: "chunk line too long", off: 4094},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sizes := range [][]int{nil, {1}, {2, 3}} {
				data, done, rest, err := decodeAll([]byte(tc.in), sizes, 0)
				if tc.err != "" {
					var se *SyntaxError
					require.True(t, errors.As(err, &se), "error %v", err)
					assert.Contains(t, se.Msg, tc.err)
					assert.Equal(t, tc.off, se.Offset)
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, tc.data, string(data))
				assert.Equal(t, tc.done, done)
				assert.Equal(t, tc.rest, string(rest))
			}
		})
	}
}

// TestSticky: after an error Decode returns it again and consumes nothing.
func TestSticky(t *testing.T) {
	var d Decoder
	_, _, err := d.Decode(make([]byte, 8), []byte("z\r\n"))
	require.Error(t, err)
	nd, ns, err2 := d.Decode(make([]byte, 8), []byte("1\r\na\r\n"))
	assert.Equal(t, err, err2)
	assert.Zero(t, nd+ns)
}

// TestDstFull: a small dst stops Decode at its size.
func TestDstFull(t *testing.T) {
	data, done, _, err := decodeAll([]byte("a\r\n0123456789\r\n0\r\n\r\n"), nil, 3)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "0123456789", string(data))
}

func TestDecodeAllocs(t *testing.T) {
	src := []byte("5c\r\ndata: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\"hi\",\"index\":0,\"finish_reason\":null}],\"model\":\"m\"}\n\n\r\n")
	buf := make([]byte, len(src))
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		copy(buf, src)
		if _, _, err := d.Decode(buf, buf); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// netHTTP decodes in as net/http's client reads a chunked response body:
// the data and whether it failed.
func netHTTP(in []byte) ([]byte, bool) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(head), bytes.NewReader(in))), nil)
	if err != nil {
		return nil, true
	}
	data, err := io.ReadAll(resp.Body)
	return data, err != nil
}

// FuzzDecode checks Decode against net/http on any input cut into any
// pieces: the same data, an error exactly when net/http fails (an input
// net/http reads to its end is one Decode finishes, the bytes after it
// left untouched), and with httputil's chunked reader (net/http's, which
// stops at the last chunk) the same data up to where either stops.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"5\r\nhello\r\n0\r\n\r\n", "3\r\nhel\r\n2;x\r\nlo\r\n0\r\nT: v\r\n\r\nrest", "5\nhello\r\n0\r\n\r\n",
		"1 \r\na\r\n0\r\n\r\n", "1 ;x\r\na\r\n0\r\n\r\n", "0\r\n\r\n", "2\r\nokX", "ffffffffffffffff\r\n", "0\r\n\n",
	} {
		f.Add([]byte(s), byte(0), byte(0))
		f.Add([]byte(s), byte(1), byte(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, piece, dst byte) {
		sizes := []int{int(piece%7) + 1, int(piece/7%5) + 1}
		data, done, rest, err := decodeAll(in, sizes, int(dst%9))
		want, failed := netHTTP(in)
		switch {
		case err != nil && !failed:
			t.Fatalf("Decode failed (%v), net/http read %q", err, want)
		case err == nil && done && failed:
			t.Fatalf("Decode finished with %q, net/http failed", data)
		}
		if done {
			assert.Equal(t, string(want), string(data), "data against net/http")
			end := len(in) - len(rest)
			assert.Equal(t, string(in[end:]), string(rest), "bytes after the body")
		}
		cr, crErr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		n := min(len(cr), len(data))
		assert.Equal(t, string(cr[:n]), string(data[:n]), "data against httputil (error %v)", crErr)
	})
}
