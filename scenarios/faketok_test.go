package scenarios

import (
	"strings"
	"unicode/utf8"
)

// fakeTok is a deterministic greedy longest-match tokenizer over a fixed
// vocabulary: the printable ASCII characters and newline, a few hundred
// words and word pieces, and one special token at the end. Runes outside
// the vocabulary encode as unkID. Decoding concatenates the pieces, so a
// decoded window of ids often re-encodes to fewer tokens ("th"+"e" becomes
// "the"), as real BPE tokenizers do.
type fakeTok struct {
	pieces []string
	index  map[string]int
	maxLen int
}

const fakeSpecial = "<|end|>"

func newFakeTok() *fakeTok {
	var pieces []string
	pieces = append(pieces, "\n")
	for c := ' '; c <= '~'; c++ {
		pieces = append(pieces, string(c))
	}
	words := strings.Fields(`the of and to in is was he for it with as his on be at by
		had are but from or have an they which one you were her all she there would
		their we him been has when who will more no if out so said what up its about
		into than them can only other new some could time these two may then do first
		any my now such like our over man me even most made after also did many before
		must through back years where much your way well down should because each just
		those people how too little state good very make world still own see men work
		long get here between both life being under never day same another know while
		last might us great old year off come since against go came right used take
		three th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng
		se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur
		ing ion ent tion ter the and ers ive est all ver ted`)
	seen := map[string]bool{}
	for _, w := range words {
		for _, p := range []string{w, " " + w} {
			if !seen[p] && utf8.RuneCountInString(p) > 1 {
				seen[p] = true
				pieces = append(pieces, p)
			}
		}
	}
	pieces = append(pieces, fakeSpecial)
	t := &fakeTok{pieces: pieces, index: make(map[string]int, len(pieces))}
	for id, p := range pieces {
		if _, dup := t.index[p]; !dup {
			t.index[p] = id
		}
		t.maxLen = max(t.maxLen, len(p))
	}
	return t
}

func (t *fakeTok) unkID() int { return t.index["?"] }

func (t *fakeTok) VocabSize() int { return len(t.pieces) }

func (t *fakeTok) SpecialIDs() []int { return []int{len(t.pieces) - 1} }

func (t *fakeTok) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id >= 0 && id < len(t.pieces) {
			b.WriteString(t.pieces[id])
		}
	}
	return b.String()
}

func (t *fakeTok) Encode(text string) []int {
	ids := make([]int, 0, len(text)/3+1)
	for len(text) > 0 {
		n := min(t.maxLen, len(text))
		for ; n > 0; n-- {
			if id, ok := t.index[text[:n]]; ok {
				ids = append(ids, id)
				break
			}
		}
		if n == 0 {
			_, size := utf8.DecodeRuneInString(text)
			ids = append(ids, t.unkID())
			n = size
		}
		text = text[n:]
	}
	return ids
}

// plainTok is fakeTok without the SpecialIDs method.
type plainTok struct{ t *fakeTok }

func (p plainTok) Encode(s string) []int   { return p.t.Encode(s) }
func (p plainTok) Decode(ids []int) string { return p.t.Decode(ids) }
func (p plainTok) VocabSize() int          { return p.t.VocabSize() }
