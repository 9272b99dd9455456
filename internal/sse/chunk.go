package sse

import (
	"fmt"
	"strconv"
)

// maxDepth bounds the nesting of arrays and objects in one chunk.
const maxDepth = 512

// SyntaxError is malformed JSON in a data event.
type SyntaxError struct {
	// Offset is the byte offset of the offending byte in the event data.
	Offset int
	// Msg describes the problem.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg)
}

// Chunk is what a benchmark needs from one OpenAI-compatible streaming chunk.
// Byte-slice fields alias the data passed to Decode and hold the raw JSON
// string contents, escapes intact (use AppendText or AppendUnescaped); they
// are nil when the field is absent, null or not a string.
type Chunk struct {
	// Choices is the number of elements of the choices array (0 when absent).
	Choices int
	// Text is choices[0].text (completions).
	Text []byte
	// Content is choices[0].delta.content (chat).
	Content []byte
	// Reasoning is choices[0].delta.reasoning_content (or delta.reasoning).
	Reasoning []byte
	// FinishReason is choices[0].finish_reason.
	FinishReason []byte

	// Usage counts, valid when the matching Has flag is set.
	// ReasoningTokens is usage.completion_tokens_details.reasoning_tokens,
	// the part of CompletionTokens the model spent reasoning (OpenAI's
	// CompletionUsage; servers with a reasoning parser that count it).
	HasPromptTokens     bool
	HasCompletionTokens bool
	HasReasoningTokens  bool
	PromptTokens        int
	CompletionTokens    int
	ReasoningTokens     int

	// Error is set for a server error object: a top-level "error" object or
	// string, or "object": "error". ErrorMessage is its message, raw.
	Error        bool
	ErrorMessage []byte

	objectError bool
	rootMessage []byte
}

// Token reports whether the chunk is a token event: a non-empty choices array
// whose first element carries generated output (text, delta.content or
// delta.reasoning_content). Role-only, finish-only, empty-text and
// usage-only chunks are not token events.
func (c *Chunk) Token() bool {
	return c.Choices > 0 && (len(c.Text) > 0 || len(c.Content) > 0 || len(c.Reasoning) > 0)
}

// Answer reports whether the chunk is a token event with answer output:
// text or delta.content, as opposed to reasoning alone. A chunk at the end
// of a model's reasoning may carry both delta.reasoning_content and
// delta.content (vLLM's reasoning parsers split a delta holding the
// end-of-thinking token so); it is an answer chunk.
func (c *Chunk) Answer() bool {
	return c.Choices > 0 && (len(c.Text) > 0 || len(c.Content) > 0)
}

// AppendText appends the chunk's generated output to dst, unescaped: the
// reasoning, then the content, then the text (AppendReasoning then
// AppendAnswer).
func (c *Chunk) AppendText(dst []byte) []byte {
	dst = c.AppendReasoning(dst)
	return c.AppendAnswer(dst)
}

// AppendReasoning appends the chunk's reasoning output, unescaped, to dst.
func (c *Chunk) AppendReasoning(dst []byte) []byte { return AppendUnescaped(dst, c.Reasoning) }

// AppendAnswer appends the chunk's answer output, unescaped, to dst: the
// content, then the text.
func (c *Chunk) AppendAnswer(dst []byte) []byte {
	dst = AppendUnescaped(dst, c.Content)
	return AppendUnescaped(dst, c.Text)
}

// Decode validates data as one JSON document and fills c from it. It does
// not allocate unless data is malformed. On error c is partly filled.
func (c *Chunk) Decode(data []byte) error {
	*c = Chunk{}
	if err := decode(data, c); err != nil {
		return err
	}
	if c.objectError {
		c.Error = true
		if c.ErrorMessage == nil {
			c.ErrorMessage = c.rootMessage
		}
	}
	return nil
}

// Contexts: where a value sits in the chunk.
const (
	ctxOther uint8 = iota
	ctxRoot
	ctxChoices
	ctxChoice0
	ctxDelta
	ctxUsage
	ctxUsageDetails // usage.completion_tokens_details
	ctxError
)

// Fields: what a value is stored as.
const (
	fieldNone uint8 = iota
	fieldText
	fieldContent
	fieldReasoning
	fieldFinish
	fieldError // top-level "error": an object or a string
	fieldErrorMessage
	fieldRootMessage
	fieldObject
	fieldPromptTokens
	fieldCompletionTokens
	fieldReasoningTokens
)

var _ sink = (*Chunk)(nil)

func (c *Chunk) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "choices":
			return ctxChoices, fieldNone
		case "usage":
			return ctxUsage, fieldNone
		case "error":
			return ctxError, fieldError
		case "object":
			return ctxOther, fieldObject
		case "message":
			return ctxOther, fieldRootMessage
		}
	case ctxChoice0:
		switch string(key) {
		case "text":
			return ctxOther, fieldText
		case "delta":
			return ctxDelta, fieldNone
		case "finish_reason":
			return ctxOther, fieldFinish
		}
	case ctxDelta:
		switch string(key) {
		case "content":
			return ctxOther, fieldContent
		case "reasoning_content", "reasoning":
			return ctxOther, fieldReasoning
		}
	case ctxUsage:
		switch string(key) {
		case "prompt_tokens":
			return ctxOther, fieldPromptTokens
		case "completion_tokens":
			return ctxOther, fieldCompletionTokens
		case "completion_tokens_details":
			return ctxUsageDetails, fieldNone
		}
	case ctxUsageDetails:
		if string(key) == "reasoning_tokens" {
			return ctxOther, fieldReasoningTokens
		}
	case ctxError:
		if string(key) == "message" {
			return ctxOther, fieldErrorMessage
		}
	}
	return ctxOther, fieldNone
}

// element: the first choice is choices[0]; Choices counts the elements.
func (c *Chunk) element(ctx uint8, i int) uint8 {
	if ctx != ctxChoices {
		return ctxOther
	}
	c.Choices = i + 1
	if i == 0 {
		return ctxChoice0
	}
	return ctxOther
}

// object: an "error" object is a server error.
func (c *Chunk) object(field uint8) {
	if field == fieldError {
		c.Error = true
	}
}

func (c *Chunk) setBool(uint8, bool) {}

func (c *Chunk) reset(ctx, field uint8) {
	if field == fieldNone && ctx <= ctxRoot {
		return
	}
	switch field {
	case fieldText:
		c.Text = nil
	case fieldContent:
		c.Content = nil
	case fieldReasoning:
		c.Reasoning = nil
	case fieldFinish:
		c.FinishReason = nil
	case fieldError:
		c.Error, c.ErrorMessage = false, nil
	case fieldErrorMessage:
		c.ErrorMessage = nil
	case fieldRootMessage:
		c.rootMessage = nil
	case fieldObject:
		c.objectError = false
	case fieldPromptTokens:
		c.HasPromptTokens, c.PromptTokens = false, 0
	case fieldCompletionTokens:
		c.HasCompletionTokens, c.CompletionTokens = false, 0
	case fieldReasoningTokens:
		c.HasReasoningTokens, c.ReasoningTokens = false, 0
	}
	switch ctx {
	case ctxChoices:
		c.Choices = 0
		c.Text, c.Content, c.Reasoning, c.FinishReason = nil, nil, nil, nil
	case ctxChoice0:
		c.Text, c.Content, c.Reasoning, c.FinishReason = nil, nil, nil, nil
	case ctxDelta:
		c.Content, c.Reasoning = nil, nil
	case ctxUsage:
		c.HasPromptTokens, c.PromptTokens = false, 0
		c.HasCompletionTokens, c.CompletionTokens = false, 0
		c.HasReasoningTokens, c.ReasoningTokens = false, 0
	case ctxUsageDetails:
		c.HasReasoningTokens, c.ReasoningTokens = false, 0
	}
}

func (c *Chunk) setString(field uint8, raw []byte) {
	switch field {
	case fieldText:
		c.Text = raw
	case fieldContent:
		c.Content = raw
	case fieldReasoning:
		c.Reasoning = raw
	case fieldFinish:
		c.FinishReason = raw
	case fieldError:
		c.Error, c.ErrorMessage = true, raw
	case fieldErrorMessage:
		c.ErrorMessage = raw
	case fieldRootMessage:
		c.rootMessage = raw
	case fieldObject:
		c.objectError = string(raw) == "error"
	}
}

// setNumber stores a non-negative integral usage count.
func (c *Chunk) setNumber(field uint8, num []byte, integer bool) {
	v, ok := count(num, integer)
	switch {
	case !ok:
	case field == fieldPromptTokens:
		c.HasPromptTokens, c.PromptTokens = true, v
	case field == fieldCompletionTokens:
		c.HasCompletionTokens, c.CompletionTokens = true, v
	case field == fieldReasoningTokens:
		c.HasReasoningTokens, c.ReasoningTokens = true, v
	}
}

// count reads a token count: a non-negative integral number below 1e18
// (1e2 and 5.0 included). ok is false for any other number.
func count(num []byte, integer bool) (int, bool) {
	var v int
	if integer && len(num) <= 18 && num[0] != '-' {
		for _, b := range num {
			v = v*10 + int(b-'0')
		}
		return v, true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f < 0 || f >= 1e18 || f != float64(int64(f)) {
		return 0, false
	}
	return int(f), true
}
