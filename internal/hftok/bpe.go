package hftok

import (
	"fmt"
	"unicode/utf8"
)

// bpe is HuggingFace's BPE model. Merges are applied by rank, lowest first,
// ties going to the leftmost pair, with a heap over a linked list of symbols
// so that a long word costs O(n log n) (sugarme's version breaks ties by a
// never-set timestamp and merges runs of spaces wrongly).
type bpe struct {
	tokens []string         // id -> token as spelled in the vocabulary
	vocab  map[string]int32 // token -> id
	merges map[uint64]uint64

	// byteLevel: the model sees raw bytes; byteIDs holds each byte's
	// token and rawVocab maps raw bytes to ids (for ignore_merges).
	byteLevel bool
	byteIDs   [256]int32
	rawVocab  map[string]int32

	byteFallback   bool
	byteFallbackID [256]int32 // <0xXX> tokens, -1 when absent
	unk            int32      // -1: no unk token (unknown characters vanish)
	fuseUnk        bool
	ignoreMerges   bool

	cache *cache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// addMerges records merge rank for each (left, right) token pair.
func (m *bpe) addMerges(pairs [][2]string) error {
	m.merges = make(map[uint64]uint64, len(pairs))
	var buf []byte
	for rank, p := range pairs {
		a, okA := m.vocab[p[0]]
		b, okB := m.vocab[p[1]]
		buf = append(append(buf[:0], p[0]...), p[1]...)
		n, okN := m.vocab[string(buf)] // no allocation
		switch {
		case !okA:
			return fmt.Errorf("model.merges[%d]: token %q not in vocab", rank, p[0])
		case !okB:
			return fmt.Errorf("model.merges[%d]: token %q not in vocab", rank, p[1])
		case !okN:
			return fmt.Errorf("model.merges[%d]: merged token %q not in vocab", rank, p[0]+p[1])
		}
		// A repeated pair takes its last rank, as HuggingFace's map does.
		m.merges[pairKey(a, b)] = uint64(rank)<<32 | uint64(uint32(n))
	}
	return nil
}

// initByteLevel prepares the raw-byte view of a byte-level vocabulary.
func (m *bpe) initByteLevel() {
	m.byteLevel = true
	for b := range 256 {
		id, ok := m.vocab[byteLevel.toChar[b]]
		if !ok {
			id = -1
		}
		m.byteIDs[b] = id
	}
	if m.ignoreMerges {
		m.rawVocab = make(map[string]int32, len(m.vocab))
		for tok, id := range m.vocab {
			if raw, ok := byteLevel.unmap(tok); ok {
				m.rawVocab[raw] = id
			}
		}
	}
}

func (m *bpe) initByteFallback() {
	for b := range 256 {
		id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id = -1
		}
		m.byteFallbackID[b] = id
	}
}

// encode appends the ids of one pre-tokenized piece to dst.
func (m *bpe) encode(dst []int, s string, w *work) []int {
	if s == "" {
		return dst
	}
	if m.ignoreMerges {
		vocab := m.vocab
		if m.byteLevel {
			vocab = m.rawVocab
		}
		if id, ok := vocab[s]; ok {
			return append(dst, int(id))
		}
	}
	if ids, ok := m.cache.get(s); ok {
		for _, id := range ids {
			dst = append(dst, int(id))
		}
		return dst
	}
	syms := m.initialSymbols(w.syms[:0], s)
	syms = m.mergeAll(syms, w)
	w.syms = syms
	ids := make([]int32, 0, len(syms))
	for i := range syms {
		if syms[i].id >= 0 {
			ids = append(ids, syms[i].id)
			dst = append(dst, int(syms[i].id))
		}
	}
	m.cache.put(s, ids)
	return dst
}

type symbol struct {
	id         int32 // -1 once merged into its left neighbour
	prev, next int32 // -1 at the ends
}

// initialSymbols splits s into characters (bytes for a byte-level model)
// and looks each up, falling back to <0xXX> byte tokens, then to the unk
// token (fused when fuse_unk), then to nothing.
func (m *bpe) initialSymbols(syms []symbol, s string) []symbol {
	add := func(id int32) {
		syms = append(syms, symbol{id: id})
	}
	pendingUnk := false
	flushUnk := func() {
		if pendingUnk {
			add(m.unk)
			pendingUnk = false
		}
	}
	for i := 0; i < len(s); {
		var id int32 = -1
		var unit string
		if m.byteLevel {
			id = m.byteIDs[s[i]]
			unit = byteLevel.toChar[s[i]]
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			unit = s[i : i+size]
			if v, ok := m.vocab[unit]; ok {
				id = v
			}
			i += size
		}
		if id >= 0 {
			flushUnk()
			add(id)
			continue
		}
		if m.byteFallback && m.allBytesKnown(unit) {
			for j := 0; j < len(unit); j++ {
				add(m.byteFallbackID[unit[j]])
			}
			continue
		}
		if m.unk >= 0 {
			if !m.fuseUnk {
				flushUnk()
			}
			pendingUnk = true
		}
	}
	flushUnk()
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	return syms
}

func (m *bpe) allBytesKnown(unit string) bool {
	for j := 0; j < len(unit); j++ {
		if m.byteFallbackID[unit[j]] < 0 {
			return false
		}
	}
	return true
}

// mergeAll applies merges as HuggingFace's Word::merge_all does: a min-heap
// of (rank, position) candidates; a popped candidate is skipped when its
// left symbol is gone or the pair now there no longer yields the same token.
func (m *bpe) mergeAll(syms []symbol, w *work) []symbol {
	if len(syms) < 2 {
		return syms
	}
	h := w.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if v, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = h.push(candidate{key: v>>32<<32 | uint64(i), newID: int32(uint32(v))})
		}
	}
	for len(h) > 0 {
		var top candidate
		h, top = h.pop()
		pos := int32(uint32(top.key))
		cur := &syms[pos]
		if cur.id < 0 || cur.next < 0 {
			continue
		}
		right := syms[cur.next]
		v, ok := m.merges[pairKey(cur.id, right.id)]
		if !ok || int32(uint32(v)) != top.newID {
			continue
		}
		cur.id = top.newID
		syms[cur.next].id = -1
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = pos
		}
		if cur.prev >= 0 {
			if v, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				h = h.push(candidate{key: v>>32<<32 | uint64(cur.prev), newID: int32(uint32(v))})
			}
		}
		if cur.next >= 0 {
			if v, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				h = h.push(candidate{key: v>>32<<32 | uint64(pos), newID: int32(uint32(v))})
			}
		}
	}
	w.heap = h
	return syms
}

// candidate is a possible merge: key is rank<<32 | left position, so the
// smallest key is the lowest rank, leftmost.
type candidate struct {
	key   uint64
	newID int32
}

type candidateHeap []candidate

func (h candidateHeap) push(c candidate) candidateHeap {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].key <= h[i].key {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return h
}

func (h candidateHeap) pop() (candidateHeap, candidate) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		min := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			min = r
		}
		if h[i].key <= h[min].key {
			break
		}
		h[i], h[min] = h[min], h[i]
		i = min
	}
	return h, top
}
