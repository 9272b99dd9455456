package sse

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// plain marks bytes a string may hold without ending or escaping: not '"',
// not '\\' and not a control character.
var plain = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

const (
	lsb      = 0x0101010101010101
	msb      = 0x8080808080808080
	quotes   = '"' * lsb
	slashes  = '\\' * lsb
	controls = 0x20 * lsb
)

// skipPlain returns the index of the first byte at or after i that is not
// plain, or len(d). It tests eight bytes at a time: a byte of x is '"' or
// '\\' when x^pattern has a zero byte, a control character when it is below
// 0x20; the lowest flagged byte is exact (borrows only flag higher bytes).
func skipPlain(d []byte, i int) int {
	for i+8 <= len(d) {
		x := binary.LittleEndian.Uint64(d[i:])
		q := x ^ quotes
		s := x ^ slashes
		m := ((q - lsb) &^ q) | ((s - lsb) &^ s) | ((x - controls) &^ x)
		if m &= msb; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(d) && plain[d[i]] {
		i++
	}
	return i
}

// AppendUnescaped appends the JSON string contents raw (validated by Chunk's
// Decode, without the quotes) to dst, unescaped the way encoding/json does:
// \uXXXX surrogate pairs are combined, lone surrogates and invalid UTF-8
// become U+FFFD.
func AppendUnescaped(dst, raw []byte) []byte {
	for len(raw) > 0 {
		i := 0
		for i < len(raw) && raw[i] != '\\' && raw[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, raw[:i]...)
		raw = raw[i:]
		if len(raw) == 0 {
			break
		}
		if raw[0] >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(raw)
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[:size]...)
			}
			raw = raw[size:]
			continue
		}
		// raw[0] == '\\'; Decode validated the escape.
		if len(raw) < 2 {
			break
		}
		switch raw[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[2:])
			if !ok {
				return dst
			}
			raw = raw[6:]
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					r2, ok2 = hex4(raw[2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					raw = raw[6:]
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[1])
		}
		raw = raw[2:]
	}
	return dst
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		v := hexValue(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
