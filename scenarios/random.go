package scenarios

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// Random is vLLM's random dataset: synthetic prompts made of windows of
// consecutive token ids. The zero value is vLLM's default (input 1024
// tokens, output 128, range ratio 0, no prefix).
//
// For request i, the input length L_i and output length O_i are drawn
// uniformly from the integers of [InputLen(1-r), InputLen(1+r)] and
// [OutputLen(1-r), OutputLen(1+r)] (r = RangeRatio), and an offset o_i from
// [0, V) where V is the tokenizer's VocabSize. The prompt is the decoded
// text of PrefixLen random ids shared by every request followed by the ids
// (o_i + i + j) mod V for j < L_i. With ExactLength unset (vLLM v0.9.1)
// the bounds are truncated to integers and the decoded text is sent as is:
// re-encoding it rarely gives PrefixLen+L_i tokens, and PromptTokens holds
// the measured count. With ExactLength set (newer vLLM, "vllm bench serve")
// the low bound is floored, the high bound ceiled (vLLM first subtracts the
// special tokens its encoding adds: none here), the output length is at
// least 1, ids of special tokens are skipped when the tokenizer reports them
// (a SpecialIDs() []int method), and the text is re-encoded up to ten times,
// truncated when too long and padded with random ids when too short, until
// it encodes to exactly PrefixLen+L_i tokens; PromptTokens is still the
// measured count (the rare leftover mismatch is kept, as vLLM keeps it).
//
// The random draws use math/rand/v2's PCG, not numpy's generator: the same
// Seed gives the same prompts here, but not vLLM's prompts for that seed.
type Random struct {
	InputLen    int     // tokens; 0 means 1024
	OutputLen   int     // tokens; 0 means 128
	RangeRatio  float64 // in [0, 1)
	PrefixLen   int     // shared prefix tokens, added to each input length
	ExactLength bool
}

var (
	_ Dataset      = Random{}
	_ lengthScaler = Random{}
)

// vLLM's defaults for the random dataset.
const (
	DefaultRandomInputLen  = 1024
	DefaultRandomOutputLen = 128
)

func (d Random) inputLen() int  { return cmpOr(d.InputLen, DefaultRandomInputLen) }
func (d Random) outputLen() int { return cmpOr(d.OutputLen, DefaultRandomOutputLen) }

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Validate reports a bad field.
func (d Random) Validate() error {
	switch {
	case d.InputLen < 0:
		return fmt.Errorf("scenarios: Random.InputLen must be >= 0, got %d", d.InputLen)
	case d.OutputLen < 0:
		return fmt.Errorf("scenarios: Random.OutputLen must be >= 0, got %d", d.OutputLen)
	case !(d.RangeRatio >= 0 && d.RangeRatio < 1):
		return fmt.Errorf("scenarios: Random.RangeRatio must be in [0, 1), got %v", d.RangeRatio)
	case d.PrefixLen < 0:
		return fmt.Errorf("scenarios: Random.PrefixLen must be >= 0, got %d", d.PrefixLen)
	}
	return nil
}

// String is "dataset=random/in=L/out=O" followed by the range ratio, prefix
// length and exact-length flag when set.
func (d Random) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset=random/in=%d/out=%d", d.inputLen(), d.outputLen())
	if d.RangeRatio != 0 {
		b.WriteString("/range=" + strconv.FormatFloat(d.RangeRatio, 'g', -1, 64))
	}
	if d.PrefixLen != 0 {
		fmt.Fprintf(&b, "/prefix=%d", d.PrefixLen)
	}
	if d.ExactLength {
		b.WriteString("/exact=true")
	}
	return b.String()
}

// scaled sets InputLen and OutputLen (see Scale).
func (d Random) scaled(in, out, _ int) (Dataset, []string) {
	d.InputLen, d.OutputLen = cmpOr(in, d.InputLen), cmpOr(out, d.OutputLen)
	return d, nil
}

// bounds returns the inclusive range of lengths around l.
func (d Random) bounds(l int, minOne bool) (lo, hi int) {
	r := d.RangeRatio
	if d.ExactLength {
		lo, hi = int(math.Floor(float64(l)*(1-r))), int(math.Ceil(float64(l)*(1+r)))
		if minOne {
			lo, hi = max(lo, 1), max(hi, 1)
		}
		return lo, hi
	}
	return int(float64(l) * (1 - r)), int(float64(l) * (1 + r))
}

// Requests returns n random prompts. Decoding and re-encoding run on up to
// GOMAXPROCS goroutines.
func (d Random) Requests(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Request, error) {
	if err := checkArgs("Random", tok, n); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	inLo, inHi := d.bounds(d.inputLen(), false)
	outLo, outHi := d.bounds(d.outputLen(), true)
	if d.PrefixLen+inLo < 1 {
		return nil, fmt.Errorf("scenarios: Random: shortest prompt has %d tokens (PrefixLen %d + input low bound %d); raise InputLen or PrefixLen", d.PrefixLen+inLo, d.PrefixLen, inLo)
	}
	ids := allowedIDs(tok, d.ExactLength)
	rng := newRand(seed, streamLengths)
	prefix := make([]int, d.PrefixLen)
	for j := range prefix {
		prefix[j] = ids.at(rng.IntN(ids.len()))
	}
	inLens, outLens, offsets := make([]int, n), make([]int, n), make([]int, n)
	for i := range n {
		inLens[i] = inLo + rng.IntN(inHi-inLo+1)
	}
	for i := range n {
		outLens[i] = outLo + rng.IntN(outHi-outLo+1)
	}
	for i := range n {
		offsets[i] = rng.IntN(tok.VocabSize())
	}

	reqs := make([]servingbench.Request, n)
	err := parallel(ctx, n, func(i int) {
		seq := make([]int, 0, d.PrefixLen+inLens[i])
		seq = append(seq, prefix...)
		for j := range inLens[i] {
			seq = append(seq, ids.at((offsets[i]+i+j)%ids.len()))
		}
		var prompt string
		var count int
		if d.ExactLength {
			var ids []int
			prompt, ids = decodeToLen(tok, seq, len(seq), newRand(seed, streamPerRequest+uint64(i)))
			count = len(ids)
		} else {
			prompt = tok.Decode(seq)
			count = len(tok.Encode(prompt))
		}
		reqs[i] = servingbench.Request{Prompt: prompt, PromptTokens: count, MaxTokens: outLens[i]}
	})
	if err != nil {
		return nil, err
	}
	return reqs, nil
}

// maxRetry is vLLM's number of adjustments in gen_prompt_decode_to_target_len.
const maxRetry = 10

// decodeToLen decodes seq and adjusts it until the text encodes to target
// tokens: truncating when too long, appending random ids in [0, V) when too
// short, at most maxRetry times. It returns the text and its encoding.
func decodeToLen(tok servingbench.Tokenizer, seq []int, target int, rng *rand.Rand) (string, []int) {
	v := tok.VocabSize()
	for try := 0; ; try++ {
		prompt := tok.Decode(seq)
		seq = tok.Encode(prompt)
		if try == maxRetry || len(seq) == target {
			return prompt, seq
		}
		if len(seq) > target {
			seq = seq[:target]
			continue
		}
		for len(seq) < target {
			seq = append(seq, rng.IntN(v))
		}
	}
}

// idSet is the set of ids random prompts draw from: [0, V), or that range
// without the tokenizer's special ids.
type idSet struct {
	n       int
	allowed []int // nil: every id in [0, n)
}

func (s idSet) len() int { return s.n }

func (s idSet) at(k int) int {
	if s.allowed == nil {
		return k
	}
	return s.allowed[k]
}

// specialIDs is implemented by tokenizers that know their special tokens.
type specialIDs interface{ SpecialIDs() []int }

func allowedIDs(tok servingbench.Tokenizer, skipSpecial bool) idSet {
	v := tok.VocabSize()
	sp, ok := tok.(specialIDs)
	if !skipSpecial || !ok {
		return idSet{n: v}
	}
	special := slices.Clone(sp.SpecialIDs())
	slices.Sort(special)
	allowed := make([]int, 0, v)
	for id := range v {
		if _, found := slices.BinarySearch(special, id); !found {
			allowed = append(allowed, id)
		}
	}
	if len(allowed) == 0 {
		return idSet{n: v}
	}
	return idSet{n: len(allowed), allowed: allowed}
}
