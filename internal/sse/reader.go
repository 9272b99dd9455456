package sse

import (
	"bytes"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/internal/linebuf"
)

// DefaultMaxLineBytes is the line length cap used when NewReader is given 0.
const DefaultMaxLineBytes = linebuf.DefaultMaxLineBytes

// ErrPending is what a non-blocking source's Read returns when it has no
// more bytes yet, and Next when it needs them (linebuf.ErrPending, the
// same value as ndjson.ErrPending). It is not sticky: a partially read
// event is kept, and calling Next again once the source has more bytes
// goes on as if the Read had blocked.
var ErrPending = linebuf.ErrPending

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
	// b holds what was read and not consumed (internal/linebuf, shared
	// with internal/ndjson's Reader); b.Scanned counts bytes after b.Start
	// known to hold no line terminator.
	b      linebuf.Buffer
	skipLF bool // the last line ended with CR at the end of the buffer
	first  bool // no line returned yet (BOM check)

	// Pending event: nlines data lines; the first one is b.Buf[dataOff:dataEnd]
	// while inBuf, otherwise all of them are in joined.
	nlines     int
	inBuf      bool
	dataOff    int
	dataEnd    int
	joined     []byte
	eventOff   int64
	lastEvOff  int64
	errorEvent bool
	// resume: the last Next returned ErrPending; the event it was
	// reading (its data lines so far, possibly none) is the next call's.
	resume bool
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
	b, joined := rd.b, rd.joined[:0]
	*rd = Reader{b: b, joined: joined, first: true}
	rd.b.Reset(r, maxLineBytes, "sse")
}

// BufferSize is the current size of the read buffer (for pools that drop
// readers whose buffer grew large).
func (rd *Reader) BufferSize() int { return cap(rd.b.Buf) + cap(rd.joined) }

// ErrorEvent reports whether the event last returned by Next had an
// "error" field line: llama.cpp sends a mid-stream failure as
// "error: {json}" instead of "data: {json}". Its value is returned as data.
// After ErrPending it is false, as after any call that returned no event.
func (rd *Reader) ErrorEvent() bool { return rd.errorEvent && !rd.resume }

// Offset is the stream offset of the first data byte of the event last
// returned by Next.
func (rd *Reader) Offset() int64 { return rd.lastEvOff }

// Next returns the data of the next event, the data lines joined with "\n".
// The slice is valid until the next call to Next or Reset. At the end of the
// stream Next returns io.EOF; a read error is returned as is, after the
// events completed before it. When the source's Read returns ErrPending
// with no bytes and no complete event is buffered, Next returns
// (nil, ErrPending) and keeps the partial event for the next call.
func (rd *Reader) Next() ([]byte, error) {
	if rd.resume {
		rd.resume = false
	} else {
		rd.nlines = 0
		rd.errorEvent = false
		rd.inBuf = false
		rd.joined = rd.joined[:0]
	}
	for {
		line, lineOff, err := rd.line()
		if err == ErrPending {
			rd.resume = true
			return nil, err
		}
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
		return rd.b.Buf[rd.dataOff:rd.dataEnd]
	}
	return rd.joined
}

// addData appends one data line value (a slice of buf at stream offset off).
func (rd *Reader) addData(value []byte, off int64) error {
	rd.nlines++
	if rd.nlines == 1 {
		rd.eventOff = off
		rd.inBuf = true
		rd.dataOff = int(off - rd.b.Off)
		rd.dataEnd = rd.dataOff + len(value)
		return nil
	}
	if rd.inBuf {
		rd.joined = append(rd.joined[:0], rd.b.Buf[rd.dataOff:rd.dataEnd]...)
		rd.inBuf = false
	}
	if len(rd.joined)+1+len(value) > rd.b.Max {
		return &LineTooLongError{Limit: rd.b.Max}
	}
	rd.joined = append(rd.joined, '\n')
	rd.joined = append(rd.joined, value...)
	return nil
}

// line returns the next line without its terminator and its stream offset.
// The slice is valid until the next call to line. ErrPending is returned
// when no complete line is buffered and the source has no more bytes
// yet; the scan state (Scanned, skipLF) lets the next call go on.
func (rd *Reader) line() ([]byte, int64, error) {
	bf := &rd.b
	for {
		if rd.skipLF && bf.Start < bf.End {
			if bf.Buf[bf.Start] == '\n' {
				bf.Start++
			}
			rd.skipLF = false
		}
		b := bf.Buf[bf.Start:bf.End]
		var line []byte
		next := -1
		if i := bytes.IndexByte(b[bf.Scanned:], '\n'); i >= 0 {
			i += bf.Scanned
			next = i + 1
			line = b[:i]
			if j := bytes.IndexByte(b[bf.Scanned:i], '\r'); j >= 0 {
				j += bf.Scanned
				line = b[:j]
				if j != i-1 { // lone CR before the LF
					next = j + 1
				}
			}
		} else if j := bytes.IndexByte(b[bf.Scanned:], '\r'); j >= 0 {
			// A lone CR (a CR followed by LF would have matched above),
			// or a CR at the end of the buffer whose LF may follow.
			j += bf.Scanned
			line = b[:j]
			next = j + 1
			if next == len(b) {
				rd.skipLF = true
			}
		}
		if next >= 0 {
			off := bf.Off + int64(bf.Start)
			bf.Start += next
			bf.Scanned = 0
			if len(line) > bf.Max {
				return nil, 0, &LineTooLongError{Limit: bf.Max}
			}
			if rd.first {
				rd.first = false
				if bytes.HasPrefix(line, bom) {
					line, off = line[len(bom):], off+int64(len(bom))
				}
			}
			return line, off, nil
		}
		bf.Scanned = len(b)
		if len(b) > bf.Max {
			return nil, 0, &LineTooLongError{Limit: bf.Max}
		}
		if bf.Err != nil {
			return nil, 0, bf.Err // an unterminated last line is discarded
		}
		if err := rd.fill(); err != nil {
			return nil, 0, err // ErrPending
		}
	}
}

var bom = []byte("\xEF\xBB\xBF")

// fill reads once more (linebuf.Buffer.Fill). The pending data line,
// when it is still in the buffer, keeps its bytes in place; if they are
// about to move, they are copied out to joined first. It returns what
// Fill returns (ErrPending or nil).
func (rd *Reader) fill() error {
	if rd.inBuf && rd.b.Moves(true) {
		rd.joined = append(rd.joined[:0], rd.b.Buf[rd.dataOff:rd.dataEnd]...)
		rd.inBuf = false
	}
	return rd.b.Fill(rd.inBuf)
}

// IsDone reports whether data is the "[DONE]" end-of-stream marker.
func IsDone(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "[DONE]"
}
