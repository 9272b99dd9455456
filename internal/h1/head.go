package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// errShortHead reports a response head not complete yet.
var errShortHead = errors.New("h1: response head incomplete")

// headEnd returns the length of the response head at the start of b,
// through the empty line that ends it, or -1 when it is not all there. Its
// lines end in LF with an optional CR before it, as net/textproto reads
// them.
func headEnd(b []byte) int {
	for i, first := 0, true; ; first = false {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j]
		i += j + 1
		if !first && (len(line) == 0 || (len(line) == 1 && line[0] == '\r')) {
			return i
		}
	}
}

// parseHead parses the response head at the start of b with net/http: the
// response (its Body unused) and the head's length, errShortHead when it
// is not all there.
func parseHead(b []byte) (*http.Response, int, error) {
	n := headEnd(b)
	if n < 0 {
		return nil, 0, errShortHead
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(bytes.NewReader(b[:n]), max(16, n)), postRequest)
	if err != nil {
		return nil, 0, fmt.Errorf("h1: malformed response head: %w", err)
	}
	return resp, n, nil
}

// postRequest is the request ReadResponse is told the response answers.
var postRequest = &http.Request{Method: http.MethodPost}

// Body framings.
const (
	framingNone    = iota // no body (204, 304, Content-Length: 0)
	framingLength         // Content-Length
	framingChunked        // Transfer-Encoding: chunked
	framingClose          // until the server closes the connection
)

// framing returns how the body of resp is delimited, and its length for
// framingLength.
func framing(resp *http.Response) (int, int64) {
	switch {
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		return framingNone, 0
	case slices.Contains(resp.TransferEncoding, "chunked"):
		return framingChunked, 0
	case resp.ContentLength == 0:
		return framingNone, 0
	case resp.ContentLength > 0:
		return framingLength, resp.ContentLength
	}
	return framingClose, 0
}
