package servingbench

// Token counting happens here, and only here, for the StreamClient: it
// decides a request's input and output counts and their sources once the
// stream has ended. The runner counts nothing; datasets only fill
// Request.PromptTokens with their tokenizer's count of the prompt they
// built (see Request), and OpenAIConfig.Tokenizer is the one tokenizer a
// client is given.
//
// Input tokens, in order of preference:
//  1. the server's count (usage.prompt_tokens): SourceUsage;
//  2. Request.PromptTokens, when the dataset counted the prompt:
//     SourceTokenizer;
//  3. OpenAIConfig.Tokenizer's count of the prompt as sent: SourceTokenizer;
//  4. none: SourceNone.
//
// except that a count the adapter marks a fallback (event.promptFallback:
// Ollama's prompt_eval_count, which a cached prompt lowered in some
// versions) comes after 2 and 3.
//
// Output tokens:
//  1. the server's count (usage.completion_tokens): SourceUsage;
//  2. OpenAIConfig.Tokenizer's count of the generated text (no special
//     tokens): SourceTokenizer;
//  3. the number of token events: SourceEvents (a lower bound when the
//     server sends several tokens an event).
//
// Reasoning and answer tokens, the split of the output of a reasoning
// model (Result.ReasoningTokens, AnswerTokens, ReasoningSource):
//  1. the server's count of the reasoning part
//     (usage.completion_tokens_details.reasoning_tokens), the answer being
//     the rest of the output count: SourceUsage, even when the stream
//     carried no reasoning text (OpenAI's own reasoning models hide it
//     and count it);
//  2. when the stream carried reasoning output, OpenAIConfig.Tokenizer's
//     count of each part's text (the reasoning text and the answer text
//     are accumulated apart only then): SourceTokenizer;
//  3. the number of token events with reasoning output and with answer
//     output: SourceEvents, each a lower bound; the one event at the end
//     of the thinking that carries both counts in both;
//  4. a stream without reasoning output and no server count: SourceNone,
//     both 0 (its output is all answer).
//
// A protocol adapter reports the server's counts from its own fields
// (event.promptTokens, event.completionTokens): OpenAI's usage, TGI's
// details.generated_tokens, llama.cpp's tokens_predicted, Ollama's
// eval_count. A failed request keeps what the server reported and the
// input count; its output count is not estimated.

// usageCounts are the counts a stream's server reported, the last of each.
type usageCounts struct {
	hasPrompt, hasCompletion, hasReasoning bool
	prompt, completion, reasoning          int
	promptFallback                         bool // the prompt count is taken after the request's own
}

func (u *usageCounts) add(ev *event) {
	if ev.hasPrompt {
		u.hasPrompt, u.prompt, u.promptFallback = true, ev.promptTokens, ev.promptFallback
	}
	if ev.hasCompletion {
		u.hasCompletion, u.completion = true, ev.completionTokens
	}
	if ev.hasReasoning {
		u.hasReasoning, u.reasoning = true, ev.reasoningTokens
	}
}

// any reports whether the server reported a count.
func (u *usageCounts) any() bool { return u.hasPrompt || u.hasCompletion }

// count sets the token counts of a complete stream whose generated text
// is st.text (accumulated when KeepText or a Tokenizer is set), and the
// first answer event.
func (c *StreamClient) count(req *Request, res *Result, u usageCounts, st *stream) {
	c.countInput(req, res, u)
	switch {
	case u.hasCompletion:
		res.OutputTokens, res.OutputSource = u.completion, SourceUsage
	case c.cfg.Tokenizer != nil:
		res.OutputTokens, res.OutputSource = len(c.cfg.Tokenizer.Encode(string(st.text))), SourceTokenizer
	default:
		res.OutputTokens, res.OutputSource = len(res.Events), SourceEvents
	}
	sp := &st.split
	res.FirstAnswer = sp.firstAnswer(len(res.Events))
	switch {
	case u.hasReasoning:
		res.ReasoningTokens, res.ReasoningSource = u.reasoning, SourceUsage
		res.AnswerTokens = max(0, res.OutputTokens-u.reasoning)
	case sp.reasoningEvents == 0:
	case c.cfg.Tokenizer != nil:
		res.ReasoningTokens = len(c.cfg.Tokenizer.Encode(string(sp.reason)))
		res.AnswerTokens = len(c.cfg.Tokenizer.Encode(string(sp.answerText(st.text))))
		res.ReasoningSource = SourceTokenizer
	default:
		res.ReasoningTokens, res.AnswerTokens, res.ReasoningSource = sp.reasoningEvents, sp.answerEvents, SourceEvents
	}
}

// countFailed sets the token counts of a failed request: the server's,
// and the input count.
func (c *StreamClient) countFailed(req *Request, res *Result, u usageCounts) {
	c.countInput(req, res, u)
	if u.hasCompletion {
		res.OutputTokens, res.OutputSource = u.completion, SourceUsage
	}
}

func (c *StreamClient) countInput(req *Request, res *Result, u usageCounts) {
	switch {
	case u.hasPrompt && !u.promptFallback:
		res.InputTokens, res.InputSource = u.prompt, SourceUsage
	case req.PromptTokens > 0:
		res.InputTokens, res.InputSource = req.PromptTokens, SourceTokenizer
	case c.cfg.Tokenizer != nil && req.Prompt != "":
		res.InputTokens, res.InputSource = len(c.cfg.Tokenizer.Encode(req.Prompt)), SourceTokenizer
	case u.hasPrompt:
		res.InputTokens, res.InputSource = u.prompt, SourceUsage
	}
}

// reasoningSplit follows the reasoning and the answer of one stream: the
// first answer event, the events of each kind and, for the tokenizer, the
// text of each part. The texts are kept apart only from the first
// reasoning event on, and only when a Tokenizer counts them: the answer
// text before it is the start of the stream's text.
type reasoningSplit struct {
	first                         int // index of the first answer event, -1 before
	reasoningEvents, answerEvents int
	pre                           int // len(text) at the first reasoning event, -1 before
	reason, answer                []byte
}

func (s *reasoningSplit) reset() {
	s.first, s.reasoningEvents, s.answerEvents, s.pre = -1, 0, 0, -1
	s.reason, s.answer = s.reason[:0], s.answer[:0]
}

// bytes is the capacity of the text buffers, for the pool's bound.
func (s *reasoningSplit) bytes() int { return cap(s.reason) + cap(s.answer) }

// event counts the token event ev, the i-th of the stream.
func (s *reasoningSplit) event(ev *event, i int) {
	if ev.reasoning {
		s.reasoningEvents++
	}
	if !ev.reasoningOnly {
		s.answerEvents++
		if s.first < 0 {
			s.first = i
		}
	}
}

// firstAnswer is the index of the first answer event; events when there
// was none.
func (s *reasoningSplit) firstAnswer(events int) int {
	if s.first < 0 {
		return events
	}
	return s.first
}

// appendText appends the output of the token event ev to text, as
// dec.appendText does; when split is set, the reasoning and the answer
// of every event from the first with reasoning on are also kept apart.
func (s *reasoningSplit) appendText(text []byte, dec decoder, ev *event, split bool) []byte {
	rd, ok := dec.(reasoningDecoder)
	if !split || !ok || (s.pre < 0 && !ev.reasoning) {
		return dec.appendText(text)
	}
	if s.pre < 0 {
		s.pre = len(text)
	}
	n := len(text)
	if ev.reasoning {
		text = rd.appendReasoning(text)
		s.reason = append(s.reason, text[n:]...)
		n = len(text)
	}
	text = rd.appendAnswer(text)
	s.answer = append(s.answer, text[n:]...)
	return text
}

// answerText is the answer text of a stream whose whole text is text.
func (s *reasoningSplit) answerText(text []byte) []byte {
	if s.pre < 0 {
		return text
	}
	return append(text[:s.pre:s.pre], s.answer...)
}
