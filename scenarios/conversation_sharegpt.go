package scenarios

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// ShareGPTConversations uses the conversations of a ShareGPT file (the
// layout of ShareGPT_V3_unfiltered_cleaned_split.json: a JSON array of
// {"id", "conversations": [{"from", "value"}, ...]}) whole: every human
// message in order is a turn, and the recorded reply after it is the
// turn's Reply and gives its MaxTokens (the tokenizer's count of the
// reply, at least 1, as vLLM's multi-turn benchmark asks with
// --limit-max-tokens 0), or OutputLen when set. UserTokens is the
// tokenizer's count of the human message.
//
// The conversion follows vLLM's benchmarks/multi_turn/
// convert_sharegpt_to_openai.py:
//
//   - Records whose ids are "ID_N" (N a number: the split file's parts of
//     one long conversation) are joined in file order into conversation
//     ID; a part whose first message is from the same side as the
//     previous part's last loses that message. Other ids stand alone.
//   - "human" and "user" are the user; "gpt", "bing", "chatgpt", "bard"
//     and "assistant" the assistant; "system" a system message.
//   - A first message that is not the user's is dropped (a follow-up of an
//     earlier chat).
//   - A conversation whose messages then do not alternate user, assistant,
//     user, ... (a system message included) is skipped, as vLLM's
//     converter drops it; so is one with a role of no side (vLLM's
//     converter stops with an error there).
//
// A last user message with no reply is dropped (it has no output length)
// unless OutputLen is set. A conversation is skipped when it has fewer
// than MinTurns turns; MaxTurns, when set, keeps only its first MaxTurns
// turns. vLLM's --max-turns and --min-turns count messages, user and
// assistant: its --max-turns 2k is MaxTurns k here. Not reproduced:
// vLLM's content_is_valid, which without --min-content-len and
// --max-content-len keeps only messages holding a non-ASCII character,
// and its shuffle before joining the parts, which joins them out of order.
//
// The usable conversations are shuffled with the seed and the first n
// returned; when the file has fewer than n, all of them: a conversation
// is never repeated, as a repeat's turns would all be prefix-cache hits.
// Think, when set, gives every turn after the first its Think
// (milliseconds).
type ShareGPTConversations struct {
	Path      string
	OutputLen int // tokens of every turn; 0 means each reply's count
	MinTurns  int // 0 means 1
	MaxTurns  int // 0 means no cap
	Think     Distribution
}

var _ ConversationDataset = ShareGPTConversations{}

// String is "dataset=sharegpt-conversations/file=NAME" with "/out=N",
// "/min-turns=N", "/max-turns=N" and "/think=D" when set.
func (d ShareGPTConversations) String() string {
	s := "dataset=sharegpt-conversations/file=" + base(d.Path)
	for _, f := range []struct {
		key string
		v   int
	}{{"out", d.OutputLen}, {"min-turns", d.MinTurns}, {"max-turns", d.MaxTurns}} {
		if f.v != 0 {
			s += fmt.Sprintf("/%s=%d", f.key, f.v)
		}
	}
	if !d.Think.IsZero() {
		s += "/think=" + d.Think.String()
	}
	return s
}

// Validate reports a bad field.
func (d ShareGPTConversations) Validate() error {
	switch {
	case d.Path == "":
		return errors.New("scenarios: ShareGPTConversations.Path is empty")
	case d.OutputLen < 0:
		return fmt.Errorf("scenarios: ShareGPTConversations.OutputLen must be >= 0, got %d", d.OutputLen)
	case d.MinTurns < 0:
		return fmt.Errorf("scenarios: ShareGPTConversations.MinTurns must be >= 0, got %d", d.MinTurns)
	case d.MaxTurns < 0:
		return fmt.Errorf("scenarios: ShareGPTConversations.MaxTurns must be >= 0, got %d", d.MaxTurns)
	case d.MaxTurns != 0 && d.MinTurns > d.MaxTurns:
		return fmt.Errorf("scenarios: ShareGPTConversations.MinTurns (%d) is above MaxTurns (%d)", d.MinTurns, d.MaxTurns)
	}
	return checkDist("ShareGPTConversations", "Think", d.Think, false)
}

func (d ShareGPTConversations) scaledOut(out int) ConversationDataset {
	d.OutputLen = out
	return d
}

// Conversations reads the file and returns up to n conversations.
func (d ShareGPTConversations) Conversations(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error) {
	parts, err := readDataset(ctx, "ShareGPTConversations", d, d.Path, tok, n, func(r io.Reader) ([]shareGPTConv, error) {
		return readShareGPTConversations(bufio.NewReaderSize(r, 1<<20), d.Path)
	})
	if err != nil {
		return nil, err
	}
	var convs []servingbench.Conversation
	skipped := map[string]int{}
	for _, p := range parts {
		c, why := d.convert(p)
		if why != "" {
			skipped[why]++
			continue
		}
		convs = append(convs, c)
	}
	if len(convs) == 0 {
		return nil, &FileError{Path: d.Path, Err: fmt.Errorf("%w: none of %d conversations is usable (%s)", ErrEmpty, len(parts), skipReasons(skipped))}
	}
	return finishConversations(ctx, tok, convs, n, seed, true, d.Think, d.OutputLen, nil)
}

// skipReasons lists the counts of skipped conversations by reason, in a
// fixed order.
func skipReasons(skipped map[string]int) string {
	var parts []string
	for _, why := range []string{skipRole, skipAlternation, skipNoTurn, skipMinTurns} {
		if skipped[why] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", skipped[why], why))
		}
	}
	return strings.Join(parts, ", ")
}

// Why ShareGPTConversations skips a conversation.
const (
	skipRole        = "with a role of no side"
	skipAlternation = "not alternating user and assistant"
	skipNoTurn      = "with no answered user message"
	skipMinTurns    = "under MinTurns"
)

// finishConversations shuffles convs with the seed (when shuffled is
// set), keeps the first n,
// fills UserTokens and, from the replies, MaxTokens (outputLen when set;
// a turn whose MaxTokens is already set keeps it), then sets the think
// times (keep, when set, says which turns have theirs).
func finishConversations(ctx context.Context, tok servingbench.Tokenizer, convs []servingbench.Conversation, n int, seed uint64,
	shuffled bool, think Distribution, outputLen int, keep func(c, t int) bool) ([]servingbench.Conversation, error) {
	order := make([]int, len(convs))
	for i := range order {
		order[i] = i
	}
	if shuffled {
		rng := newRand(seed, streamConvShuffle)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	order = order[:min(n, len(order))]
	out := make([]servingbench.Conversation, len(order))
	err := parallel(ctx, len(order), func(i int) {
		c := convs[order[i]]
		c.Turns = append([]servingbench.Turn(nil), c.Turns...)
		for t := range c.Turns {
			tr := &c.Turns[t]
			tr.UserTokens = len(tok.Encode(tr.User))
			switch {
			case outputLen != 0:
				tr.MaxTokens = outputLen
			case tr.MaxTokens == 0:
				tr.MaxTokens = max(1, len(tok.Encode(tr.Reply)))
			}
		}
		out[i] = c
	})
	if err != nil {
		return nil, err
	}
	if keep != nil {
		k := keep
		keep = func(c, t int) bool { return k(order[c], t) }
	}
	thinkTimes(out, think, seed, keep)
	return out, nil
}

// shareGPTConv is a conversation of a ShareGPT file, its parts joined.
type shareGPTConv struct {
	id   string
	msgs []shareGPTMsg
}

type shareGPTMsg struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// role maps ShareGPT's "from" to a side, "" for none (vLLM's converter).
func role(from string) string {
	switch from {
	case "human", "user":
		return "user"
	case "gpt", "bing", "chatgpt", "bard", "assistant":
		return "assistant"
	case "system":
		return "system"
	}
	return ""
}

// convert makes p a conversation, or says why it is skipped.
func (d ShareGPTConversations) convert(p shareGPTConv) (servingbench.Conversation, string) {
	msgs := p.msgs
	for _, m := range msgs {
		if role(m.From) == "" {
			return servingbench.Conversation{}, skipRole
		}
	}
	if len(msgs) > 0 && role(msgs[0].From) != "user" {
		msgs = msgs[1:]
	}
	c := servingbench.Conversation{ID: p.id}
	for i, m := range msgs {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if role(m.From) != want {
			return servingbench.Conversation{}, skipAlternation
		}
		if want == "user" {
			c.Turns = append(c.Turns, servingbench.Turn{User: m.Value})
		} else {
			c.Turns[len(c.Turns)-1].Reply = m.Value
		}
	}
	if len(msgs)%2 == 1 && d.OutputLen == 0 {
		c.Turns = c.Turns[:len(c.Turns)-1]
	}
	if len(c.Turns) == 0 {
		return servingbench.Conversation{}, skipNoTurn
	}
	if len(c.Turns) < d.MinTurns {
		return servingbench.Conversation{}, skipMinTurns
	}
	if d.MaxTurns != 0 && len(c.Turns) > d.MaxTurns {
		c.Turns = c.Turns[:d.MaxTurns]
	}
	return c, ""
}

// partID returns the conversation a record's id belongs to: ID for
// "ID_N" with N a number, else the id.
func partID(id string) string {
	i := strings.LastIndexByte(id, '_')
	if i <= 0 {
		return id
	}
	if _, err := strconv.ParseUint(id[i+1:], 10, 32); err != nil {
		return id
	}
	return id[:i]
}

// readShareGPTConversations decodes the array one record at a time and
// joins the parts of each conversation (vLLM's converter).
func readShareGPTConversations(r io.Reader, path string) ([]shareGPTConv, error) {
	dec, err := openJSONArray(r, path)
	if err != nil {
		return nil, err
	}
	var convs []shareGPTConv
	index := map[string]int{}
	rec := 0
	for dec.More() {
		rec++
		var v struct {
			ID            string        `json:"id"`
			Conversations []shareGPTMsg `json:"conversations"`
		}
		if err := dec.Decode(&v); err != nil {
			return nil, &FileError{Path: path, Unit: "record", Pos: rec, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
		}
		id := partID(v.ID)
		if v.ID == "" {
			id = fmt.Sprintf("record-%d", rec)
		}
		i, seen := index[id]
		if !seen {
			index[id] = len(convs)
			convs = append(convs, shareGPTConv{id: id, msgs: v.Conversations})
			continue
		}
		prev, next := convs[i].msgs, v.Conversations
		if len(prev) > 0 && len(next) > 0 && prev[len(prev)-1].From == next[0].From {
			next = next[1:]
		}
		convs[i].msgs = append(prev, next...)
	}
	if _, err := dec.Token(); err != nil {
		return nil, &FileError{Path: path, Unit: "record", Pos: rec + 1, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
	}
	if len(convs) == 0 {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: the array holds no records", ErrEmpty)}
	}
	return convs, nil
}
