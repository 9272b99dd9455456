// Package chunked decodes the HTTP/1.1 chunked transfer coding (RFC 9112
// §7.1) incrementally, from bytes pushed in as they arrive, without
// allocating: for a client that reads a non-blocking socket and decodes
// what each read brought (internal/h1).
//
// It accepts what Go's net/http client accepts (its chunked reader,
// net/http/internal/chunked.go, and its trailer reading): chunk-size
// lines end in CRLF and hold no other CR, fit in 4096 bytes with their CRLF (bufio's default buffer),
// have at most 16 hex digits, and may end in spaces or tabs, or in a
// chunk extension after ';', which is ignored; chunk data is followed by
// CRLF; a body whose framing outweighs its data by more than 16 KiB is
// refused. The trailer section after the last chunk ends at the first
// CRLF CRLF, within 8 KiB (net/http refuses one whose end it cannot see
// in its read buffer), and is parsed as net/http parses it
// (net/textproto), its fields then dropped.
package chunked

import (
	"bufio"
	"bytes"
	"fmt"
	"net/textproto"
)

// Limits of the framing, as net/http has them.
const (
	maxLineLength = 4096
	maxExcess     = 16 << 10
	maxTrailer    = 8 << 10
)

// States of a Decoder.
const (
	stateSize    = iota // in a chunk-size line, before any extension
	stateOWS            // in the line's trailing spaces or tabs
	stateExt            // in the line's chunk extension
	stateLF             // after the line's CR
	stateData           // in chunk data
	stateDataCR         // after chunk data, at its CR
	stateDataLF         // after chunk data's CR
	stateTrailer        // in the trailer section
	stateDone           // after the body
	stateError          // after a framing error
)

// Decoder decodes a chunked body incrementally. The zero value is ready;
// Reset reuses one.
type Decoder struct {
	state   int
	off     int64  // body offset of the next byte
	size    uint64 // of the chunk whose line is being read
	digits  int
	lineLen int
	remain  uint64 // chunk data left
	excess  int64
	// The trailer section: its length so far, and how much of CRLF CRLF
	// its last bytes match.
	trailer int
	match   int
	// tb holds the trailer section (allocated only for a body that has
	// one beyond its final CRLF).
	tb  []byte
	err *SyntaxError
}

// SyntaxError reports malformed chunked framing at Offset, counted in the
// body's bytes since Reset.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("chunked: %s at body offset %d", e.Msg, e.Offset)
}

// Reset readies d for a new body.
func (d *Decoder) Reset() { *d = Decoder{tb: d.tb[:0]} }

// Done reports that the last chunk and the trailer section, through its
// final CRLF, were consumed.
func (d *Decoder) Done() bool { return d.state == stateDone }

// Decode decodes as much of src as it can, writing chunk data to dst: it
// returns the bytes written and consumed. dst and src may be the same
// slice (in-place decoding; data only moves towards the start). When dst
// is full Decode returns early; once Done, src[nSrc:] holds the bytes
// after the body, untouched. A framing error is a *SyntaxError, returned
// again by later calls.
func (d *Decoder) Decode(dst, src []byte) (nDst, nSrc int, err error) {
	if d.err != nil {
		return 0, 0, d.err
	}
	for nSrc < len(src) && d.state != stateDone {
		if d.state == stateData {
			k := int(min(d.remain, uint64(len(src)-nSrc), uint64(len(dst)-nDst)))
			if k == 0 {
				return nDst, nSrc, nil // dst is full
			}
			copy(dst[nDst:], src[nSrc:nSrc+k])
			nDst, nSrc = nDst+k, nSrc+k
			d.off += int64(k)
			d.remain -= uint64(k)
			if d.remain == 0 {
				d.state = stateDataCR
			}
			continue
		}
		if err := d.framing(src[nSrc]); err != nil {
			return nDst, nSrc, err
		}
		nSrc++
		d.off++
	}
	return nDst, nSrc, nil
}

// framing takes one byte of the framing (a chunk-size line, the CRLF
// after chunk data, the trailer section).
func (d *Decoder) framing(b byte) error {
	switch d.state {
	case stateSize, stateOWS, stateExt:
		switch {
		case b == '\r':
			d.state = stateLF
			return nil
		case b == '\n':
			return d.fail("chunked line ends with bare LF")
		}
		d.lineLen++
		if d.lineLen > maxLineLength-2 { // with its CRLF, more than bufio's default 4096 bytes
			return d.fail("chunk line too long")
		}
		switch d.state {
		case stateSize:
			switch v, ok := hexValue(b); {
			case ok:
				if d.digits == 16 {
					return d.fail("chunk size too large")
				}
				d.size = d.size<<4 | uint64(v)
				d.digits++
			case b == ';' && d.digits > 0:
				d.state = stateExt
			case (b == ' ' || b == '\t') && d.digits > 0:
				d.state = stateOWS
			case d.digits == 0 && (b == ';' || b == ' ' || b == '\t'):
				return d.fail("empty chunk size")
			default:
				return d.fail(fmt.Sprintf("invalid chunk size byte %q", b))
			}
		case stateOWS:
			// net/http trims trailing spaces and tabs before it cuts
			// the extension: only more of them may follow.
			if b != ' ' && b != '\t' {
				return d.fail(fmt.Sprintf("invalid chunk size byte %q", b))
			}
		}
		return nil
	case stateLF:
		if b != '\n' {
			return d.fail("invalid CR in chunked line")
		}
		if d.digits == 0 {
			return d.fail("empty chunk size")
		}
		d.excess += int64(d.lineLen) + 2
		d.excess = max(0, d.excess-16-2*int64(min(d.size, 1<<40)))
		if d.excess > maxExcess {
			return d.fail("chunked encoding contains too much non-data")
		}
		d.remain = d.size
		d.size, d.digits, d.lineLen = 0, 0, 0
		if d.remain == 0 {
			d.state, d.trailer, d.match = stateTrailer, 0, 2 // the line's CRLF counts towards CRLF CRLF
			d.tb = d.tb[:0]
			return nil
		}
		d.state = stateData
		return nil
	case stateDataCR:
		if b != '\r' {
			return d.fail("malformed chunked encoding: missing CRLF after chunk data")
		}
		d.state = stateDataLF
		return nil
	case stateDataLF:
		if b != '\n' {
			return d.fail("malformed chunked encoding: missing CRLF after chunk data")
		}
		d.state = stateSize
		return nil
	case stateTrailer:
		d.trailer++
		if d.trailer > maxTrailer {
			return d.fail("trailer section longer than 8 KiB")
		}
		switch {
		case b == "\r\n\r\n"[d.match]:
			d.match++
		case b == '\r':
			d.match = 1
		default:
			d.match = 0
		}
		if d.tb = append(d.tb, b); d.match == 4 {
			d.state = stateDone
			return d.checkTrailer()
		}
		return nil
	}
	return d.fail("decoder in an invalid state")
}

// checkTrailer parses the trailer section in d.tb as net/http does
// (net/textproto's ReadMIMEHeader), for the same verdict on it.
func (d *Decoder) checkTrailer() error {
	if len(d.tb) == 2 { // CRLF: no fields
		return nil
	}
	if _, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(d.tb))).ReadMIMEHeader(); err != nil {
		return d.fail("malformed trailer section: " + err.Error())
	}
	return nil
}

func (d *Decoder) fail(msg string) error {
	d.err = &SyntaxError{Offset: d.off, Msg: msg}
	d.state = stateError
	return d.err
}

func hexValue(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}
