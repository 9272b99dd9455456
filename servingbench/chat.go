package servingbench

// chatAPI is the adapter of OpenAI's /v1/chat/completions API: the prompt
// as one user message, the output in choices[0].delta.content (and
// delta.reasoning_content).
var chatAPI = protocol{
	endpoint:   "/v1/chat/completions",
	framing:    frameSSE,
	newBody:    func(cfg *OpenAIConfig) (*payload, error) { return newPayload(cfg, kindChat) },
	newDecoder: func() decoder { return new(openAIDecoder) },
}

// NewChat validates cfg and returns a client that streams requests to an
// OpenAI-compatible /v1/chat/completions endpoint. The prompt is sent as
// one user message:
//
//	{"model": M, "messages": [{"role": "user", "content": P}],
//	 "max_completion_tokens": N, "stream": true,
//	 "stream_options": {"include_usage": true}, ...}
//
// A conversation's turn (Request.Messages set) sends its history instead,
// each message {"role": R, "content": C} in order.
//
// Everything else (optional members, success rule, token events, counts,
// errors) is as for NewCompletions; delta.content and
// delta.reasoning_content carry the output, and the role-only first chunk
// is not a token event.
func NewChat(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, chatAPI)
}
