package scenarios

import (
	"context"
	"fmt"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// Synthetic makes conversations of random text, every length drawn from a
// Distribution, as vLLM's multi-turn benchmark generates them from its
// generate_multi_turn.json (benchmarks/multi_turn/bench_dataset.py,
// generate_conversations):
//
//   - SystemLen, drawn once (vLLM's prompt_input.common_prefix_num_tokens):
//     the tokens of a system prompt shared by every conversation, sent as
//     Conversation.System (vLLM writes it at the start of the first user
//     message); unset means none.
//   - Turns, per conversation: the user turns, at least 1. vLLM's
//     num_turns counts messages, user and assistant (at least 2, an odd
//     count rounded up): its uniform 12..18 is about Uniform(6, 9) here.
//   - PrefixLen, per conversation (vLLM's prefix_num_tokens): tokens of
//     context of the conversation's own at the start of its first user
//     message; unset means none.
//   - FirstUserLen: the tokens of the first user message after the prefix
//     (an agent's short instruction before long tool outputs); unset means
//     UserLen's draw.
//   - UserLen, per turn (vLLM's prompt_input.num_tokens), at least 1.
//   - OutputLen, per turn (vLLM's prompt_output.num_tokens): MaxTokens, at
//     least 1.
//   - Think, per turn after the first: Turn.Think in milliseconds; unset
//     means 0.
//
// Draws, in this order from one seeded stream: SystemLen; Turns for every
// conversation; PrefixLen for every conversation; then per conversation
// UserLen for its turns (one batch), FirstUserLen, OutputLen for its turns
// (one batch). Think times come from a stream of their own.
//
// Texts are made as Random with ExactLength makes its prompts: a window of
// consecutive token ids at a random offset (special tokens skipped when the
// tokenizer reports them), decoded and adjusted until it encodes to the
// drawn length exactly; the first message is prefix and first message drawn
// as one text of both lengths. UserTokens is the measured count (equal to
// the drawn length unless ten adjustments did not reach it). vLLM takes
// its texts from a book (text_files) and starts each message with the
// conversation's number ("7 is a nice number... "); here distinct random
// offsets keep the conversations from sharing a prefix beyond the system
// prompt. Replies are empty: the runner sends the generated text back.
// Conversation i has ID "synthetic-i".
type Synthetic struct {
	Turns        Distribution
	SystemLen    Distribution
	PrefixLen    Distribution
	FirstUserLen Distribution
	UserLen      Distribution
	OutputLen    Distribution
	Think        Distribution // milliseconds
}

var _ ConversationDataset = Synthetic{}

// Validate reports a bad or missing distribution.
func (d Synthetic) Validate() error {
	for _, f := range []struct {
		name     string
		d        Distribution
		required bool
	}{
		{"Turns", d.Turns, true}, {"SystemLen", d.SystemLen, false}, {"PrefixLen", d.PrefixLen, false},
		{"FirstUserLen", d.FirstUserLen, false}, {"UserLen", d.UserLen, true}, {"OutputLen", d.OutputLen, true},
		{"Think", d.Think, false},
	} {
		if err := checkDist("Synthetic", f.name, f.d, f.required); err != nil {
			return err
		}
	}
	return nil
}

// String is "dataset=synthetic/turns=D/user=D/out=D" with "system=",
// "prefix=", "first=" and "think=" (milliseconds) when set, each D a
// Distribution's String.
func (d Synthetic) String() string {
	var b strings.Builder
	b.WriteString("dataset=synthetic/turns=" + d.Turns.String())
	for _, f := range []struct {
		key string
		d   Distribution
	}{{"system", d.SystemLen}, {"prefix", d.PrefixLen}, {"first", d.FirstUserLen}} {
		if !f.d.IsZero() {
			b.WriteString("/" + f.key + "=" + f.d.String())
		}
	}
	b.WriteString("/user=" + d.UserLen.String() + "/out=" + d.OutputLen.String())
	if !d.Think.IsZero() {
		b.WriteString("/think=" + d.Think.String())
	}
	return b.String()
}

// synthPlan is what Synthetic draws for one conversation.
type synthPlan struct {
	prefix, first int
	users, outs   []int
}

// Conversations returns n synthetic conversations.
func (d Synthetic) Conversations(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error) {
	if err := checkArgs("Synthetic", tok, n); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	rng := newRand(seed, streamConvLengths)
	systemLen := d.SystemLen.Sample(rng, 1)[0]
	turns := d.Turns.Sample(rng, n)
	prefixes := d.PrefixLen.Sample(rng, n)
	plans := make([]synthPlan, n)
	for i := range plans {
		k := max(turns[i], 1)
		p := synthPlan{prefix: prefixes[i], users: d.UserLen.Sample(rng, k)}
		p.first = p.users[0]
		if !d.FirstUserLen.IsZero() {
			p.first = d.FirstUserLen.Sample(rng, 1)[0]
		}
		p.users[0] = max(p.first, 1) + p.prefix
		for t := 1; t < k; t++ {
			p.users[t] = max(p.users[t], 1)
		}
		p.outs = d.OutputLen.Sample(rng, k)
		for t := range p.outs {
			p.outs[t] = max(p.outs[t], 1)
		}
		plans[i] = p
	}

	ids := allowedIDs(tok, true)
	system, _ := exactText(tok, ids, systemLen, newRand(seed, streamConvSystem))
	convs := make([]servingbench.Conversation, n)
	err := parallel(ctx, n, func(i int) {
		p := plans[i]
		r := newRand(seed, streamPerRequest+uint64(i))
		c := servingbench.Conversation{ID: fmt.Sprintf("synthetic-%d", i), System: system, Turns: make([]servingbench.Turn, len(p.users))}
		for t := range c.Turns {
			text, count := exactText(tok, ids, p.users[t], r)
			c.Turns[t] = servingbench.Turn{User: text, UserTokens: count, MaxTokens: p.outs[t]}
		}
		convs[i] = c
	})
	if err != nil {
		return nil, err
	}
	thinkTimes(convs, d.Think, seed, nil)
	return convs, nil
}

// scaledOut makes every turn ask for out tokens (see Scale).
func (d Synthetic) scaledOut(out int) ConversationDataset {
	d.OutputLen = Constant(out)
	return d
}
