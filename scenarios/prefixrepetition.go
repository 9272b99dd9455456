package scenarios

import (
	"context"
	"fmt"

	"github.com/servingbench/servingbench/servingbench"
)

// PrefixRepetition is vLLM's prefix_repetition dataset, made to measure
// prefix caching: NumPrefixes random prefixes of PrefixLen tokens, each
// shared by several prompts that end in their own random suffix of
// SuffixLen tokens. The zero values are vLLM's defaults: PrefixLen 256,
// SuffixLen 256, NumPrefixes 10, OutputLen 128.
//
// Prefixes and suffixes are random ids in [0, VocabSize) adjusted, as vLLM
// does, to decode to text that encodes back to exactly their length (see
// Random.ExactLength); a prompt is the decoded prefix ids followed by the
// suffix ids, and the requests are shuffled with the seed. PromptTokens is
// the measured count of the joined text, which can differ from
// PrefixLen+SuffixLen by a token or two where the two parts meet.
//
// vLLM gives each prefix n/NumPrefixes prompts, rounded down, and so may
// return fewer than n requests; here the first n%NumPrefixes prefixes get
// one prompt more, so exactly n requests come back. As in vLLM, n must be
// at least NumPrefixes.
type PrefixRepetition struct {
	PrefixLen   int // tokens; 0 means 256
	SuffixLen   int // tokens; 0 means 256
	NumPrefixes int // 0 means 10
	OutputLen   int // tokens; 0 means 128
}

var (
	_ Dataset      = PrefixRepetition{}
	_ lengthScaler = PrefixRepetition{}
)

// vLLM's defaults for the prefix_repetition dataset.
const (
	DefaultPrefixRepetitionPrefixLen   = 256
	DefaultPrefixRepetitionSuffixLen   = 256
	DefaultPrefixRepetitionNumPrefixes = 10
	DefaultPrefixRepetitionOutputLen   = 128
)

func (d PrefixRepetition) params() (prefix, suffix, num, out int) {
	return cmpOr(d.PrefixLen, DefaultPrefixRepetitionPrefixLen),
		cmpOr(d.SuffixLen, DefaultPrefixRepetitionSuffixLen),
		cmpOr(d.NumPrefixes, DefaultPrefixRepetitionNumPrefixes),
		cmpOr(d.OutputLen, DefaultPrefixRepetitionOutputLen)
}

// String is "dataset=prefix-repetition/prefix=P/suffix=S/prefixes=N/out=O".
func (d PrefixRepetition) String() string {
	p, s, num, out := d.params()
	return fmt.Sprintf("dataset=prefix-repetition/prefix=%d/suffix=%d/prefixes=%d/out=%d", p, s, num, out)
}

// Validate reports a bad field.
func (d PrefixRepetition) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"PrefixLen", d.PrefixLen}, {"SuffixLen", d.SuffixLen}, {"NumPrefixes", d.NumPrefixes}, {"OutputLen", d.OutputLen}} {
		if f.v < 0 {
			return fmt.Errorf("scenarios: PrefixRepetition.%s must be >= 0, got %d", f.name, f.v)
		}
	}
	return nil
}

// scaled sets OutputLen, and InputLen as PrefixLen plus SuffixLen in their
// present proportion (see Scale); n, when set, must be at least NumPrefixes.
func (d PrefixRepetition) scaled(in, out, n int) (Dataset, []string) {
	var problems []string
	prefix, suffix, num, _ := d.params()
	d.OutputLen = cmpOr(out, d.OutputLen)
	switch {
	case in == 1:
		problems = append(problems, "Scale.InputLen: dataset prefix-repetition needs at least 2 (a prefix and a suffix token), got 1")
	case in != 0:
		d.PrefixLen = scaleShare(prefix, prefix+suffix, in, 1, in-1)
		d.SuffixLen = in - d.PrefixLen
	}
	if n != 0 && n < num {
		problems = append(problems, fmt.Sprintf("Scale.NumPrompts: dataset prefix-repetition needs at least its %d prefixes (NumPrefixes), got %d", num, n))
	}
	return d, problems
}

// Requests returns n requests, n >= NumPrefixes (or n == 0).
func (d PrefixRepetition) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	if err := checkArgs("PrefixRepetition", tok, n); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	prefixLen, suffixLen, num, out := d.params()
	if n < num {
		return nil, fmt.Errorf("scenarios: PrefixRepetition: n (%d) must be >= NumPrefixes (%d)", n, num)
	}
	v := tok.VocabSize()
	// exactIDs draws length random ids on its own stream and adjusts them.
	exactIDs := func(stream uint64, length int) []int {
		rng := newRand(seed, stream)
		ids := make([]int, length)
		for j := range ids {
			ids[j] = rng.IntN(v)
		}
		_, ids = decodeToLen(tok, ids, length, rng)
		return ids
	}
	prefixes := make([][]int, num)
	if err := parallel(ctx, num, func(k int) { prefixes[k] = exactIDs(streamPerRequest+uint64(n+k), prefixLen) }); err != nil {
		return nil, err
	}
	// owner[i] is the prefix of request i, in vLLM's order before shuffling.
	owner := make([]int, 0, n)
	for k := range num {
		count := n / num
		if k < n%num {
			count++
		}
		for range count {
			owner = append(owner, k)
		}
	}
	reqs := make([]servingbench.Request, n)
	err := parallel(ctx, n, func(i int) {
		suffix := exactIDs(streamPerRequest+uint64(i), suffixLen)
		ids := append(append(make([]int, 0, len(prefixes[owner[i]])+len(suffix)), prefixes[owner[i]]...), suffix...)
		p := tok.Decode(ids)
		reqs[i] = servingbench.Request{Prompt: p, PromptTokens: len(tok.Encode(p)), MaxTokens: out}
	})
	if err != nil {
		return nil, err
	}
	shuffle(reqs, seed)
	return reqs, nil
}
