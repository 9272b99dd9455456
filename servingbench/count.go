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
// A protocol adapter reports the server's counts from its own fields
// (event.promptTokens, event.completionTokens): OpenAI's usage, TGI's
// details.generated_tokens, llama.cpp's tokens_predicted, Ollama's
// eval_count. A failed request keeps what the server reported and the
// input count; its output count is not estimated.

// usageCounts are the counts a stream's server reported, the last of each.
type usageCounts struct {
	hasPrompt, hasCompletion bool
	prompt, completion       int
	promptFallback           bool // the prompt count is taken after the request's own
}

func (u *usageCounts) add(ev *event) {
	if ev.hasPrompt {
		u.hasPrompt, u.prompt, u.promptFallback = true, ev.promptTokens, ev.promptFallback
	}
	if ev.hasCompletion {
		u.hasCompletion, u.completion = true, ev.completionTokens
	}
}

// any reports whether the server reported a count.
func (u *usageCounts) any() bool { return u.hasPrompt || u.hasCompletion }

// count sets the token counts of a complete stream whose generated text
// is text (accumulated when KeepText or a Tokenizer is set).
func (c *StreamClient) count(req *Request, res *Result, u usageCounts, text []byte) {
	c.countInput(req, res, u)
	switch {
	case u.hasCompletion:
		res.OutputTokens, res.OutputSource = u.completion, SourceUsage
	case c.cfg.Tokenizer != nil:
		res.OutputTokens, res.OutputSource = len(c.cfg.Tokenizer.Encode(string(text))), SourceTokenizer
	default:
		res.OutputTokens, res.OutputSource = len(res.Events), SourceEvents
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
