package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// CustomConversations reads conversations from a file in the format vLLM's
// multi-turn benchmark reads (benchmarks/multi_turn/, the output of
// convert_sharegpt_to_openai.py: {"id", "messages": [{"role", "content"},
// ...]}), either one conversation a line (JSONL; blank lines skipped) or
// vLLM's file as is, a JSON array of them:
//
//	{"id": "c1", "messages": [
//	  {"role": "system", "content": "You are terse."},
//	  {"role": "user", "content": "Hi", "max_tokens": 32},
//	  {"role": "assistant", "content": "Hello."},
//	  {"role": "user", "content": "A joke?", "think_ms": 1500}]}
//
// "id" (a string) names the conversation, "line-N" or "record-N" when
// absent; ids must be unique. "messages" holds an optional "system"
// message first (Conversation.System), then "user" and "assistant"
// messages alternating, a user message first. Each user message is a turn;
// the assistant message after it, when present, is its Reply. A user
// message may carry, beyond vLLM's fields, "max_tokens" (the output tokens
// asked for, at least 1) and "think_ms" (Turn.Think in milliseconds, not
// on the first turn, which the arrival process starts). A turn asks for
// OutputLen tokens when OutputLen is set; else for its "max_tokens"; else
// for its reply's token count (at least 1, as vLLM's --limit-max-tokens 0
// does); a turn with none of the three is an error. Any other field is an
// error, so a misspelt one does not go unnoticed.
//
// Errors name the file, the line (JSONL) or record (array) and, within
// it, the message and field. The conversations are used in file order,
// the first n (all of them when the file has fewer: a conversation is
// never repeated). Think sets the turns' Think where the file has no
// "think_ms".
type CustomConversations struct {
	Path      string
	OutputLen int // tokens of every turn; 0 means the file's
	Think     Distribution
}

var _ ConversationDataset = CustomConversations{}

// String is "dataset=custom-conversations/file=NAME" with "/out=N" and
// "/think=D" when set.
func (d CustomConversations) String() string {
	s := "dataset=custom-conversations/file=" + base(d.Path)
	if d.OutputLen != 0 {
		s += fmt.Sprintf("/out=%d", d.OutputLen)
	}
	if !d.Think.IsZero() {
		s += "/think=" + d.Think.String()
	}
	return s
}

// Validate reports a bad field.
func (d CustomConversations) Validate() error {
	if d.Path == "" {
		return errors.New("scenarios: CustomConversations.Path is empty")
	}
	if d.OutputLen < 0 {
		return fmt.Errorf("scenarios: CustomConversations.OutputLen must be >= 0, got %d", d.OutputLen)
	}
	return checkDist("CustomConversations", "Think", d.Think, false)
}

func (d CustomConversations) scaledOut(out int) ConversationDataset {
	d.OutputLen = out
	return d
}

// Conversations reads the file and returns its first n conversations.
func (d CustomConversations) Conversations(ctx context.Context, tok servingbench.Tokenizer, n int, seed uint64) ([]servingbench.Conversation, error) {
	convs, err := readDataset(ctx, "CustomConversations", d, d.Path, tok, n, func(r io.Reader) ([]customConv, error) {
		return readCustomConversations(r, d.Path, d.OutputLen != 0)
	})
	if err != nil {
		return nil, err
	}
	plain := make([]servingbench.Conversation, len(convs))
	for i, c := range convs {
		plain[i] = c.conv
	}
	keep := func(c, t int) bool { return convs[c].thinkSet[t] }
	return finishConversations(ctx, tok, plain, n, seed, false, d.Think, d.OutputLen, keep)
}

// customConv is a conversation of the file and which turns set think_ms.
type customConv struct {
	conv     servingbench.Conversation
	thinkSet []bool
}

// customRecord is one conversation of the file.
type customRecord struct {
	ID       *string         `json:"id"`
	Messages []customMessage `json:"messages"`
}

type customMessage struct {
	Role      *string  `json:"role"`
	Content   *string  `json:"content"`
	MaxTokens *int     `json:"max_tokens"`
	ThinkMS   *float64 `json:"think_ms"`
}

// readCustomConversations reads a JSON array or JSON lines; haveOutputLen
// says whether turns need their own output length.
func readCustomConversations(r io.Reader, path string, haveOutputLen bool) ([]customConv, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var convs []customConv
	ids := map[string]int{}
	add := func(unit string, pos int, raw []byte, dec *json.Decoder) error {
		var rec customRecord
		if dec == nil {
			dec = json.NewDecoder(bytes.NewReader(raw))
		}
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return &FileError{Path: path, Unit: unit, Pos: pos, Err: err}
		}
		c, err := rec.conversation(fmt.Sprintf("%s-%d", unit, pos), haveOutputLen)
		if err == nil {
			if first, dup := ids[c.conv.ID]; dup {
				err = fmt.Errorf(`"id" %q is also the id of %s %d`, c.conv.ID, unit, first)
			}
		}
		if err != nil {
			return &FileError{Path: path, Unit: unit, Pos: pos, Err: err}
		}
		ids[c.conv.ID] = pos
		convs = append(convs, c)
		return nil
	}
	if first, err := firstByte(br); err == nil && first == '[' {
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return nil, &FileError{Path: path, Err: err}
		}
		rec := 0
		for dec.More() {
			rec++
			if err := add("record", rec, nil, dec); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, &FileError{Path: path, Unit: "record", Pos: rec + 1, Err: fmt.Errorf("byte %d: %w", dec.InputOffset(), err)}
		}
	} else {
		for lineNo := 1; ; lineNo++ {
			line, err := br.ReadBytes('\n')
			if err != nil && err != io.EOF {
				return nil, &FileError{Path: path, Unit: "line", Pos: lineNo, Err: err}
			}
			if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
				if err := add("line", lineNo, trimmed, nil); err != nil {
					return nil, err
				}
			}
			if err == io.EOF {
				break
			}
		}
	}
	if len(convs) == 0 {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: no conversations", ErrEmpty)}
	}
	return convs, nil
}

// firstByte returns the first byte of br that is not JSON white space,
// reading nothing (so that line numbers still count every line).
func firstByte(br *bufio.Reader) (byte, error) {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			return 0, err
		}
		if c := b[i-1]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// conversation checks the record and makes its conversation; errors name
// the message (counting from 1) and the field.
func (rec customRecord) conversation(defaultID string, haveOutputLen bool) (customConv, error) {
	c := customConv{conv: servingbench.Conversation{ID: defaultID}}
	if rec.ID != nil {
		if *rec.ID == "" {
			return c, errors.New(`"id" is empty`)
		}
		c.conv.ID = *rec.ID
	}
	if len(rec.Messages) == 0 {
		return c, errors.New(`missing or empty "messages"`)
	}
	msgs := rec.Messages
	next := 0 // index of msgs[0] in the record
	for i, m := range msgs {
		if m.Role == nil {
			return c, fmt.Errorf(`message %d: missing string field "role"`, i+1)
		}
		if m.Content == nil {
			return c, fmt.Errorf(`message %d: missing string field "content"`, i+1)
		}
	}
	if *msgs[0].Role == "system" {
		c.conv.System = *msgs[0].Content
		msgs, next = msgs[1:], 1
	}
	for i, m := range msgs {
		pos := i + next + 1
		want, article := "user", "a"
		if i%2 == 1 {
			want, article = "assistant", "an"
		}
		if *m.Role != want {
			return c, fmt.Errorf(`message %d: "role" is %q where %s %q message is due (after an optional first "system" message, "user" and "assistant" alternate, "user" first)`, pos, *m.Role, article, want)
		}
		if want == "assistant" {
			if m.MaxTokens != nil || m.ThinkMS != nil {
				return c, fmt.Errorf(`message %d: "max_tokens" and "think_ms" belong on user messages`, pos)
			}
			c.conv.Turns[len(c.conv.Turns)-1].Reply = *m.Content
			continue
		}
		turn := servingbench.Turn{User: *m.Content}
		if m.MaxTokens != nil {
			if *m.MaxTokens < 1 {
				return c, fmt.Errorf(`message %d: "max_tokens" must be >= 1, got %d`, pos, *m.MaxTokens)
			}
			turn.MaxTokens = *m.MaxTokens
		}
		thinkSet := m.ThinkMS != nil
		if thinkSet {
			ms := *m.ThinkMS
			switch {
			case len(c.conv.Turns) == 0:
				return c, fmt.Errorf(`message %d: "think_ms" on the first turn (the arrival process starts it)`, pos)
			case !(ms >= 0 && ms <= math.MaxInt64/float64(time.Millisecond)):
				return c, fmt.Errorf(`message %d: "think_ms" must be >= 0, got %v`, pos, ms)
			}
			turn.Think = time.Duration(ms * float64(time.Millisecond))
		}
		c.conv.Turns = append(c.conv.Turns, turn)
		c.thinkSet = append(c.thinkSet, thinkSet)
	}
	if len(c.conv.Turns) == 0 {
		return c, errors.New(`no "user" message`)
	}
	if !haveOutputLen {
		for t, tr := range c.conv.Turns {
			if replied := 2*t+1 < len(msgs); tr.MaxTokens == 0 && !replied {
				return c, fmt.Errorf(`turn %d (%q): no "max_tokens" and no assistant reply to take the output length from (or set OutputLen)`, t+1, clip(tr.User, 40))
			}
		}
	}
	return c, nil
}

// clip shortens s to at most n runes for an error message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
