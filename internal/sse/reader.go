package sse

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

// LineTooLongError reports a line, or the data of one event, longer than the
// Reader's cap.
type LineTooLongError struct {
	// Limit is the cap in bytes (MaxLineBytes).
	Limit int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("sse: line or event data longer than %d bytes (MaxLineBytes)", e.Limit)
}

// Reader reads events from an SSE stream. The zero value is not usable;
// create one with NewReader, or reuse one with Reset.
type Reader struct {
	r     io.Reader
	max   int
	buf   []byte
	start int   // first unconsumed byte of buf
	end   int   // end of valid bytes in buf
	off   int64 // stream offset of buf[0]
	// scanned counts bytes after start known to hold no line terminator.
	scanned int
	err     error // sticky read error
	empties int
	skipLF  bool // the last line ended with CR at the end of the buffer
	first   bool // no line returned yet (BOM check)

	// Pending event: nlines data lines; the first one is buf[dataOff:dataEnd]
	// while inBuf, otherwise all of them are in joined.
	nlines     int
	inBuf      bool
	dataOff    int
	dataEnd    int
	joined     []byte
	eventOff   int64
	lastEvOff  int64
	errorEvent bool
}

// NewReader returns a Reader reading from r whose lines may be at most
// maxLineBytes long (DefaultMaxLineBytes when 0 or negative).
func NewReader(r io.Reader, maxLineBytes int) *Reader {
	rd := &Reader{}
	rd.Reset(r, maxLineBytes)
	return rd
}

// Reset makes rd read from r, keeping its buffers.
func (rd *Reader) Reset(r io.Reader, maxLineBytes int) {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	buf, joined := rd.buf, rd.joined[:0]
	*rd = Reader{r: r, max: maxLineBytes, buf: buf, joined: joined, first: true}
	if rd.buf == nil {
		rd.buf = make([]byte, min(initialBufferSize, maxLineBytes+2))
	}
}

// BufferSize is the current size of the read buffer (for pools that drop
// readers whose buffer grew large).
func (rd *Reader) BufferSize() int { return cap(rd.buf) + cap(rd.joined) }

// ErrorEvent reports whether the event last returned by Next had an
// "error" field line: llama.cpp sends a mid-stream failure as
// "error: {json}" instead of "data: {json}". Its value is returned as data.
func (rd *Reader) ErrorEvent() bool { return rd.errorEvent }

// Offset is the stream offset of the first data byte of the event last
// returned by Next.
func (rd *Reader) Offset() int64 { return rd.lastEvOff }

// Next returns the data of the next event, the data lines joined with "\n".
// The slice is valid until the next call to Next or Reset. At the end of the
// stream Next returns io.EOF; a read error is returned as is, after the
// events completed before it.
func (rd *Reader) Next() ([]byte, error) {
	rd.nlines = 0
	rd.errorEvent = false
	rd.inBuf = false
	rd.joined = rd.joined[:0]
	for {
		line, lineOff, err := rd.line()
		if err != nil {
			if err == io.EOF && rd.nlines > 0 {
				return rd.dispatch(), nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if rd.nlines > 0 {
				return rd.dispatch(), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		name, value, valueOff := line, line[:0], lineOff+int64(len(line))
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value, valueOff = line[:i], line[i+1:], lineOff+int64(i+1)
			if len(value) > 0 && value[0] == ' ' {
				value, valueOff = value[1:], valueOff+1
			}
		}
		switch string(name) {
		case "data":
		case "error":
			rd.errorEvent = true
		default:
			continue
		}
		if err := rd.addData(value, valueOff); err != nil {
			return nil, err
		}
	}
}

func (rd *Reader) dispatch() []byte {
	rd.lastEvOff = rd.eventOff
	if rd.inBuf {
		return rd.buf[rd.dataOff:rd.dataEnd]
	}
	return rd.joined
}

// addData appends one data line value (a slice of buf at stream offset off).
func (rd *Reader) addData(value []byte, off int64) error {
	rd.nlines++
	if rd.nlines == 1 {
		rd.eventOff = off
		rd.inBuf = true
		rd.dataOff = int(off - rd.off)
		rd.dataEnd = rd.dataOff + len(value)
		return nil
	}
	if rd.inBuf {
		rd.joined = append(rd.joined[:0], rd.buf[rd.dataOff:rd.dataEnd]...)
		rd.inBuf = false
	}
	if len(rd.joined)+1+len(value) > rd.max {
		return &LineTooLongError{Limit: rd.max}
	}
	rd.joined = append(rd.joined, '\n')
	rd.joined = append(rd.joined, value...)
	return nil
}

// line returns the next line without its terminator and its stream offset.
// The slice is valid until the next call to line.
func (rd *Reader) line() ([]byte, int64, error) {
	for {
		if rd.skipLF && rd.start < rd.end {
			if rd.buf[rd.start] == '\n' {
				rd.start++
			}
			rd.skipLF = false
		}
		b := rd.buf[rd.start:rd.end]
		var line []byte
		next := -1
		if i := bytes.IndexByte(b[rd.scanned:], '\n'); i >= 0 {
			i += rd.scanned
			next = i + 1
			line = b[:i]
			if j := bytes.IndexByte(b[rd.scanned:i], '\r'); j >= 0 {
				j += rd.scanned
				line = b[:j]
				if j != i-1 { // lone CR before the LF
					next = j + 1
				}
			}
		} else if j := bytes.IndexByte(b[rd.scanned:], '\r'); j >= 0 {
			// A lone CR (a CR followed by LF would have matched above),
			// or a CR at the end of the buffer whose LF may follow.
			j += rd.scanned
			line = b[:j]
			next = j + 1
			if next == len(b) {
				rd.skipLF = true
			}
		}
		if next >= 0 {
			off := rd.off + int64(rd.start)
			rd.start += next
			rd.scanned = 0
			if len(line) > rd.max {
				return nil, 0, &LineTooLongError{Limit: rd.max}
			}
			if rd.first {
				rd.first = false
				if bytes.HasPrefix(line, bom) {
					line, off = line[len(bom):], off+int64(len(bom))
				}
			}
			return line, off, nil
		}
		rd.scanned = len(b)
		if len(b) > rd.max {
			return nil, 0, &LineTooLongError{Limit: rd.max}
		}
		if rd.err != nil {
			return nil, 0, rd.err // an unterminated last line is discarded
		}
		rd.fill()
	}
}

var bom = []byte("\xEF\xBB\xBF")

// fill reads once into the free space of buf, compacting or growing it first
// when needed.
func (rd *Reader) fill() {
	if rd.start == rd.end && !rd.inBuf {
		rd.off += int64(rd.start)
		rd.start, rd.end = 0, 0
	}
	if free := len(rd.buf) - rd.end; (free == 0 || free < len(rd.buf)/4) && rd.start > 0 {
		if rd.inBuf { // the pending data line is about to move or be overwritten
			rd.joined = append(rd.joined[:0], rd.buf[rd.dataOff:rd.dataEnd]...)
			rd.inBuf = false
		}
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
		rd.err = fmt.Errorf("sse: reader returned invalid count %d", n)
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

// IsDone reports whether data is the "[DONE]" end-of-stream marker.
func IsDone(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "[DONE]"
}
