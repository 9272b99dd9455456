package hftok

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	sgtok "github.com/sugarme/tokenizer"
)

// Tokenizer encodes and decodes like a HuggingFace tokenizer.json. It is
// safe for concurrent use.
type Tokenizer struct {
	added     *addedMatcher // added tokens matched on the raw text
	addedNorm *addedMatcher // added tokens with normalized: true
	norm      normalizer    // nil: none
	pre       preTokenizer  // nil: none
	model     *bpe
	decoder   sgtok.Decoder // nil: tokens joined by spaces

	addedByID map[int]addedToken
	rawBytes  []string // byte-level decoding: id -> the bytes it stands for
	maxID     int

	pool sync.Pool // *work
}

// work is per-call scratch space.
type work struct {
	segs   []segment
	pieces []piece
	syms   []symbol
	heap   candidateHeap
}

// LoadFile reads a tokenizer.json file.
func LoadFile(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse builds a Tokenizer from the contents of a tokenizer.json file.
// A component it does not implement gives an error wrapping
// ErrUnsupported; a panic while building is returned as an error.
func Parse(data []byte) (t *Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("hftok: loading tokenizer.json: panic: %v", r)
		}
	}()
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json: %w", err)
	}
	t, err = build(cfg)
	if err != nil {
		return nil, fmt.Errorf("hftok: tokenizer.json: %w", err)
	}
	return t, nil
}

func build(cfg *fileConfig) (*Tokenizer, error) {
	m, err := buildModel(&cfg.Model)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{model: m, addedByID: make(map[int]addedToken, len(cfg.AddedTokens))}
	if cfg.Normalizer != nil {
		if t.norm, err = buildNormalizer(cfg.Normalizer); err != nil {
			return nil, err
		}
	}
	byteLevelModel := false
	if cfg.PreTokenizer != nil {
		pres, err := buildPreTokenizers(cfg.PreTokenizer, nil)
		if err != nil {
			return nil, err
		}
		for i, p := range pres {
			if _, ok := p.(*byteLevelPre); ok {
				if i != len(pres)-1 {
					return nil, fmt.Errorf("%w: pre-tokenizer ByteLevel followed by another pre-tokenizer", ErrUnsupported)
				}
				byteLevelModel = true
			}
		}
		if n := len(pres); n > 0 {
			if bl, ok := pres[n-1].(*byteLevelPre); ok && !bl.addPrefixSpace && bl.regex == nil {
				pres = pres[:n-1] // only the byte mapping, done by the model
			}
		}
		switch len(pres) {
		case 0:
		case 1:
			t.pre = pres[0]
		default:
			t.pre = sequencePre(pres)
		}
	}
	if byteLevelModel {
		m.initByteLevel()
	}
	if cfg.Decoder != nil {
		if t.decoder, err = buildDecoder(cfg.Decoder); err != nil {
			return nil, err
		}
	}

	var raw, normed []addedToken
	for _, a := range cfg.AddedTokens {
		t.addedByID[a.ID] = a
		t.maxID = max(t.maxID, a.ID)
		if a.Normalized && t.norm != nil {
			a.Content = t.norm.normalize(a.Content)
			normed = append(normed, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.added = newAddedMatcher(raw)
	if len(normed) > 0 {
		t.addedNorm = newAddedMatcher(normed)
	}
	t.maxID = max(t.maxID, len(m.tokens)-1)
	if _, ok := t.decoder.(byteLevelDecoder); ok {
		t.rawBytes = make([]string, t.maxID+1)
		for id, tok := range m.tokens {
			t.rawBytes[id], _ = byteLevel.unmap(tok)
		}
		for id, a := range t.addedByID {
			t.rawBytes[id], _ = byteLevel.unmap(a.Content)
		}
	}
	t.pool.New = func() any { return new(work) }
	return t, nil
}

func buildModel(c *modelConfig) (*bpe, error) {
	if c.Type != "BPE" && !(c.Type == "" && c.Merges != nil) {
		return nil, fmt.Errorf("%w: model %q", ErrUnsupported, c.Type)
	}
	if c.Dropout != nil && *c.Dropout > 0 {
		return nil, fmt.Errorf("%w: model BPE with dropout %v", ErrUnsupported, *c.Dropout)
	}
	if c.ContinuingSubwordPrefix != nil && *c.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("%w: model BPE continuing_subword_prefix %q", ErrUnsupported, *c.ContinuingSubwordPrefix)
	}
	if c.EndOfWordSuffix != nil && *c.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("%w: model BPE end_of_word_suffix %q", ErrUnsupported, *c.EndOfWordSuffix)
	}
	if len(c.Vocab) == 0 {
		return nil, fmt.Errorf("model.vocab: empty")
	}
	m := &bpe{vocab: c.Vocab, unk: -1, fuseUnk: c.FuseUnk, byteFallback: c.ByteFallback,
		ignoreMerges: c.IgnoreMerges, cache: newCache()}
	maxID := int32(0)
	for tok, id := range c.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("model.vocab[%q]: negative id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	m.tokens = make([]string, maxID+1)
	for tok, id := range c.Vocab {
		m.tokens[id] = tok
	}
	if c.UnkToken != nil {
		id, ok := c.Vocab[*c.UnkToken]
		if !ok {
			return nil, fmt.Errorf("model.unk_token %q not in vocab", *c.UnkToken)
		}
		m.unk = id
	}
	if c.ByteFallback {
		m.initByteFallback()
	}
	pairs, err := parseMergesFast(c.Merges)
	if err != nil {
		return nil, err
	}
	if err := m.addMerges(pairs); err != nil {
		return nil, err
	}
	return m, nil
}

// Encode returns the ids of text without adding special tokens; added
// tokens written in the text (such as "<|im_end|>") become their ids, as in
// HuggingFace's encode(text, add_special_tokens=False). With specialAsText,
// special added tokens are encoded as ordinary text instead.
func (t *Tokenizer) Encode(text string, specialAsText bool) []int {
	w := t.pool.Get().(*work)
	defer t.pool.Put(w)
	ids := make([]int, 0, len(text)/4+4)
	segs := t.added.split(w.segs[:0], text, true, specialAsText)
	w.segs = segs[:0]
	for _, s := range segs {
		if s.token >= 0 {
			ids = append(ids, s.token)
			continue
		}
		ids = t.encodeText(ids, s.text, s.start, specialAsText, w)
	}
	return ids
}

// encodeText normalizes, pre-tokenizes and runs the model on text holding
// no raw added token.
func (t *Tokenizer) encodeText(ids []int, text string, start, specialAsText bool, w *work) []int {
	if t.norm != nil {
		text = t.norm.normalize(text)
	}
	if t.addedNorm != nil {
		for _, s := range t.addedNorm.split(nil, text, start, specialAsText) {
			if s.token >= 0 {
				ids = append(ids, s.token)
			} else {
				ids = t.preTokenizeAndModel(ids, s.text, s.start, w)
			}
		}
		return ids
	}
	return t.preTokenizeAndModel(ids, text, start, w)
}

func (t *Tokenizer) preTokenizeAndModel(ids []int, text string, start bool, w *work) []int {
	if t.pre == nil {
		return t.model.encode(ids, text, w)
	}
	pieces := t.pre.split(w.pieces[:0], piece{text: text, start: start})
	for _, p := range pieces {
		ids = t.model.encode(ids, p.text, w)
	}
	w.pieces = pieces[:0]
	return ids
}

// Decode returns the text of ids, special tokens included. Unknown ids are
// skipped, as HuggingFace does.
func (t *Tokenizer) Decode(ids []int) string {
	if len(ids) == 0 {
		return ""
	}
	if t.rawBytes != nil {
		buf := make([]byte, 0, len(ids)*4)
		for _, id := range ids {
			if id >= 0 && id < len(t.rawBytes) {
				buf = append(buf, t.rawBytes[id]...)
			}
		}
		return string(appendLossy(make([]byte, 0, len(buf)), buf))
	}
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if tok, ok := t.IDToToken(id); ok {
			tokens = append(tokens, tok)
		}
	}
	if t.decoder == nil {
		return strings.Join(tokens, " ")
	}
	return t.decoder.Decode(tokens)
}

// IDToToken returns the token spelled as in tokenizer.json.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if a, ok := t.addedByID[id]; ok {
		return a.Content, true
	}
	if id >= 0 && id < len(t.model.tokens) && (t.model.tokens[id] != "" || t.model.vocab[""] == int32(id)) {
		return t.model.tokens[id], true
	}
	return "", false
}

// TokenToID returns the id of a token spelled as in tokenizer.json.
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	for id, a := range t.addedByID {
		if a.Content == tok {
			return id, true
		}
	}
	id, ok := t.model.vocab[tok]
	return int(id), ok
}

// VocabSize is the size of the model's vocabulary without added tokens
// (transformers' tokenizer.vocab_size, which vLLM's random dataset uses).
func (t *Tokenizer) VocabSize() int { return len(t.model.vocab) }

// AddedToken describes an entry of added_tokens.
type AddedToken struct {
	ID      int
	Content string
	Special bool
}

// AddedTokens lists the added tokens by id.
func (t *Tokenizer) AddedTokens() []AddedToken {
	out := make([]AddedToken, 0, len(t.addedByID))
	for _, a := range t.addedByID {
		out = append(out, AddedToken{ID: a.ID, Content: a.Content, Special: a.Special})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
