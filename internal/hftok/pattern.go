package hftok

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
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
