package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// ollamaAPI and ollamaChatAPI are the adapters of Ollama's native POST
// /api/generate (the prompt as "prompt", the output in "response") and
// POST /api/chat (the prompt as one user message, the output in
// message.content): NDJSON, the counts in the "done": true line.
var (
	ollamaAPI = protocol{
		endpoint:   "/api/generate",
		framing:    frameNDJSON,
		newBody:    func(cfg *OpenAIConfig) (*payload, error) { return newOllamaPayload(cfg, false) },
		newDecoder: func() decoder { return &ollamaDecoder{chat: false} },
	}
	ollamaChatAPI = protocol{
		endpoint:   "/api/chat",
		framing:    frameNDJSON,
		newBody:    func(cfg *OpenAIConfig) (*payload, error) { return newOllamaPayload(cfg, true) },
		newDecoder: func() decoder { return &ollamaDecoder{chat: true} },
	}
)

// NewOllama validates cfg and returns a client that streams requests to
// Ollama's native /api/generate endpoint (--backend ollama). The body is
//
//	{"model": M, "prompt": P, "stream": true, "options": {"num_predict": N}}
//
// with "temperature", "top_p" and "top_k" in the options only when set in
// the OpenAIConfig, and OpenAIConfig.ExtraBody merged last; an object
// under "options" is merged into the options, key by key (so
// {"options": {"num_ctx": 8192}} keeps num_predict). num_predict is
// omitted when Request.MaxTokens is 0 (Ollama's default, -1, is no
// bound). The prompt goes through the model's template, as on Ollama's
// OpenAI routes; send "raw": true in ExtraBody to send it as is.
//
// Ollama has no ignore-EOS option (its options ignore unknown keys, with a
// warning in its log): OpenAIConfig.IgnoreEOS sends nothing, a request
// may stop before num_predict, and its output count is the server's
// eval_count, never assumed to be num_predict.
//
// Ollama streams application/x-ndjson (ollama's server/routes.go,
// streamResponse; api/types.go, GenerateResponse): one object a line,
// {"model", "created_at", "response": TEXT, "done": false}, then the line
// with "done": true, "done_reason" ("stop", "length"), "context" (the
// token ids of prompt and output), the durations (nanoseconds),
// "prompt_eval_count" and "eval_count". The done line is the completion
// marker (OpenAIConfig.RequireDone asks nothing more); a body that ends
// before it is a failure (*EndError). A failure after the stream began is
// a line {"error": MESSAGE} (*ServerError); one before it is a non-200
// status with an application/json {"error": MESSAGE} body (*HTTPError).
//
// Token events are lines with non-empty "response" (the done line too,
// should it carry text) or "thinking". With "think" on (ExtraBody
// {"think": true}), a thinking model's reasoning comes in "thinking"
// (api/types.go, GenerateResponse.Thinking), which is handled as an OpenAI
// chat stream's delta.reasoning_content: a reasoning token event, so TTFT
// is the first output of either kind (vLLM's definition) and TTFO the
// first answer text's, and the text holds the thinking then the answer.
// eval_count counts both; Ollama reports no split, so the reasoning and
// answer counts come from the Tokenizer over each part, else the events
// (count.go).
//
// Output tokens come from eval_count (SourceUsage). Input tokens come
// from Request.PromptTokens, then the Tokenizer (SourceTokenizer), and
// from prompt_eval_count (SourceUsage) only when the request has neither:
// Ollama reported a prompt served from its cache as fewer tokens, or
// left the count out, before v0.1.49 (ollama/ollama#2068, #3427, fixed by
// #5371) and again in v0.30.0 (#16414, fixed in v0.30.1 by #16428), and
// leaves out a count of 0 (omitempty), so its count can be silently low;
// it also counts the template's tokens. Without prompt_eval_count,
// PromptTokens or a Tokenizer the input count is unknown (SourceNone),
// never 0 from an absent field.
func NewOllama(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, ollamaAPI)
}

// NewOllamaChat validates cfg and returns a client that streams requests
// to Ollama's native /api/chat endpoint (--backend ollama-chat): as
// NewOllama, with the prompt sent as one user message,
//
//	{"model": M, "messages": [{"role": "user", "content": P}], "stream": true,
//	 "options": {"num_predict": N}}
//
// (a conversation's turn, Request.Messages set, sends its history as the
// messages instead), and the text of each line in message.content ({"model", "created_at",
// "message": {"role": "assistant", "content": TEXT}, "done": false};
// api/types.go, ChatResponse). The done line has no "context". The
// reasoning of a thinking model, message.thinking, is a reasoning token
// event (see NewOllama).
func NewOllamaChat(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, ollamaChatAPI)
}

// newOllamaPayload builds the body of NewOllama and NewOllamaChat.
func newOllamaPayload(cfg *OpenAIConfig, chat bool) (*payload, error) {
	p := &payload{promptOpen: `"prompt":`}
	promptKey := "prompt"
	if chat {
		p.promptOpen, p.promptEnd = `"messages":[{"role":"user","content":`, `}]`
		promptKey = "messages"
		p.messages = true
	}
	options, err := setOptions([]bodyItem{{key: "num_predict", hole: holeMax}}, []option{
		{"temperature", cfg.Temperature, cfg.Temperature != nil},
		{"top_p", cfg.TopP, cfg.TopP != nil},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	})
	if err != nil {
		return nil, err
	}
	model, err := member("model", cfg.Model)
	if err != nil {
		return nil, err
	}
	items, err := setOptions([]bodyItem{model, {key: promptKey, hole: holePrompt}}, []option{{"stream", true, true}})
	if err != nil {
		return nil, err
	}
	items = append(items, bodyItem{key: "options", hole: holeObject, sub: options})
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// ollamaDecoder decodes the lines of /api/generate or /api/chat.
type ollamaDecoder struct {
	eventBufs
	chat bool
	ev   sse.OllamaEvent
}

func (d *ollamaDecoder) decode(data []byte, ev *event) error {
	e := &d.ev
	if err := e.Decode(data); err != nil {
		return err
	}
	if e.Error {
		d.serverError(ev, e.ErrorMessage)
		return nil
	}
	answer, thinking := len(e.Text(d.chat)) > 0, len(d.thinking()) > 0
	ev.token = answer || thinking
	ev.reasoning, ev.reasoningOnly = thinking, thinking && !answer
	if !e.Done {
		return nil
	}
	ev.end = true
	ev.setCounts(e.HasPromptEvalCount, e.PromptEvalCount, e.HasEvalCount, e.EvalCount)
	ev.promptFallback = true // see NewOllama: the request's own count first
	d.finishReason(ev, e.DoneReason)
	return nil
}

// thinking is the line's reasoning: message.thinking for chat, thinking
// for generate.
func (d *ollamaDecoder) thinking() []byte {
	if d.chat {
		return d.ev.MessageThinking
	}
	return d.ev.Thinking
}

// appendText appends the line's thinking, then its answer text, as the
// OpenAI chat decoder appends reasoning_content then content.
func (d *ollamaDecoder) appendText(dst []byte) []byte {
	return d.appendAnswer(d.appendReasoning(dst))
}

func (d *ollamaDecoder) appendReasoning(dst []byte) []byte {
	return sse.AppendUnescaped(dst, d.thinking())
}

func (d *ollamaDecoder) appendAnswer(dst []byte) []byte {
	return sse.AppendUnescaped(dst, d.ev.Text(d.chat))
}

var _ reasoningDecoder = (*ollamaDecoder)(nil)
