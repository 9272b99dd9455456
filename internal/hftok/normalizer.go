package hftok

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites the text between added tokens before pre-tokenizing.
// Offsets are not tracked: only ids are produced.
type normalizer interface {
	normalize(s string) string
}

// unicodeNorm is NFC, NFD, NFKC or NFKD. norm.Form.String returns its input
// unchanged (without copying) when it is already normalized.
type unicodeNorm struct{ form norm.Form }

func (n unicodeNorm) normalize(s string) string { return n.form.String(s) }

type lowercaseNorm struct{}

func (lowercaseNorm) normalize(s string) string { return strings.ToLower(s) }

// prependNorm prepends its text to a non-empty input (Llama 2, Mistral).
type prependNorm struct{ prefix string }

func (p prependNorm) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.prefix + s
}

// replaceNorm replaces every non-overlapping match, left to right, in one
// pass (sugarme's Replace rebuilds the string per match: quadratic).
type replaceNorm struct {
	old     string         // literal pattern, or
	re      *regexp.Regexp // regex pattern
	content string
}

func (r replaceNorm) normalize(s string) string {
	if r.re != nil {
		return r.re.ReplaceAllLiteralString(s, r.content)
	}
	if r.old == "" {
		return s
	}
	return strings.ReplaceAll(s, r.old, r.content)
}

// stripNorm removes leading and/or trailing whitespace.
type stripNorm struct{ left, right bool }

func (p stripNorm) normalize(s string) string {
	if p.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if p.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

type sequenceNorm []normalizer

func (seq sequenceNorm) normalize(s string) string {
	for _, n := range seq {
		s = n.normalize(s)
	}
	return s
}
