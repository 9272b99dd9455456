package hftok

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitter finds the pieces of a Split pre-tokenizer's regex. HuggingFace
// compiles these patterns with Oniguruma; the common GPT-2, GPT-4 (cl100k),
// Llama 3 and Qwen2/3 patterns end in `\s+(?!\S)|\s+`, a lookahead Go's
// RE2-based regexp rejects. So a pattern is split into its top-level
// alternatives, tried in order at each position as a backtracking engine
// does. Known alternatives (knownAlternatives) use hand-written matchers;
// any other is compiled with regexp, anchored, after rewriting Oniguruma's
// Unicode \s, \d, \w into Go syntax; an alternative regexp cannot express
// the same way (other lookarounds, anchors, nested classes, possessive
// quantifiers) makes the pattern an unsupported component.
type splitter interface {
	// scan returns the start and end of the leftmost match at or after
	// pos, or (-1, -1).
	scan(s string, pos int) (start, end int)
}

// matchFunc reports the end of the alternative's match at pos (pos itself
// for an empty match), or -1.
type matchFunc func(s string, pos int) int

// altScanner tries its alternatives in order at each position.
type altScanner struct {
	alts []matchFunc
}

func (a *altScanner) scan(s string, pos int) (int, int) {
	for pos < len(s) {
		end := -1
		for _, f := range a.alts {
			if end = f(s, pos); end >= 0 {
				break
			}
		}
		if end > pos {
			return pos, end
		}
		// No match here, or an empty one (which splits nothing; the
		// search resumes one character on, as Oniguruma's does).
		if s[pos] < utf8.RuneSelf {
			pos++
		} else {
			_, size := utf8.DecodeRuneInString(s[pos:])
			pos += size
		}
	}
	return -1, -1
}

// literalScanner splits on a fixed string (Split with {"String": ...}).
type literalScanner string

func (l literalScanner) scan(s string, pos int) (int, int) {
	if l == "" {
		return -1, -1
	}
	i := strings.Index(s[pos:], string(l))
	if i < 0 {
		return -1, -1
	}
	return pos + i, pos + i + len(l)
}

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

// newSplitter builds the scanner for a Split pattern.
func newSplitter(regex string) (splitter, error) {
	return newSplitterWith(regex, knownAlternatives)
}

func newSplitterWith(regex string, known map[string]matchFunc) (splitter, error) {
	alts := splitAlternatives(regex)
	fs := make([]matchFunc, 0, len(alts))
	for _, a := range alts {
		if f, ok := known[a]; ok {
			fs = append(fs, f)
			continue
		}
		f, err := regexpAlternative(a)
		if err != nil {
			return nil, fmt.Errorf("%w: Split regex %q: alternative %q: %v", ErrUnsupported, regex, a, err)
		}
		fs = append(fs, f)
	}
	return &altScanner{alts: fs}, nil
}

// regexpAlternative matches one alternative with Go's regexp, anchored at
// the position (regexp picks the match a backtracking engine would).
func regexpAlternative(alt string) (matchFunc, error) {
	goRE, err := oniguramaToGo(alt)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`\A(?:` + goRE + `)`)
	if err != nil {
		return nil, err
	}
	return func(s string, pos int) int {
		loc := re.FindStringIndex(s[pos:])
		if loc == nil {
			return -1
		}
		return pos + loc[1]
	}, nil
}

// Oniguruma's Unicode shorthands, spelled for Go.
const (
	onigSpace = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	onigDigit = `\p{Nd}`
	onigWord  = `\p{L}\p{M}\p{N}\p{Pc}`
)

// oniguramaToGo rewrites \s \S \d \D \w \W with Oniguruma's Unicode
// meaning (Go's are ASCII) and rejects what would not mean the same in Go
// once the alternative is matched on its own at a position.
func oniguramaToGo(re string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\' && i+1 < len(re):
			i++
			e := re[i]
			switch {
			case e == 's' && inClass:
				b.WriteString(onigSpace)
			case e == 's':
				b.WriteString("[" + onigSpace + "]")
			case e == 'S' && !inClass:
				b.WriteString("[^" + onigSpace + "]")
			case e == 'd':
				b.WriteString(onigDigit)
			case e == 'D' && !inClass:
				b.WriteString(`\P{Nd}`)
			case e == 'w' && inClass:
				b.WriteString(onigWord)
			case e == 'w':
				b.WriteString("[" + onigWord + "]")
			case e == 'W' && !inClass:
				b.WriteString("[^" + onigWord + "]")
			case strings.IndexByte("SDWbBAzZGhHkKRXyYNO", e) >= 0:
				return "", fmt.Errorf("escape \\%c", e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			continue
		case inClass && c == '[':
			return "", errors.New("nested character class")
		case inClass && c == '&' && i+1 < len(re) && re[i+1] == '&':
			return "", errors.New("character class intersection")
		case inClass && c == ']':
			inClass = false
		case !inClass && c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(re) && re[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(re) && re[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
			continue
		case !inClass && (c == '^' || c == '$'):
			return "", fmt.Errorf("anchor %c", c)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// splitAlternatives splits a regex at its top-level '|'.
func splitAlternatives(re string) []string {
	var alts []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(re); i++ {
		switch c := re[i]; {
		case c == '\\':
			i++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
			if i+1 < len(re) && re[i+1] == ']' {
				i++
			} else if i+2 < len(re) && re[i+1] == '^' && re[i+2] == ']' {
				i += 2
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, re[start:i])
			start = i + 1
		}
	}
	return append(alts, re[start:])
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
