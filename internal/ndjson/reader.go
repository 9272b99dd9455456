package ndjson

import (
	"bytes"
	"fmt"
	"io"
)

// DefaultMaxLineBytes is the line length cap used when NewReader is given 0.
const DefaultMaxLineBytes = 16 << 20

// initialBufferSize is the read buffer a Reader starts with; it grows up to
// the line cap when a line does not fit.
const initialBufferSize = 64 << 10

// maxEmptyReads bounds consecutive (0, nil) reads before io.ErrNoProgress.
const maxEmptyReads = 100

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
	r     io.Reader
	max   int
	buf   []byte
	start int   // first unconsumed byte of buf
	end   int   // end of valid bytes in buf
	off   int64 // stream offset of buf[0]
	// scanned counts bytes after start known to hold no "\n".
	scanned int
	err     error // sticky read error
	empties int
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
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	buf := rd.buf
	*rd = Reader{r: r, max: maxLineBytes, buf: buf}
	if rd.buf == nil {
		rd.buf = make([]byte, min(initialBufferSize, maxLineBytes+2))
	}
}

// BufferSize is the current size of the read buffer (for pools that drop
// readers whose buffer grew large).
func (rd *Reader) BufferSize() int { return cap(rd.buf) }

// Offset is the stream offset of the first byte of the line last returned
// by Next.
func (rd *Reader) Offset() int64 { return rd.lastOff }

// Next returns the next non-empty line without its terminator ("\n" or
// "\r\n"). The slice is valid until the next call to Next or Reset. At the
// end of the stream Next returns io.EOF; a read error is returned as is,
// after the lines completed before it.
func (rd *Reader) Next() ([]byte, error) {
	for {
		b := rd.buf[rd.start:rd.end]
		if i := bytes.IndexByte(b[rd.scanned:], '\n'); i >= 0 {
			i += rd.scanned
			line := b[:i]
			off := rd.off + int64(rd.start)
			rd.start += i + 1
			rd.scanned = 0
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if len(line) > rd.max {
				return nil, &LineTooLongError{Limit: rd.max}
			}
			if len(line) == 0 {
				continue
			}
			rd.lastOff = off
			return line, nil
		}
		rd.scanned = len(b)
		if n := len(b); n > rd.max && !(n == rd.max+1 && b[n-1] == '\r') {
			return nil, &LineTooLongError{Limit: rd.max}
		}
		if rd.err != nil {
			return rd.last()
		}
		rd.fill()
	}
}

// last returns what the end of the stream leaves: the final line without
// "\n" at io.EOF, otherwise the read error.
func (rd *Reader) last() ([]byte, error) {
	if rd.err != io.EOF {
		return nil, rd.err
	}
	line := rd.buf[rd.start:rd.end]
	off := rd.off + int64(rd.start)
	rd.start, rd.scanned = rd.end, 0
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > rd.max {
		return nil, &LineTooLongError{Limit: rd.max}
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	rd.lastOff = off
	return line, nil
}

// fill reads once into the free space of buf, compacting or growing it first
// when needed.
func (rd *Reader) fill() {
	if rd.start == rd.end {
		rd.off += int64(rd.start)
		rd.start, rd.end = 0, 0
	}
	if free := len(rd.buf) - rd.end; (free == 0 || free < len(rd.buf)/4) && rd.start > 0 {
		n := copy(rd.buf, rd.buf[rd.start:rd.end])
		rd.off += int64(rd.start)
		rd.start, rd.end = 0, n
	}
	if rd.end == len(rd.buf) {
		size := min(2*len(rd.buf), rd.max+2)
		if size <= len(rd.buf) {
			size = len(rd.buf) + 1
		}
		nb := make([]byte, size)
		copy(nb, rd.buf[:rd.end])
		rd.buf = nb
	}
	n, err := rd.r.Read(rd.buf[rd.end:])
	if n < 0 || n > len(rd.buf)-rd.end {
		rd.err = fmt.Errorf("ndjson: reader returned invalid count %d", n)
		return
	}
	rd.end += n
	switch {
	case err != nil:
		rd.err = err
	case n == 0:
		rd.empties++
		if rd.empties >= maxEmptyReads {
			rd.err = io.ErrNoProgress
		}
	default:
		rd.empties = 0
	}
}
