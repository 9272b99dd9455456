package ndjson

import (
	"bytes"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/internal/linebuf"
)

// DefaultMaxLineBytes is the line length cap used when NewReader is given 0.
const DefaultMaxLineBytes = linebuf.DefaultMaxLineBytes

// initialBufferSize is the read buffer a Reader starts with; it grows up to
// the line cap when a line does not fit.
const initialBufferSize = linebuf.InitialSize

// ErrPending is what a non-blocking source's Read returns when it has no
// more bytes yet, and Next when it needs them (linebuf.ErrPending, the
// same value as sse.ErrPending). It is not sticky: a partial line is
// kept, and calling Next again once the source has more bytes goes on as
// if the Read had blocked.
var ErrPending = linebuf.ErrPending

// LineTooLongError reports a line longer than the Reader's cap.
type LineTooLongError struct {
	// Limit is the cap in bytes (MaxLineBytes).
	Limit int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("ndjson: line longer than %d bytes (MaxLineBytes)", e.Limit)
}

// Reader reads the lines of an NDJSON stream. The zero value is not
// usable; create one with NewReader, or reuse one with Reset.
type Reader struct {
	// b holds what was read and not consumed (internal/linebuf, shared
	// with internal/sse's Reader); b.Scanned counts bytes after b.Start
	// known to hold no "\n".
	b       linebuf.Buffer
	lastOff int64
}

// NewReader returns a Reader reading from r whose lines may be at most
// maxLineBytes long, terminator excluded (DefaultMaxLineBytes when 0 or
// negative).
func NewReader(r io.Reader, maxLineBytes int) *Reader {
	rd := &Reader{}
	rd.Reset(r, maxLineBytes)
	return rd
}

// Reset makes rd read from r, keeping its buffer.
func (rd *Reader) Reset(r io.Reader, maxLineBytes int) {
	rd.b.Reset(r, maxLineBytes, "ndjson")
	rd.lastOff = 0
}

// BufferSize is the current size of the read buffer (for pools that drop
// readers whose buffer grew large).
func (rd *Reader) BufferSize() int { return cap(rd.b.Buf) }

// Offset is the stream offset of the first byte of the line last returned
// by Next.
func (rd *Reader) Offset() int64 { return rd.lastOff }

// Next returns the next non-empty line without its terminator ("\n" or
// "\r\n"). The slice is valid until the next call to Next or Reset. At the
// end of the stream Next returns io.EOF; a read error is returned as is,
// after the lines completed before it. When the source's Read returns
// ErrPending with no bytes and no complete line is buffered, Next returns
// (nil, ErrPending) and keeps the partial line for the next call.
func (rd *Reader) Next() ([]byte, error) {
	bf := &rd.b
	for {
		b := bf.Buf[bf.Start:bf.End]
		if i := bytes.IndexByte(b[bf.Scanned:], '\n'); i >= 0 {
			i += bf.Scanned
			line := b[:i]
			off := bf.Off + int64(bf.Start)
			bf.Start += i + 1
			bf.Scanned = 0
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if len(line) > bf.Max {
				return nil, &LineTooLongError{Limit: bf.Max}
			}
			if len(line) == 0 {
				continue
			}
			rd.lastOff = off
			return line, nil
		}
		bf.Scanned = len(b)
		if n := len(b); n > bf.Max && !(n == bf.Max+1 && b[n-1] == '\r') {
			return nil, &LineTooLongError{Limit: bf.Max}
		}
		if bf.Err != nil {
			return rd.last()
		}
		if err := bf.Fill(false); err != nil {
			return nil, err // ErrPending
		}
	}
}

// last returns what the end of the stream leaves: the final line without
// "\n" at io.EOF, otherwise the read error.
func (rd *Reader) last() ([]byte, error) {
	bf := &rd.b
	if bf.Err != io.EOF {
		return nil, bf.Err
	}
	line := bf.Buf[bf.Start:bf.End]
	off := bf.Off + int64(bf.Start)
	bf.Start, bf.Scanned = bf.End, 0
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > bf.Max {
		return nil, &LineTooLongError{Limit: bf.Max}
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	rd.lastOff = off
	return line, nil
}
