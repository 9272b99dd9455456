package servingbench

import "context"

// Chat streams requests to an OpenAI-compatible /v1/chat/completions
// endpoint. The prompt is sent as one user message:
//
//	{"model": M, "messages": [{"role": "user", "content": P}],
//	 "max_completion_tokens": N, "stream": true,
//	 "stream_options": {"include_usage": true}, ...}
//
// Everything else (optional members, success rule, token events, counts,
// errors) is as for Completions; delta.content and
// delta.reasoning_content carry the output, and the role-only first chunk
// is not a token event.
//
// A Chat is safe for concurrent use.
type Chat struct{ o *openAI }

var _ Client = (*Chat)(nil)

// NewChat validates cfg and returns a chat completions client.
func NewChat(cfg OpenAIConfig) (*Chat, error) {
	o, err := newOpenAI(cfg, "/v1/chat/completions", kindChat)
	if err != nil {
		return nil, err
	}
	return &Chat{o: o}, nil
}

// Send sends req and measures it into res (see Client).
func (c *Chat) Send(ctx context.Context, req *Request, res *Result) { c.o.send(ctx, req, res) }

// Prewarm opens up to n keep-alive connections ahead of a run with n
// concurrent GET BaseURL/v1/models requests (404 is accepted), within
// 1 s, or the smaller of RequestTimeout and StreamIdleTimeout when shorter;
// the connections not open by then are opened by the requests.
func (c *Chat) Prewarm(ctx context.Context, n int) error { return c.o.prewarm(ctx, n) }

// Close closes the client's idle connections.
func (c *Chat) Close() { c.o.close() }
