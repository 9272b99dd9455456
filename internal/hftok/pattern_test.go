package hftok

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	qwenPattern   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

func splitPieces(t testing.TB, pattern, s string) []string {
	t.Helper()
	sc, err := newSplitter(pattern)
	require.NoError(t, err)
	var out []string
	for _, p := range (&splitPre{scanner: sc}).split(nil, piece{text: s}) {
		out = append(out, p.text)
	}
	return out
}

// TestLookahead covers `\s+(?!\S)`: a whitespace run before text leaves its
// last character to the next piece.
func TestLookahead(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a  b", []string{"a", " ", " b"}},
		{"a b", []string{"a", " b"}},
		{"x   ", []string{"x", "   "}},
		{"a\t\tb", []string{"a", "\t", "\tb"}},
		{"a  \nb", []string{"a", "  \n", "b"}},
		{"a \u3000b", []string{"a", " ", "\u3000b"}},
		{"a  1", []string{"a", " ", " ", "1"}},
		{"a   !", []string{"a", "  ", " !"}},
		{"I'LL go 12345", []string{"I", "'LL", " go", " ", "1", "2", "3", "4", "5"}},
		{"", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, splitPieces(t, qwenPattern, tt.in), "split(%q)", tt.in)
	}
	assert.Equal(t, []string{"x", " ", "123", "45"}, splitPieces(t, llama3Pattern, "x 12345"))
}

// whitespaceClass is \s as Unicode White_Space (Go's regexp \s is ASCII).
const whitespaceClass = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// re2Equivalent turns a lookahead-free pattern into Go syntax with
// Unicode \s.
func re2Equivalent(p string) *regexp.Regexp {
	p = strings.ReplaceAll(p, `[^\s`, `[^`+whitespaceClass)
	p = strings.ReplaceAll(p, `\s`, `[`+whitespaceClass+`]`)
	return regexp.MustCompile(p)
}

// lookaheadFree patterns exercise every known alternative but the
// lookahead, so the scanner can be checked against regexp.
var lookaheadFree = []string{
	strings.Replace(qwenPattern, `\s+(?!\S)|`, "", 1),
	strings.Replace(llama3Pattern, `\s+(?!\S)|`, "", 1),
	strings.Replace(gpt2Pattern, `\s+(?!\S)|`, "", 1),
	`\p{N}+| ?\p{L}+| ?\p{N}+`,
}

func regexpPieces(re *regexp.Regexp, s string) []string {
	var out []string
	pos := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		if loc[0] > pos {
			out = append(out, s[pos:loc[0]])
		}
		out = append(out, s[loc[0]:loc[1]])
		pos = loc[1]
	}
	if pos < len(s) {
		out = append(out, s[pos:])
	}
	return out
}

func FuzzSplitterMatchesRegexp(f *testing.F) {
	for _, s := range []string{"Hello, world!", "it's 'S 'ſt", "a  \r\n\n  b", "x\u00a0\u00a0y 12345 é ü", "😀 -- ??\n", "\u0301a"} {
		f.Add(s)
	}
	res := make([]*regexp.Regexp, len(lookaheadFree))
	for i, p := range lookaheadFree {
		res[i] = re2Equivalent(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, p := range lookaheadFree {
			got := splitPieces(t, p, s)
			want := regexpPieces(res[i], s)
			if !assert.Equal(t, want, got, "pattern %q: split(%q)", p, s) {
				return
			}
		}
	})
}

func TestUnknownPatternFallsBackToRegexp(t *testing.T) {
	assert.Equal(t, []string{"ab", "-", "cd"}, splitPieces(t, `[a-z]+`, "ab-cd"))
	_, err := newSplitter(`a(?=b)`)
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestSplitAlternatives(t *testing.T) {
	assert.Equal(t, []string{`(?i:'s|'t)`, `[|]x`, `\|`, `[^]|]`}, splitAlternatives(`(?i:'s|'t)|[|]x|\||[^]|]`))
}
