package hftok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	sgtok "github.com/sugarme/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// ErrUnsupported is wrapped by the error for a tokenizer.json component
// (normalizer, pre-tokenizer, model or decoder type, or an option of one)
// this package does not implement. Such files fail to load rather than
// encode differently from HuggingFace.
var ErrUnsupported = errors.New("unsupported component")

// fileConfig is the part of tokenizer.json that encoding and decoding use.
// The post-processor only adds special tokens (BOS/EOS templates), which
// Encode never does, so it is ignored.
type fileConfig struct {
	AddedTokens  []addedToken `json:"added_tokens"`
	Normalizer   *component   `json:"normalizer"`
	PreTokenizer *component   `json:"pre_tokenizer"`
	Decoder      *component   `json:"decoder"`
	Model        modelConfig  `json:"model"`
}

type modelConfig struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	FuseUnk                 bool             `json:"fuse_unk"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int32 `json:"-"` // read by parseVocab
	Merges                  json.RawMessage  `json:"-"` // read by parseMergesFast
}

// component is any normalizer, pre-tokenizer or decoder; each type reads
// the fields it needs.
type component struct {
	Type          string      `json:"type"`
	Normalizers   []component `json:"normalizers"`
	PreTokenizers []component `json:"pretokenizers"`
	Decoders      []component `json:"decoders"`

	Pattern  *patternConfig  `json:"pattern"`  // Split, Replace
	Behavior string          `json:"behavior"` // Split
	Invert   bool            `json:"invert"`   // Split
	Content  json.RawMessage `json:"content"`  // Replace (string), Strip decoder (char)

	AddPrefixSpace *bool `json:"add_prefix_space"` // ByteLevel, Metaspace (old)
	UseRegex       *bool `json:"use_regex"`        // ByteLevel

	Replacement   string `json:"replacement"`    // Metaspace
	PrependScheme string `json:"prepend_scheme"` // Metaspace
	Split         *bool  `json:"split"`          // Metaspace

	Prepend string `json:"prepend"` // Prepend

	Start int `json:"start"` // Strip decoder
	Stop  int `json:"stop"`

	Left  bool `json:"left"` // Strip normalizer
	Right bool `json:"right"`

	IndividualDigits bool `json:"individual_digits"` // Digits
}

type patternConfig struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func (c *component) contentString() (string, error) {
	var s string
	if len(c.Content) == 0 {
		return "", nil
	}
	err := json.Unmarshal(c.Content, &s)
	return s, err
}

func buildNormalizer(c *component) (normalizer, error) {
	switch c.Type {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNorm{}, nil
	case "Prepend":
		return prependNorm{prefix: c.Prepend}, nil
	case "Strip":
		return stripNorm{left: c.Left, right: c.Right}, nil
	case "Replace":
		content, err := c.contentString()
		if err != nil || c.Pattern == nil {
			return nil, fmt.Errorf("normalizer Replace: bad pattern or content")
		}
		r, err := newReplaceNorm(c.Pattern.String, c.Pattern.Regex, content)
		if err != nil {
			return nil, fmt.Errorf("%w: normalizer Replace regex: %v", ErrUnsupported, err)
		}
		return r, nil
	case "Sequence":
		var seq sequenceNorm
		for i := range c.Normalizers {
			n, err := buildNormalizer(&c.Normalizers[i])
			if err != nil {
				return nil, err
			}
			seq = append(seq, n)
		}
		return seq, nil
	}
	return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, c.Type)
}

// buildPreTokenizers flattens Sequences into a list.
func buildPreTokenizers(c *component, out []preTokenizer) ([]preTokenizer, error) {
	switch c.Type {
	case "Sequence":
		var err error
		for i := range c.PreTokenizers {
			if out, err = buildPreTokenizers(&c.PreTokenizers[i], out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "Split":
		if c.Invert {
			return nil, fmt.Errorf("%w: pre-tokenizer Split with invert: true", ErrUnsupported)
		}
		var b splitBehavior
		switch c.Behavior {
		case "Isolated":
			b = splitIsolated
		case "Removed":
			b = splitRemoved
		default:
			return nil, fmt.Errorf("%w: pre-tokenizer Split behavior %q", ErrUnsupported, c.Behavior)
		}
		var sc splitter
		switch {
		case c.Pattern == nil:
			return nil, fmt.Errorf("pre-tokenizer Split: no pattern")
		case c.Pattern.Regex != nil:
			var err error
			if sc, err = newSplitter(*c.Pattern.Regex); err != nil {
				return nil, err
			}
		case c.Pattern.String != nil:
			sc = literalScanner(*c.Pattern.String)
		}
		return append(out, &splitPre{scanner: sc, behavior: b}), nil
	case "ByteLevel":
		p, err := newByteLevelPre(c.AddPrefixSpace != nil && *c.AddPrefixSpace, c.UseRegex == nil || *c.UseRegex)
		if err != nil {
			return nil, err
		}
		return append(out, p), nil
	case "Metaspace":
		scheme, err := parsePrependScheme(c.PrependScheme, c.AddPrefixSpace)
		if err != nil {
			return nil, err
		}
		rep := c.Replacement
		if utf8.RuneCountInString(rep) != 1 {
			return nil, fmt.Errorf("pre-tokenizer Metaspace: replacement %q is not one character", rep)
		}
		return append(out, &metaspacePre{replacement: rep, prepend: scheme, split_: c.Split == nil || *c.Split}), nil
	case "Digits":
		return append(out, digitsPre{individual: c.IndividualDigits}), nil
	}
	return nil, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, c.Type)
}

func buildDecoder(c *component) (sgtok.Decoder, error) {
	switch c.Type {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Metaspace":
		scheme, err := parsePrependScheme(c.PrependScheme, c.AddPrefixSpace)
		if err != nil {
			return nil, err
		}
		r, size := utf8.DecodeRuneInString(c.Replacement)
		if size == 0 || size != len(c.Replacement) {
			return nil, fmt.Errorf("decoder Metaspace: replacement %q is not one character", c.Replacement)
		}
		return metaspaceDecoder{replacement: r, prepend: scheme}, nil
	case "Replace":
		content, err := c.contentString()
		if err != nil || c.Pattern == nil {
			return nil, fmt.Errorf("decoder Replace: bad pattern or content")
		}
		r, err := newReplaceNorm(c.Pattern.String, c.Pattern.Regex, content)
		if err != nil {
			return nil, fmt.Errorf("%w: decoder Replace regex: %v", ErrUnsupported, err)
		}
		return replaceDecoder{r}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return newFuseDecoder(), nil
	case "Strip":
		content, err := c.contentString()
		r, size := utf8.DecodeRuneInString(content)
		if err != nil || size == 0 || size != len(content) {
			return nil, fmt.Errorf("decoder Strip: content %s is not one character", c.Content)
		}
		return stripDecoder{content: r, start: c.Start, stop: c.Stop}, nil
	case "Sequence":
		var seq sequenceDecoder
		for i := range c.Decoders {
			d, err := buildDecoder(&c.Decoders[i])
			if err != nil {
				return nil, err
			}
			seq = append(seq, d)
		}
		return seq, nil
	}
	return nil, fmt.Errorf("%w: decoder %q", ErrUnsupported, c.Type)
}

// splitMerge splits a merge written "a b".
func splitMerge(l string) ([2]string, error) {
	a, b, ok := strings.Cut(l, " ")
	if !ok || strings.Contains(b, " ") {
		return [2]string{}, fmt.Errorf("%q is not two tokens separated by one space", l)
	}
	return [2]string{a, b}, nil
}

// parseConfig reads tokenizer.json: the vocabulary and merges with the
// readers of fastjson.go, everything else with encoding/json.
func parseConfig(data []byte) (*fileConfig, error) {
	top, err := objectFields(data)
	if err != nil {
		return nil, err
	}
	var cfg fileConfig
	for _, f := range []struct {
		key string
		dst any
	}{
		{"added_tokens", &cfg.AddedTokens},
		{"normalizer", &cfg.Normalizer},
		{"pre_tokenizer", &cfg.PreTokenizer},
		{"decoder", &cfg.Decoder},
	} {
		if raw, ok := top[f.key]; ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return nil, fmt.Errorf("%s: %w", f.key, err)
			}
		}
	}
	raw, ok := top["model"]
	if !ok {
		return nil, errors.New("no model")
	}
	fields, err := objectFields(raw)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var small bytes.Buffer
	small.WriteByte('{')
	for k, v := range fields {
		if k == "vocab" || k == "merges" {
			continue
		}
		if small.Len() > 1 {
			small.WriteByte(',')
		}
		q, _ := json.Marshal(k)
		small.Write(q)
		small.WriteByte(':')
		small.Write(v)
	}
	small.WriteByte('}')
	if err := json.Unmarshal(small.Bytes(), &cfg.Model); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if v := fields["vocab"]; len(v) > 0 && v[0] == '{' { // not Unigram's list
		if cfg.Model.Vocab, err = parseVocab(v); err != nil {
			return nil, err
		}
	}
	cfg.Model.Merges = fields["merges"]
	return &cfg, nil
}
