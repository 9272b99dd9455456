package hftok

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// knownAlternatives maps the text of a top-level regex alternative to an
// exact matcher.
var knownAlternatives = map[string]matchFunc{
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)`: matchContraction(true),
	`'s`:                           matchLiteral("'s"),
	`'t`:                           matchLiteral("'t"),
	`'re`:                          matchLiteral("'re"),
	`'ve`:                          matchLiteral("'ve"),
	`'m`:                           matchLiteral("'m"),
	`'ll`:                          matchLiteral("'ll"),
	`'d`:                           matchLiteral("'d"),
	`[^\r\n\p{L}\p{N}]?\p{L}+`:     matchPrefixedLetters,
	`\p{N}`:                        matchNumbers(1),
	`\p{N}{1,3}`:                   matchNumbers(3),
	`\p{N}+`:                       matchNumbers(-1),
	` ?\p{L}+`:                     matchSpaceThen(isLetter),
	` ?\p{N}+`:                     matchSpaceThen(isNumber),
	` ?[^\s\p{L}\p{N}]+`:           matchSpaceThen(isOther),
	` ?[^\s\p{L}\p{N}]+[\r\n]*`:    matchOtherNewlines,
	`\s*[\r\n]+`:                   matchSpaceNewlines,
	`\s+(?!\S)`:                    matchSpaceNotBeforeText,
	`\s+`:                          matchSpaces,
}

// Character classes. \s is Unicode White_Space (unicode.IsSpace), \p{L}
// letters, \p{N} numbers (Nd, Nl, No).

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		switch {
		case unicode.IsLetter(c):
			t[c] = classL
		case unicode.IsNumber(c):
			t[c] = classN
		case unicode.IsSpace(c):
			t[c] = classS
		default:
			t[c] = classO
		}
	}
	return t
}()

const (
	classO uint8 = iota // anything else ([^\s\p{L}\p{N}])
	classL
	classN
	classS
)

// classAt returns the class of the rune at s[pos] and its size.
func classAt(s string, pos int) (uint8, int) {
	c := s[pos]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[pos:])
	switch {
	case unicode.IsLetter(r):
		return classL, size
	case unicode.IsNumber(r):
		return classN, size
	case unicode.IsSpace(r):
		return classS, size
	}
	return classO, size
}

func isLetter(c uint8) bool { return c == classL }
func isNumber(c uint8) bool { return c == classN }
func isOther(c uint8) bool  { return c == classO }

// run returns the end of the run of characters of class ok from pos.
func run(s string, pos int, ok func(uint8) bool) int {
	for pos < len(s) {
		c, size := classAt(s, pos)
		if !ok(c) {
			break
		}
		pos += size
	}
	return pos
}

func matchLiteral(lit string) matchFunc {
	return func(s string, pos int) int {
		if strings.HasPrefix(s[pos:], lit) {
			return pos + len(lit)
		}
		return -1
	}
}

// matchContraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d). Under Unicode case
// folding 's' also matches U+017F (long s); 'k' (U+212A) plays no part.
func matchContraction(fold bool) matchFunc {
	return func(s string, pos int) int {
		if s[pos] != '\'' || pos+1 >= len(s) {
			return -1
		}
		rest := s[pos+1:]
		lower := func(i int) byte {
			if i >= len(rest) {
				return 0
			}
			c := rest[i]
			if fold && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			return c
		}
		switch lower(0) {
		case 's', 't', 'm', 'd':
			return pos + 2
		case 'r':
			if lower(1) == 'e' {
				return pos + 3
			}
		case 'v':
			if lower(1) == 'e' {
				return pos + 3
			}
		case 'l':
			if lower(1) == 'l' {
				return pos + 3
			}
		}
		if fold && strings.HasPrefix(rest, "\u017F") {
			return pos + 1 + len("\u017F")
		}
		return -1
	}
}

// matchPrefixedLetters matches [^\r\n\p{L}\p{N}]?\p{L}+.
func matchPrefixedLetters(s string, pos int) int {
	c, size := classAt(s, pos)
	switch {
	case c == classL:
		return run(s, pos+size, isLetter)
	case c == classN || s[pos] == '\r' || s[pos] == '\n':
		return -1
	}
	if pos+size < len(s) {
		if c2, size2 := classAt(s, pos+size); c2 == classL {
			return run(s, pos+size+size2, isLetter)
		}
	}
	return -1
}

// matchNumbers matches \p{N}{1,max} (max < 0: unbounded).
func matchNumbers(max int) matchFunc {
	return func(s string, pos int) int {
		end := pos
		for n := 0; end < len(s) && n != max; n++ {
			c, size := classAt(s, end)
			if c != classN {
				break
			}
			end += size
		}
		if end == pos {
			return -1
		}
		return end
	}
}

// matchSpaceThen matches " ?X+" for a class X that excludes the space.
func matchSpaceThen(ok func(uint8) bool) matchFunc {
	return func(s string, pos int) int {
		start := pos
		if s[pos] == ' ' {
			start++
		}
		end := run(s, start, ok)
		if end == start {
			return -1
		}
		return end
	}
}

// matchOtherNewlines matches ` ?[^\s\p{L}\p{N}]+[\r\n]*`.
func matchOtherNewlines(s string, pos int) int {
	end := matchSpaceThen(isOther)(s, pos)
	if end < 0 {
		return -1
	}
	for end < len(s) && (s[end] == '\r' || s[end] == '\n') {
		end++
	}
	return end
}

// matchSpaceNewlines matches `\s*[\r\n]+`: within the whitespace run at pos,
// up to and including its last \r or \n.
func matchSpaceNewlines(s string, pos int) int {
	last := -1
	for end := pos; end < len(s); {
		c, size := classAt(s, end)
		if c != classS {
			break
		}
		if s[end] == '\r' || s[end] == '\n' {
			last = end + 1
		}
		end += size
	}
	return last
}

// matchSpaceNotBeforeText matches `\s+(?!\S)`: a whitespace run that ends the
// text, or, when text follows, the run without its last character (which
// is left to start the next piece); a single space before text fails.
func matchSpaceNotBeforeText(s string, pos int) int {
	end, lastStart := pos, -1
	for end < len(s) {
		c, size := classAt(s, end)
		if c != classS {
			break
		}
		lastStart = end
		end += size
	}
	switch {
	case end == pos:
		return -1
	case end == len(s):
		return end
	case lastStart > pos:
		return lastStart
	}
	return -1
}

// matchSpaces matches `\s+`.
func matchSpaces(s string, pos int) int {
	end := run(s, pos, func(c uint8) bool { return c == classS })
	if end == pos {
		return -1
	}
	return end
}
