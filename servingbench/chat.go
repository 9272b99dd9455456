package servingbench

// chat is the adapter of OpenAI's /v1/chat/completions API: the prompt as
// one user message, the output in choices[0].delta.content (and
// delta.reasoning_content).
type chat struct{ body *payload }

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
	return newStreamClient(cfg, func(cfg *OpenAIConfig) (protocol, error) {
		body, err := newPayload(cfg, kindChat)
		return chat{body}, err
	})
}

func (chat) endpoint() string    { return "/v1/chat/completions" }
func (chat) framing() framing    { return frameSSE }
func (chat) newDecoder() decoder { return new(openAIDecoder) }

func (p chat) appendBody(dst []byte, req *Request) []byte { return p.body.append(dst, req) }
