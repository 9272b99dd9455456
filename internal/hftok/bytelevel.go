package hftok

import (
	"unicode/utf8"

	"github.com/sugarme/tokenizer/pretokenizer"
)

// byteLevelMap is GPT-2's reversible byte <-> character mapping, as used by
// the ByteLevel pre-tokenizer and decoder. It is taken from sugarme's
// pretokenizer.GenerateBytesChar, which is correct (and checked against the
// GPT-2 definition in a test).
type byteLevelMap struct {
	toChar [256]string   // byte -> UTF-8 of its stand-in character
	toByte map[rune]byte // stand-in character -> byte
}

var byteLevel = newByteLevelMap()

func newByteLevelMap() *byteLevelMap {
	m := &byteLevelMap{toByte: make(map[rune]byte, 256)}
	for b, c := range pretokenizer.GenerateBytesChar() {
		m.toChar[b] = c
		r, _ := utf8.DecodeRuneInString(c)
		m.toByte[r] = b
	}
	return m
}

// unmap returns the raw bytes a byte-level token stands for. A token holding
// a character outside the mapping (an added token such as "<|im_end|>" is
// usually all ASCII stand-ins, but need not be) is taken as its own UTF-8
// bytes, as HuggingFace's ByteLevel decoder does.
func (m *byteLevelMap) unmap(tok string) (string, bool) {
	buf := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := m.toByte[r]
		if !ok {
			return tok, false
		}
		buf = append(buf, b)
	}
	return string(buf), true
}

// appendLossy appends b to dst as valid UTF-8, replacing each maximal
// ill-formed subsequence with U+FFFD, as Rust's String::from_utf8_lossy and
// Python's bytes.decode(errors="replace") do (Unicode's "substitution of
// maximal subparts"). Go's strings.ToValidUTF8 would merge adjacent bad
// bytes into one replacement and differ.
func appendLossy(dst []byte, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			dst = append(dst, b[i:i+size]...)
			i += size
			continue
		}
		i += maximalSubpart(b[i:])
		dst = append(dst, "\uFFFD"...)
	}
	return dst
}

// maximalSubpart returns the length (>= 1) of the ill-formed sequence at the
// start of b: a lead byte followed by the continuation bytes that could still
// have formed a valid character.
func maximalSubpart(b []byte) int {
	var n int
	lo, hi := byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c == 0xE0:
		n, lo = 3, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		n = 3
	case c == 0xED:
		n, hi = 3, 0x9F
	case c == 0xF0:
		n, lo = 4, 0x90
	case c >= 0xF1 && c <= 0xF3:
		n = 4
	case c == 0xF4:
		n, hi = 4, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i < n && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
