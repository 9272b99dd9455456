// Package hftok encodes and decodes text exactly as a HuggingFace
// tokenizer.json does (HuggingFace tokenizers' encode(text,
// add_special_tokens=False) and decode(ids, skip_special_tokens=False)),
// for byte-level BPE (GPT-2, Llama 3, Qwen2/2.5/3, DeepSeek) and
// SentencePiece-style BPE with byte fallback (Llama 2, Mistral).
//
// It builds on github.com/sugarme/tokenizer v0.3.0 where that is right
// (the ByteLevel byte/character mapping, the Fuse decoder, the Decoder
// interface) and replaces what is wrong there:
//
//   - the Split pre-tokenizer's regex: Go's RE2 rejects the lookahead in
//     `\s+(?!\S)`. A pattern is cut into its top-level alternatives, tried in
//     order at each position as a backtracking engine does; the lookahead
//     one and the other alternatives of the GPT-2, cl100k, Llama 3 and Qwen
//     patterns are hand-written matchers (a whitespace run followed by text
//     leaves its last character to the next piece; \s is Unicode
//     White_Space), any other alternative goes through regexp with
//     Oniguruma's Unicode \s, \d, \w (so GPT-4o and DeepSeek-V3 patterns
//     work too); other lookarounds, anchors, nested classes and possessive
//     quantifiers are unsupported;
//   - BPE merging: lowest rank first, ties to the leftmost pair, with a heap
//     over linked symbols (linear-logarithmic on huge words) and a bounded,
//     sharded cache;
//   - added tokens: matched leftmost-longest on the raw text with their JSON
//     ids, lstrip/rstrip/single_word honoured, normalized ones matched after
//     normalization;
//   - normalizers (NFC/NFD/NFKC/NFKD via golang.org/x/text, Prepend, Replace
//     in one pass, Lowercase, Strip), byte_fallback, unk/fuse_unk,
//     ignore_merges, Metaspace (replaces only U+0020, prepend_scheme,
//     split), decoders ByteLevel (invalid UTF-8 replaced per maximal
//     subpart, like Rust and Python), Metaspace, Replace, ByteFallback,
//     Fuse, Strip, Sequence.
//
// Anything else (WordPiece, Unigram, Precompiled normalizers, BPE dropout,
// Split patterns RE2 cannot compile...) fails to load with an error
// wrapping ErrUnsupported, naming the component: never a silent mismatch.
// The post-processor is ignored: Encode adds no special tokens.
//
// A Tokenizer is safe for concurrent use.
package hftok
