package hftok

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// TestByteLevelMap checks sugarme's mapping against GPT-2's
// bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
// others map to 256, 257, ... in byte order.
func TestByteLevelMap(t *testing.T) {
	next := rune(256)
	for b := range 256 {
		want := rune(b)
		if !(b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF) {
			want = next
			next++
		}
		assert.Equal(t, string(want), byteLevel.toChar[b], "toChar[%#x]", b)
		assert.Equal(t, byte(b), byteLevel.toByte[want], "toByte[%q]", want)
	}
}

// TestAppendLossy: expected values are Python's bytes.decode(errors="replace").
func TestAppendLossy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\xe2\x82", "\uFFFD"},
		{"\x80\x80", "\uFFFD\uFFFD"},
		{"\xf0\x9f\x98a", "\uFFFDa"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"a\xe2\x82\xacb", "a€b"},
		{"\xe0\x80\xaf", "\uFFFD\uFFFD\uFFFD"},
		{"\xf0\x9f\x98\x80\x80", "😀\uFFFD"},
		{"\xe2\x82\xe2\x82\xac", "\uFFFD€"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(appendLossy(nil, []byte(tt.in))), "appendLossy(%q)", tt.in)
	}
}

var qwen3Once = sync.OnceValues(func() (*Tokenizer, error) {
	return LoadFile(testdata + "/qwen3/tokenizer.json")
})

func qwen3(t testing.TB) *Tokenizer {
	tok, err := qwen3Once()
	require.NoError(t, err)
	return tok
}

// TestQwen3Specifics: ids checked with @huggingface/tokenizers.
func TestQwen3Specifics(t *testing.T) {
	tok := qwen3(t)
	tests := []struct {
		in   string
		want []int
	}{
		{strings.Repeat(" ", 10), []int{1843}},  // equal-rank merges, leftmost first
		{strings.Repeat("-", 10), []int{15340}}, //
		{"a  \nb", []int{64, 2303, 65}},         // \s*[\r\n]+
		{"x'St", []int{87, 13272, 83}},          // (?i:'s)
		{"été 😀", []int{38783, 90316}},          // NFC, 4-byte UTF-8
		{"<|im_end|><|endoftext|>", []int{151645, 151643}},
		{"<think></think>", []int{151667, 151668}}, // non-special added tokens
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tok.Encode(tt.in, false), "Encode(%q)", tt.in)
	}
	assert.Equal(t, "", tok.Decode(nil))
	assert.Equal(t, 151643, tok.VocabSize())
}

func FuzzQwen3RoundTrip(f *testing.F) {
	for _, s := range []string{"Hello, world!", "  x \r\n", "<|im_start|>a<|im_end|>", "e\u0301", "日本語 😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := qwen3(t)
		ids := tok.Encode(s, false)
		if !utf8.ValidString(s) {
			// Not text HuggingFace could be given; it must still encode
			// without panicking and decode to valid UTF-8.
			if got := tok.Decode(ids); !utf8.ValidString(got) {
				t.Fatalf("Decode(Encode(%q)) = %q, not valid UTF-8", s, got)
			}
			return
		}
		if got, want := tok.Decode(ids), norm.NFC.String(s); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q (ids %v)", s, got, want, ids)
		}
	})
}

// tinyTokenizer builds a tokenizer.json with vocabulary <unk>, the 256 byte
// tokens <0x00>..<0xFF>, then extra (ids from 257), and the given parts.
func tinyTokenizer(t *testing.T, extra []string, merges []string, added, pre, dec string) *Tokenizer {
	t.Helper()
	vocab := map[string]int{"<unk>": 0}
	for b := range 256 {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 1 + b
	}
	for i, tok := range extra {
		vocab[tok] = 257 + i
	}
	v, _ := json.Marshal(vocab)
	m, _ := json.Marshal(merges)
	body := fmt.Sprintf(`{"added_tokens":%s,"normalizer":null,"pre_tokenizer":%s,"decoder":%s,
		"model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":true,"vocab":%s,"merges":%s}}`,
		added, pre, dec, v, m)
	tok, err := Parse([]byte(body))
	require.NoError(t, err)
	return tok
}

// TestMetaspace: split:false cases checked with @huggingface/tokenizers
// (which ignores split); split:true follows HuggingFace's Rust Metaspace
// (a piece starts at each replacement character).
func TestMetaspace(t *testing.T) {
	extra := []string{"▁", "a", "b", "c", "▁a", "ab", "▁ab", "▁▁", "<s>"}
	merges := []string{"▁ a", "a b", "▁a b", "▁ ▁"}
	added := `[{"id":265,"content":"<s>","special":true}]`
	tests := []struct {
		scheme  string
		split   bool
		in      string
		want    []int
		decoded string
	}{
		{"always", false, "ab  c", []int{263, 264, 260}, "ab  c"},
		{"always", true, "ab  c", []int{263, 257, 257, 260}, "ab  c"},
		{"always", false, "<s>ab ab", []int{265, 263, 263}, "<s> ab ab"},
		{"first", false, "<s>ab ab", []int{265, 262, 263}, "<s>ab ab"},
		{"first", true, "ab ab", []int{263, 263}, "ab ab"},
		{"first", false, " <s> a", []int{257, 265, 261}, "<s> a"},
		{"never", false, "ab ab", []int{262, 263}, "ab ab"},
		{"never", true, "a\tb\nc", []int{258, 10, 259, 11, 260}, "a\tb\nc"},
		{"always", false, "é", []int{257, 196, 170}, "é"},
		{"never", false, "abc ", []int{262, 260, 257}, "abc "},
		{"always", true, "", []int{}, ""},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("scheme=%s/split=%v/%q", tt.scheme, tt.split, tt.in)
		t.Run(name, func(t *testing.T) {
			comp := fmt.Sprintf(`{"type":"Metaspace","replacement":"▁","prepend_scheme":%q,"split":%v}`, tt.scheme, tt.split)
			dec := fmt.Sprintf(`{"type":"Sequence","decoders":[{"type":"ByteFallback"},%s]}`, comp)
			tok := tinyTokenizer(t, extra, merges, added, comp, dec)
			ids := tok.Encode(tt.in, false)
			assert.Equal(t, tt.want, ids, "Encode(%q)", tt.in)
			assert.Equal(t, tt.decoded, tok.Decode(ids), "Decode(%v)", ids)
		})
	}
}

// TestAddedTokenOptions follows HuggingFace's AddedVocabulary rules.
func TestAddedTokenOptions(t *testing.T) {
	extra := []string{"a", "b", " ", "[M]", "[W]"}
	added := `[{"id":260,"content":"[M]","lstrip":true,"rstrip":true,"special":true},
		{"id":261,"content":"[W]","single_word":true,"special":false}]`
	tok := tinyTokenizer(t, extra, nil, added, "null", "null")
	tests := []struct {
		in   string
		want []int
	}{
		{"a  [M]  b", []int{257, 260, 258}},         // lstrip, rstrip eat the spaces
		{"a [W] b", []int{257, 259, 261, 259, 258}}, // a whole word
		{"a[W]b", []int{257, 92, 88, 94, 258}},      // inside a word: plain text (byte fallback)
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tok.Encode(tt.in, false), "Encode(%q)", tt.in)
	}
	assert.Equal(t, []int{92, 78, 94}, tok.Encode("[M]", true), "Encode([M], specialAsText)")
}

func TestUnsupportedComponents(t *testing.T) {
	tests := []struct{ name, json string }{
		{"model", `{"model":{"type":"Unigram","vocab":[]}}`},
		{"normalizer", `{"normalizer":{"type":"Precompiled"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`},
		{"decoder", `{"decoder":{"type":"WordPiece"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`},
		{"split behavior", `{"pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Contiguous"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`},
		{"prefix", `{"model":{"type":"BPE","continuing_subword_prefix":"##","vocab":{"a":0},"merges":[]}}`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.json))
		require.ErrorIs(t, err, ErrUnsupported, "Parse(%s)", tt.name)
		assert.Contains(t, err.Error(), "unsupported component")
	}
	_, err := Parse([]byte(`{"model":`))
	require.Error(t, err)
}
