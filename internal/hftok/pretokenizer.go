package hftok

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// piece is a span of text on its way to the model. start reports whether it
// begins at offset 0 of the original input (Metaspace's prepend_scheme
// "first" looks at it).
type piece struct {
	text  string
	start bool
}

// preTokenizer splits each piece further. It appends its output for in to
// dst and returns dst.
type preTokenizer interface {
	split(dst []piece, in piece) []piece
}

// splitBehavior says what happens to the matches of a Split pattern.
type splitBehavior uint8

const (
	splitIsolated splitBehavior = iota // matches and gaps are pieces
	splitRemoved                       // gaps are pieces, matches dropped
)

// splitPre is HuggingFace's Split pre-tokenizer (invert: false).
type splitPre struct {
	scanner  splitter
	behavior splitBehavior
}

func (p *splitPre) split(dst []piece, in piece) []piece {
	s, first := in.text, in.start
	add := func(t string) {
		dst = append(dst, piece{text: t, start: first})
		first = false
	}
	pos := 0
	for pos < len(s) {
		start, end := p.scanner.scan(s, pos)
		if start < 0 {
			break
		}
		if start > pos {
			add(s[pos:start])
		}
		if p.behavior == splitIsolated {
			add(s[start:end])
		} else {
			first = false
		}
		pos = end
	}
	if pos < len(s) {
		add(s[pos:])
	}
	return dst
}

// byteLevelPre is the ByteLevel pre-tokenizer. Its byte-to-character
// mapping is folded into the model (which works on raw bytes), so here it
// only adds the prefix space and applies the GPT-2 regex when asked. It must
// be the last pre-tokenizer.
type byteLevelPre struct {
	addPrefixSpace bool
	regex          *splitPre // nil unless use_regex
}

const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

func newByteLevelPre(addPrefixSpace, useRegex bool) (*byteLevelPre, error) {
	p := &byteLevelPre{addPrefixSpace: addPrefixSpace}
	if useRegex {
		sc, err := newSplitter(gpt2Pattern)
		if err != nil {
			return nil, err
		}
		p.regex = &splitPre{scanner: sc}
	}
	return p, nil
}

func (p *byteLevelPre) split(dst []piece, in piece) []piece {
	if p.addPrefixSpace && in.text != "" && !strings.HasPrefix(in.text, " ") {
		in.text = " " + in.text
	}
	if p.regex != nil {
		return p.regex.split(dst, in)
	}
	return append(dst, in)
}

// metaspacePre is the Metaspace pre-tokenizer: every U+0020 space becomes
// the replacement character, which is prepended per prepend_scheme, and
// the text is split before each replacement character when split is true.
type metaspacePre struct {
	replacement string
	prepend     prependScheme
	split_      bool
}

type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

func parsePrependScheme(s string, addPrefixSpace *bool) (prependScheme, error) {
	switch s {
	case "always":
		return prependAlways, nil
	case "first":
		return prependFirst, nil
	case "never":
		return prependNever, nil
	case "":
		if addPrefixSpace == nil || *addPrefixSpace {
			return prependAlways, nil
		}
		return prependNever, nil
	}
	return 0, fmt.Errorf("%w: Metaspace prepend_scheme %q", ErrUnsupported, s)
}

func (p *metaspacePre) split(dst []piece, in piece) []piece {
	t := strings.ReplaceAll(in.text, " ", p.replacement)
	if t != "" && !strings.HasPrefix(t, p.replacement) &&
		(p.prepend == prependAlways || p.prepend == prependFirst && in.start) {
		t = p.replacement + t
	}
	if !p.split_ {
		return append(dst, piece{text: t, start: in.start})
	}
	first := in.start
	for t != "" {
		i := strings.Index(t[1:], p.replacement)
		if i < 0 {
			break
		}
		i++
		dst = append(dst, piece{text: t[:i], start: first})
		first = false
		t = t[i:]
	}
	if t != "" {
		dst = append(dst, piece{text: t, start: first})
	}
	return dst
}

// digitsPre is the Digits pre-tokenizer.
type digitsPre struct{ individual bool }

func (p digitsPre) split(dst []piece, in piece) []piece {
	sp := splitPre{scanner: digitScanner(p.individual)}
	return sp.split(dst, in)
}

// digitScanner matches \p{N} (individual) or \p{N}+.
type digitScanner bool

func (d digitScanner) scan(s string, pos int) (int, int) {
	max := -1
	if d {
		max = 1
	}
	m := matchNumbers(max)
	for pos < len(s) {
		if end := m(s, pos); end > 0 {
			return pos, end
		}
		_, size := utf8.DecodeRuneInString(s[pos:])
		pos += size
	}
	return -1, -1
}

// sequencePre runs pre-tokenizers one after the other.
type sequencePre []preTokenizer

func (seq sequencePre) split(dst []piece, in piece) []piece {
	cur := []piece{in}
	for _, p := range seq {
		var next []piece
		for _, c := range cur {
			next = p.split(next, c)
		}
		cur = next
	}
	return append(dst, cur...)
}
