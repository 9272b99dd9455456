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
	return splitPiecesWith(t, pattern, s, knownAlternatives)
}

func splitPiecesWith(t testing.TB, pattern, s string, known map[string]matchFunc) []string {
	t.Helper()
	sc, err := newSplitterWith(pattern, known)
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
	// GPT-4o (o200k) and DeepSeek-V3 style alternatives, which only the
	// regexp path handles.
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+`,
	`[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+`,
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
	type variant struct {
		name string
		sp   *splitPre
		re   *regexp.Regexp
	}
	var variants []variant
	for _, p := range lookaheadFree {
		for _, known := range []map[string]matchFunc{knownAlternatives, nil} {
			sc, err := newSplitterWith(p, known)
			require.NoError(f, err)
			name := p
			if known == nil {
				name += " (regexp path)"
			}
			variants = append(variants, variant{name, &splitPre{scanner: sc}, re2Equivalent(p)})
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range variants {
			var got []string
			for _, p := range v.sp.split(nil, piece{text: s}) {
				got = append(got, p.text)
			}
			if want := regexpPieces(v.re, s); !assert.Equal(t, want, got, "pattern %s: split(%q)", v.name, s) {
				return
			}
		}
	})
}

func TestUnknownAlternatives(t *testing.T) {
	assert.Equal(t, []string{"ab", "-", "cd"}, splitPieces(t, `[a-z]+`, "ab-cd"))
	// o200k-style: regexp alternatives around the emulated lookahead;
	// \s is Unicode White_Space and \d Unicode Nd, as in Oniguruma.
	o200k := `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	assert.Equal(t, []string{"Hello", "World's", " ", " x", "\u00a0", "\u00a0y"}, splitPieces(t, o200k, "HelloWorld's  x\u00a0\u00a0y"))
	assert.Equal(t, []string{"\u0663\u0664", "-", "\u00a0\u00a0"}, splitPieces(t, `\d+|\s+|-`, "\u0663\u0664-\u00a0\u00a0"))
	for _, bad := range []string{`a(?=b)`, `(?<=a)b`, `^a`, `a$`, `\bfoo`, `[a[b]]`, `[a&&b]`, `a++`, `(?>ab)`, `[\S]`} {
		_, err := newSplitter(bad)
		require.ErrorIs(t, err, ErrUnsupported, "newSplitter(%q)", bad)
	}
}

func TestSplitAlternatives(t *testing.T) {
	assert.Equal(t, []string{`(?i:'s|'t)`, `[|]x`, `\|`, `[^]|]`}, splitAlternatives(`(?i:'s|'t)|[|]x|\||[^]|]`))
}
