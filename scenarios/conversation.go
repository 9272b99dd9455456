package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// ConversationDataset makes the conversations of a multi-turn benchmark
// (vLLM's benchmarks/multi_turn/benchmark_serving_multi_turn.py).
// Conversations returns n conversations (fewer only where the dataset's
// documentation says so), each with at least one turn; every turn has
// User, UserTokens (tok's count of User), MaxTokens (at least 1) and Think
// (0 for the first turn) set, and Reply when the dataset has one. The same
// seed gives the same conversations. String names the dataset and its
// parameters as slash-separated key=value pairs, usable in a sub-benchmark
// name.
//
// Conversations honours ctx as Dataset.Requests does.
type ConversationDataset interface {
	Conversations(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error)
	String() string
}

// Random streams of the conversation datasets, apart from the single-turn
// datasets' (see streamLengths).
const (
	streamConvLengths uint64 = iota + 16
	streamConvThink
	streamConvSystem
	streamConvShuffle
)

// thinkTimes sets Think on every turn but the first of each conversation,
// in order, from d (milliseconds; unset leaves them 0), drawing from the
// seed's think stream. keep reports a turn whose Think the file already
// set: it draws nonetheless, so that one file's think_ms does not shift
// the other turns' draws.
func thinkTimes(convs []servingbench.Conversation, d Distribution, seed uint64, keep func(c, t int) bool) {
	if d.IsZero() {
		return
	}
	rng := newRand(seed, streamConvThink)
	for c := range convs {
		turns := convs[c].Turns
		if len(turns) < 2 {
			continue
		}
		ms := d.Sample(rng, len(turns)-1)
		for t := 1; t < len(turns); t++ {
			if keep == nil || !keep(c, t) {
				turns[t].Think = time.Duration(ms[t-1]) * time.Millisecond
			}
		}
	}
}

// checkDist wraps d's Validate error with the field it is in; required
// fields must be set.
func checkDist(dataset, field string, d Distribution, required bool) error {
	if d.IsZero() {
		if required {
			return fmt.Errorf("scenarios: %s.%s is unset: give it a distribution (Constant, Uniform, ...)", dataset, field)
		}
		return nil
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("scenarios: %s.%s: %w", dataset, field, err)
	}
	return nil
}

// exactText returns text that tok encodes to exactly n tokens when the
// adjustment succeeds (see decodeToLen; PromptTokens-style, the caller
// counts again): a window of n consecutive token ids from a random offset,
// skipping special tokens when tok reports them, as Random with
// ExactLength makes its prompts.
func exactText(tok servingbench.Tokenizer, ids idSet, n int, rng *rand.Rand) (string, int) {
	if n <= 0 {
		return "", 0
	}
	off := rng.IntN(ids.len())
	seq := make([]int, n)
	for j := range seq {
		seq[j] = ids.at((off + j) % ids.len())
	}
	text, enc := decodeToLen(tok, seq, n, rng)
	return text, len(enc)
}

// PrepareConversations validates a conversation scenario (Conversations
// set) and makes its conversations with tok, and the arrival process of
// their starts: the ramp-up when RampEndRPS is set, else a
// servingbench.Gamma of RequestRate (conversations a second; 0 starts
// them all at once) and Burstiness seeded with Seed. The runner sends a
// conversation's first turn at its arrival and each later turn after the
// previous response and its Think.
func (s Scenario) PrepareConversations(ctx context.Context, tok servingbench.Tokenizer) ([]servingbench.Conversation, servingbench.Arrival, error) {
	if s.Conversations == nil {
		return nil, nil, fmt.Errorf("scenarios: Scenario %q has no Conversations: use Prepare", s.Name)
	}
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	convs, err := s.Conversations.Conversations(ctx, tok, s.NumPrompts, s.Seed)
	if err != nil {
		return nil, nil, err
	}
	if s.ramps() {
		return convs, s.ramp(), nil
	}
	return convs, servingbench.Gamma{Rate: s.RequestRate, Burstiness: s.Burstiness, Seed: s.Seed}, nil
}

// validateConversations reports the conversation fields' errors: Dataset
// and Conversations both set, the conversation dataset's own, a bad
// MaxActiveConversations.
func (s Scenario) validateConversations() error {
	var errs []error
	if s.Conversations != nil && s.Dataset != nil {
		errs = append(errs, fmt.Errorf("scenarios: Scenario.Dataset (%s) and Conversations (%s) are both set: give one", s.Dataset, s.Conversations))
	}
	if v, ok := s.Conversations.(interface{ Validate() error }); ok {
		errs = append(errs, v.Validate())
	}
	switch {
	case s.MaxActiveConversations < 0:
		errs = append(errs, fmt.Errorf("scenarios: Scenario.MaxActiveConversations must be >= 0, got %d", s.MaxActiveConversations))
	case s.MaxActiveConversations > 0 && s.Conversations == nil:
		errs = append(errs, fmt.Errorf("scenarios: Scenario.MaxActiveConversations (%d) needs Conversations", s.MaxActiveConversations))
	}
	return errors.Join(errs...)
}

// convScaler is a ConversationDataset whose output lengths Scale sets:
// scaledOut returns a copy asking for out tokens every turn.
type convScaler interface {
	scaledOut(out int) ConversationDataset
}

// scaleConversations applies sc's lengths to d: OutputLen makes every turn
// ask for that many tokens; InputLen is an error (a turn's prompt is the
// whole history).
func scaleConversations(d ConversationDataset, sc Scale) (ConversationDataset, []string) {
	var problems []string
	if sc.InputLen != 0 {
		problems = append(problems, fmt.Sprintf("Scale.InputLen: conversation dataset %s has no input length (a turn's prompt is the conversation's history)", d))
	}
	if sc.OutputLen != 0 {
		if s, ok := d.(convScaler); ok {
			d = s.scaledOut(sc.OutputLen)
		} else {
			problems = append(problems, fmt.Sprintf("Scale.OutputLen: conversation dataset %s has no output length", d))
		}
	}
	return d, problems
}
