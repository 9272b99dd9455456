package hftok

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	sgtok "github.com/sugarme/tokenizer"
	sgdecoder "github.com/sugarme/tokenizer/decoder"
)

// Decoders implement sugarme's tokenizer.Decoder interface. sugarme's Fuse
// is used as is; ByteFallback (panics on a malformed <0x..> token) and
// Strip (panics on a token shorter than its cut) are replaced.

// chainDecode is Decode for a decoder given only its DecodeChain.
func chainDecode(d sgtok.Decoder, tokens []string) string {
	return strings.Join(d.DecodeChain(tokens), "")
}

// byteLevelDecoder turns byte-level tokens back into bytes, and the bytes
// into text with invalid UTF-8 replaced per maximal subpart.
type byteLevelDecoder struct{}

func (d byteLevelDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (byteLevelDecoder) DecodeChain(tokens []string) []string {
	var raw []byte
	for _, t := range tokens {
		u, _ := byteLevel.unmap(t)
		raw = append(raw, u...)
	}
	return []string{string(appendLossy(nil, raw))}
}

// metaspaceDecoder turns the replacement character back into spaces; in
// the first token it is dropped altogether unless prepend_scheme is never
// (HuggingFace drops every one there, not just the leading one).
type metaspaceDecoder struct {
	replacement rune
	prepend     prependScheme
}

func (d metaspaceDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (d metaspaceDecoder) DecodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		var b strings.Builder
		for _, r := range t {
			switch {
			case r != d.replacement:
				b.WriteRune(r)
			case i == 0 && d.prepend != prependNever:
			default:
				b.WriteByte(' ')
			}
		}
		out[i] = b.String()
	}
	return out
}

// replaceDecoder replaces a pattern in each token.
type replaceDecoder struct{ replaceNorm }

func (d replaceDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (d replaceDecoder) DecodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = d.normalize(t)
	}
	return out
}

func newReplaceNorm(literal, regex *string, content string) (replaceNorm, error) {
	if regex != nil {
		re, err := regexp.Compile(*regex)
		if err != nil {
			return replaceNorm{}, err
		}
		return replaceNorm{re: re, content: content}, nil
	}
	old := ""
	if literal != nil {
		old = *literal
	}
	return replaceNorm{old: old, content: content}, nil
}

// byteFallbackDecoder turns runs of <0xXX> tokens into the text they spell,
// or one U+FFFD per byte when the run is not valid UTF-8.
type byteFallbackDecoder struct{}

func (d byteFallbackDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (byteFallbackDecoder) DecodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if b, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				pending = append(pending, byte(b))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// stripDecoder removes up to start leading and stop trailing occurrences
// of content from each token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (d stripDecoder) DecodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		for n := 0; n < d.start; n++ {
			r, size := utf8.DecodeRuneInString(t)
			if size == 0 || r != d.content {
				break
			}
			t = t[size:]
		}
		for n := 0; n < d.stop; n++ {
			r, size := utf8.DecodeLastRuneInString(t)
			if size == 0 || r != d.content {
				break
			}
			t = t[:len(t)-size]
		}
		out[i] = t
	}
	return out
}

// sequenceDecoder chains decoders.
type sequenceDecoder []sgtok.Decoder

func (d sequenceDecoder) Decode(tokens []string) string { return chainDecode(d, tokens) }

func (d sequenceDecoder) DecodeChain(tokens []string) []string {
	for _, dec := range d {
		tokens = dec.DecodeChain(tokens)
	}
	return tokens
}

func newFuseDecoder() sgtok.Decoder { return sgdecoder.NewFuse() }
