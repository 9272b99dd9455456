package hftok

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is one entry of tokenizer.json's added_tokens, with its own id
// (Qwen3 interleaves special and non-special ones, so the JSON id is the
// only truth).
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedMatcher finds added tokens in text, leftmost-longest, as
// HuggingFace's AddedVocabulary (an Aho-Corasick automaton) does.
type addedMatcher struct {
	tokens []addedToken
	nodes  []trieNode
	first  [256]bool
}

type trieNode struct {
	edges []trieEdge
	token int // index into tokens, -1 when no token ends here
}

type trieEdge struct {
	b    byte
	next int32
}

func newAddedMatcher(tokens []addedToken) *addedMatcher {
	m := &addedMatcher{tokens: tokens, nodes: []trieNode{{token: -1}}}
	for i, t := range tokens {
		if t.Content == "" {
			continue
		}
		m.first[t.Content[0]] = true
		n := 0
		for j := 0; j < len(t.Content); j++ {
			n = m.child(n, t.Content[j])
		}
		if m.nodes[n].token < 0 {
			m.nodes[n].token = i
		}
	}
	return m
}

func (m *addedMatcher) child(n int, b byte) int {
	for _, e := range m.nodes[n].edges {
		if e.b == b {
			return int(e.next)
		}
	}
	m.nodes = append(m.nodes, trieNode{token: -1})
	next := len(m.nodes) - 1
	m.nodes[n].edges = append(m.nodes[n].edges, trieEdge{b: b, next: int32(next)})
	return next
}

func (m *addedMatcher) empty() bool { return m == nil || len(m.nodes) == 1 }

// longestAt returns the index of the longest token starting at s[pos] and
// its end, or -1.
func (m *addedMatcher) longestAt(s string, pos int, skipSpecial bool) (int, int) {
	best, bestEnd := -1, -1
	n := 0
	for i := pos; i < len(s); i++ {
		next := -1
		for _, e := range m.nodes[n].edges {
			if e.b == s[i] {
				next = int(e.next)
				break
			}
		}
		if next < 0 {
			break
		}
		n = next
		if t := m.nodes[n].token; t >= 0 && !(skipSpecial && m.tokens[t].Special) {
			best, bestEnd = t, i+1
		}
	}
	return best, bestEnd
}

// segment is a span of the input: an added token (token >= 0) or text.
type segment struct {
	text  string
	token int // added token id, -1 for text
	start bool
}

// split cuts s at the added tokens it holds, applying each token's
// single_word, lstrip and rstrip rules, and appends the segments to dst.
func (m *addedMatcher) split(dst []segment, s string, atStart bool, skipSpecial bool) []segment {
	if m.empty() {
		return append(dst, segment{text: s, token: -1, start: atStart})
	}
	from := 0 // end of the last emitted segment
	for pos := 0; pos < len(s); {
		if !m.first[s[pos]] {
			pos++
			continue
		}
		t, end := m.longestAt(s, pos, skipSpecial)
		if t < 0 {
			pos++
			continue
		}
		tok := m.tokens[t]
		start := pos
		if tok.SingleWord && (start > 0 && endsWithWordChar(s[:start]) || end < len(s) && startsWithWordChar(s[end:])) {
			pos = end
			continue
		}
		if tok.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), from)
		}
		if tok.RStrip {
			end = len(s) - len(strings.TrimLeftFunc(s[end:], unicode.IsSpace))
		}
		if from < start {
			dst = append(dst, segment{text: s[from:start], token: -1, start: atStart && from == 0})
		}
		dst = append(dst, segment{text: s[start:end], token: tok.ID})
		from, pos = end, end
	}
	if from < len(s) {
		dst = append(dst, segment{text: s[from:], token: -1, start: atStart && from == 0})
	}
	return dst
}

func isWordChar(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func endsWithWordChar(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordChar(r)
}
