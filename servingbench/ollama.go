package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// ollama is the adapter of Ollama's native POST /api/generate (the prompt
// as "prompt", the output in "response") and POST /api/chat (the prompt
// as one user message, the output in message.content): NDJSON, the
// counts in the "done": true line.
type ollama struct {
	chat bool
	body *payload
}

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
// should it carry text). With "think" on (ExtraBody), the reasoning comes
// in "thinking", which is not a token event and not in the text: TTFT is
// the first answer text's, as for a chat stream's content; the output
// count, eval_count, counts the thinking tokens too.
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
	return newStreamClient(cfg, func(cfg *OpenAIConfig) (protocol, error) {
		body, err := newOllamaPayload(cfg, false)
		return ollama{body: body}, err
	})
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
// reasoning of a thinking model, message.thinking, is neither a token
// event nor text (see NewOllama).
func NewOllamaChat(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, func(cfg *OpenAIConfig) (protocol, error) {
		body, err := newOllamaPayload(cfg, true)
		return ollama{chat: true, body: body}, err
	})
}

func (p ollama) endpoint() string {
	if p.chat {
		return "/api/chat"
	}
	return "/api/generate"
}

func (ollama) framing() framing      { return frameNDJSON }
func (p ollama) newDecoder() decoder { return &ollamaDecoder{chat: p.chat} }

func (p ollama) appendBody(dst []byte, req *Request) []byte { return p.body.append(dst, req) }

// newOllamaPayload builds the body of NewOllama and NewOllamaChat.
func newOllamaPayload(cfg *OpenAIConfig, chat bool) (*payload, error) {
	p := &payload{promptOpen: `"prompt":`, maxKey: `"num_predict":`}
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
	chat   bool
	ev     sse.OllamaEvent
	finish []byte
	msg    []byte
}

func (d *ollamaDecoder) reset() {}

func (d *ollamaDecoder) decode(data []byte, ev *event) error {
	e := &d.ev
	if err := e.Decode(data); err != nil {
		return err
	}
	if e.Error {
		d.msg = ev.setServerError(d.msg, e.ErrorMessage)
		return nil
	}
	ev.token = len(e.Text(d.chat)) > 0
	if !e.Done {
		return nil
	}
	ev.end = true
	ev.hasCompletion, ev.completionTokens = e.HasEvalCount, e.EvalCount
	ev.hasPrompt, ev.promptTokens = e.HasPromptEvalCount, e.PromptEvalCount
	ev.promptFallback = true // see NewOllama: the request's own count first
	if e.DoneReason != nil {
		d.finish = sse.AppendUnescaped(d.finish[:0], e.DoneReason)
		ev.finish = d.finish
	}
	return nil
}

func (d *ollamaDecoder) appendText(dst []byte) []byte {
	return sse.AppendUnescaped(dst, d.ev.Text(d.chat))
}
