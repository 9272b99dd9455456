// Package linebuf is the read buffer of the line-oriented stream readers
// (internal/sse's Reader, internal/ndjson's Reader): the bytes read and
// not yet consumed, their stream offset, the line cap the buffer grows up
// to, and the reads, with their sticky error and the bound on reads that
// return nothing. The readers scan Buf[Start:End] themselves (their line
// rules differ) and call Fill when it holds no complete line.
//
// A source may also be non-blocking: a Read that returns ErrPending has
// no more bytes yet (a push-mode client hands a stream's reader the bytes
// of a readable socket and comes back when more arrived). Fill reports
// it, and the readers return it from Next with their state kept, so that
// the next call, once more bytes are there, goes on as if the Read had
// blocked.
//
// A Buffer is not safe for concurrent use.
package linebuf

import (
	"errors"
	"fmt"
	"io"
)

// ErrPending is the error a non-blocking source's Read returns when it
// has no more bytes yet, with the bytes it had (possibly none); it is
// compared with ==, as io.EOF is, so it must not be wrapped. It is not
// sticky: Fill keeps the bytes, leaves Err nil and does not count the read
// as one that returned nothing, and the next Fill reads again.
var ErrPending = errors.New("linebuf: no more bytes yet")

// DefaultMaxLineBytes is the line cap Reset uses when given 0 or less.
const DefaultMaxLineBytes = 16 << 20

// InitialSize is the size of a new buffer (at most the cap and its
// terminator); it grows up to the cap when a line does not fit.
const InitialSize = 64 << 10

// maxEmptyReads bounds consecutive (0, nil) reads before io.ErrNoProgress.
const maxEmptyReads = 100

// Buffer holds what was read of a stream and not yet consumed:
// Buf[Start:End], at stream offset Off+Start. The fields are the readers'
// to read and to advance (Start, Scanned); only Reset and Fill move the
// bytes or read.
type Buffer struct {
	r    io.Reader
	name string // the reader's package, for the invalid count error

	// Max is the line cap in bytes.
	Max int
	Buf []byte
	// Start is the first unconsumed byte of Buf, End the end of the valid
	// bytes.
	Start, End int
	// Off is the stream offset of Buf[0].
	Off int64
	// Scanned counts bytes after Start known to hold no line terminator.
	Scanned int
	// Err is the sticky read error (io.EOF at the end of the stream).
	Err error

	empties int
}

// Reset makes b read from r with the line cap maxLineBytes
// (DefaultMaxLineBytes when 0 or less), keeping its buffer. name is the
// reader's package ("sse"), which the error of a reader returning an
// invalid count names.
func (b *Buffer) Reset(r io.Reader, maxLineBytes int, name string) {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	*b = Buffer{r: r, name: name, Max: maxLineBytes, Buf: b.Buf}
	if b.Buf == nil {
		b.Buf = make([]byte, min(InitialSize, maxLineBytes+2))
	}
}

// Moves reports whether Fill(pinned) will move the unconsumed bytes to
// the front of Buf: a reader that holds a slice of Buf before Start (SSE's
// pending data line) copies it out first.
func (b *Buffer) Moves(pinned bool) bool {
	start := b.Start
	if start == b.End && !pinned {
		start = 0
	}
	free := len(b.Buf) - b.End
	return (free == 0 || free < len(b.Buf)/4) && start > 0
}

// Fill reads once into the free space of Buf, first compacting it (the
// unconsumed bytes moved to the front) when less than a quarter is free,
// and growing it, up to the cap and its terminator, when it is full.
// pinned keeps the bytes before Start where they are when nothing is
// left to consume (a reader holds a slice of them). A read error is kept
// in Err; so is io.ErrNoProgress after 100 reads in a row returned
// nothing, and an error naming a count out of range.
//
// A read returning ErrPending is not an error: its bytes are kept and Err
// stays nil. Fill returns ErrPending when such a read returned no bytes
// (the reader has nothing new to scan and should return it); after one
// that returned some, it returns nil like after any read of n bytes, and
// the next Fill reads again. Otherwise Fill returns nil.
func (b *Buffer) Fill(pinned bool) error {
	if b.Start == b.End && !pinned {
		b.Off += int64(b.Start)
		b.Start, b.End = 0, 0
	}
	if free := len(b.Buf) - b.End; (free == 0 || free < len(b.Buf)/4) && b.Start > 0 {
		n := copy(b.Buf, b.Buf[b.Start:b.End])
		b.Off += int64(b.Start)
		b.Start, b.End = 0, n
	}
	if b.End == len(b.Buf) {
		size := min(2*len(b.Buf), b.Max+2)
		if size <= len(b.Buf) {
			size = len(b.Buf) + 1
		}
		nb := make([]byte, size)
		copy(nb, b.Buf[:b.End])
		b.Buf = nb
	}
	n, err := b.r.Read(b.Buf[b.End:])
	if n < 0 || n > len(b.Buf)-b.End {
		b.Err = fmt.Errorf("%s: reader returned invalid count %d", b.name, n)
		return nil
	}
	b.End += n
	switch {
	case err == ErrPending:
		if n == 0 {
			return ErrPending // as if the read blocked: no empty read counted
		}
		b.empties = 0
	case err != nil:
		b.Err = err
	case n == 0:
		b.empties++
		if b.empties >= maxEmptyReads {
			b.Err = io.ErrNoProgress
		}
	default:
		b.empties = 0
	}
	return nil
}
