package sse

import (
	"fmt"
	"strconv"
)

// scanner validates JSON (RFC 8259) byte by byte and hands the values its
// sink wants to the sink, steered by the context of each value: the sink
// names the context and the field of every value (child, element) and
// stores the values of the fields it knows.
type scanner struct {
	d     []byte
	i     int
	depth int
	sink  sink
}

// sink is a decoded document: Chunk, TGIEvent, LlamaEvent. Contexts and
// fields are its own small numbers, but for ctxOther (a value the sink
// ignores, and everything under it), ctxRoot (the document) and fieldNone
// (a value not stored).
type sink interface {
	// child returns the context and field of the value of key in an object
	// at ctx.
	child(ctx uint8, key []byte) (uint8, uint8)
	// element returns the context of element i of an array at ctx.
	element(ctx uint8, i int) uint8
	// reset clears what a new value for field or ctx replaces (the last
	// duplicate key wins, as in encoding/json).
	reset(ctx, field uint8)
	// object is called when the value of field is an object.
	object(field uint8)
	// setString stores a string value, raw (escapes intact).
	setString(field uint8, raw []byte)
	// setNumber stores a number; integer reports a plain integer.
	setNumber(field uint8, num []byte, integer bool)
	// setBool stores true or false.
	setBool(field uint8, v bool)
}

// decode validates data as one JSON document and hands its values to sk.
func decode(data []byte, sk sink) error {
	s := scanner{d: data, sink: sk}
	s.ws()
	if err := s.value(ctxRoot, fieldNone); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.d) {
		return s.fail("invalid character " + quoteChar(s.d[s.i]) + " after top-level value")
	}
	return nil
}

func (s *scanner) fail(msg string) error { return &SyntaxError{Offset: s.i, Msg: msg} }

func (s *scanner) failEOF() error {
	return &SyntaxError{Offset: len(s.d), Msg: "unexpected end of JSON input"}
}

func (s *scanner) ws() {
	if s.i < len(s.d) && s.d[s.i] > ' ' {
		return
	}
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(ctx, field uint8) error {
	if s.i >= len(s.d) {
		return s.failEOF()
	}
	if ctx != ctxOther || field != fieldNone {
		s.sink.reset(ctx, field)
	}
	switch b := s.d[s.i]; {
	case b == '{':
		if field != fieldNone {
			s.sink.object(field)
		}
		return s.object(ctx)
	case b == '[':
		return s.array(ctx)
	case b == '"':
		start := s.i + 1
		if err := s.str(); err != nil {
			return err
		}
		if field != fieldNone {
			s.sink.setString(field, s.d[start:s.i-1])
		}
		return nil
	case b == '-' || (b >= '0' && b <= '9'):
		start := s.i
		integer, err := s.number()
		if err != nil {
			return err
		}
		if field != fieldNone {
			s.sink.setNumber(field, s.d[start:s.i], integer)
		}
		return nil
	case b == 't':
		if err := s.literal("true"); err != nil || field == fieldNone {
			return err
		}
		s.sink.setBool(field, true)
		return nil
	case b == 'f':
		if err := s.literal("false"); err != nil || field == fieldNone {
			return err
		}
		s.sink.setBool(field, false)
		return nil
	case b == 'n':
		return s.literal("null")
	}
	return s.fail("invalid character " + quoteChar(s.d[s.i]) + " looking for beginning of value")
}

func (s *scanner) object(ctx uint8) error {
	s.depth++
	if s.depth > maxDepth {
		return s.fail("exceeded max depth")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.d) && s.d[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if s.i >= len(s.d) {
			return s.failEOF()
		}
		if s.d[s.i] != '"' {
			return s.fail("invalid character " + quoteChar(s.d[s.i]) + " looking for beginning of object key string")
		}
		start := s.i + 1
		if err := s.str(); err != nil {
			return err
		}
		key := s.d[start : s.i-1]
		s.ws()
		if s.i >= len(s.d) {
			return s.failEOF()
		}
		if s.d[s.i] != ':' {
			return s.fail("invalid character " + quoteChar(s.d[s.i]) + " after object key")
		}
		s.i++
		s.ws()
		cctx, field := ctxOther, fieldNone
		if ctx != ctxOther {
			cctx, field = s.sink.child(ctx, key)
		}
		if err := s.value(cctx, field); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.d) {
			return s.failEOF()
		}
		switch s.d[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("invalid character " + quoteChar(s.d[s.i]) + " after object key:value pair")
		}
	}
}

func (s *scanner) array(ctx uint8) error {
	s.depth++
	if s.depth > maxDepth {
		return s.fail("exceeded max depth")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.d) && s.d[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		elem := ctxOther
		if ctx != ctxOther {
			elem = s.sink.element(ctx, n)
		}
		if err := s.value(elem, fieldNone); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.d) {
			return s.failEOF()
		}
		switch s.d[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("invalid character " + quoteChar(s.d[s.i]) + " after array element")
		}
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.d)-s.i >= len(lit) && string(s.d[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return nil
	}
	for k := 0; k < len(lit); k++ {
		if s.i >= len(s.d) {
			return s.failEOF()
		}
		if s.d[s.i] != lit[k] {
			return s.fail("invalid character " + quoteChar(s.d[s.i]) + " in literal " + lit)
		}
		s.i++
	}
	return nil
}

// number scans a JSON number and reports whether it is a plain integer.
func (s *scanner) number() (bool, error) {
	d := s.d
	integer := true
	if d[s.i] == '-' {
		s.i++
	}
	if s.i >= len(d) {
		return false, s.failEOF()
	}
	switch b := d[s.i]; {
	case b == '0':
		s.i++
	case b >= '1' && b <= '9':
		for s.i < len(d) && d[s.i] >= '0' && d[s.i] <= '9' {
			s.i++
		}
	default:
		return false, s.fail("invalid character " + quoteChar(b) + " in numeric literal")
	}
	if s.i < len(d) && d[s.i] == '.' {
		integer = false
		s.i++
		if err := s.digits(); err != nil {
			return false, err
		}
	}
	if s.i < len(d) && (d[s.i] == 'e' || d[s.i] == 'E') {
		integer = false
		s.i++
		if s.i < len(d) && (d[s.i] == '+' || d[s.i] == '-') {
			s.i++
		}
		if err := s.digits(); err != nil {
			return false, err
		}
	}
	return integer, nil
}

// digits scans one or more decimal digits.
func (s *scanner) digits() error {
	if s.i >= len(s.d) {
		return s.failEOF()
	}
	if b := s.d[s.i]; b < '0' || b > '9' {
		return s.fail("invalid character " + quoteChar(b) + " in numeric literal")
	}
	for s.i < len(s.d) && s.d[s.i] >= '0' && s.d[s.i] <= '9' {
		s.i++
	}
	return nil
}

// str scans a string starting at the opening quote and leaves s.i after the
// closing quote.
func (s *scanner) str() error {
	d := s.d
	i := s.i + 1
	for {
		i = skipPlain(d, i)
		if i >= len(d) {
			s.i = len(d)
			return s.failEOF()
		}
		switch b := d[i]; {
		case b == '"':
			s.i = i + 1
			return nil
		case b == '\\':
			if i+1 >= len(d) {
				s.i = len(d)
				return s.failEOF()
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(d) {
						s.i = len(d)
						return s.failEOF()
					}
					if hexValue(d[k]) < 0 {
						s.i = k
						return s.fail("invalid character " + quoteChar(d[k]) + " in \\u hexadecimal character escape")
					}
				}
				i += 6
			default:
				s.i = i + 1
				return s.fail("invalid character " + quoteChar(d[i+1]) + " in string escape code")
			}
		default: // control character
			s.i = i
			return s.fail("invalid character " + quoteChar(b) + " in string literal")
		}
	}
}

func hexValue(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// quoteChar formats b for an error message like encoding/json does.
func quoteChar(b byte) string {
	if b == '\'' {
		return `'\''`
	}
	if b == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(b)))
	if b >= 0x80 {
		s = fmt.Sprintf(`"\x%02x"`, b)
	}
	return "'" + s[1:len(s)-1] + "'"
}
