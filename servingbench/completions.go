package servingbench

// completionsAPI is the adapter of OpenAI's /v1/completions API: the
// prompt as "prompt", the output in choices[0].text.
var completionsAPI = protocol{
	endpoint:   "/v1/completions",
	framing:    frameSSE,
	newBody:    func(cfg *OpenAIConfig) (*payload, error) { return newPayload(cfg, kindCompletions) },
	newDecoder: func() decoder { return new(openAIDecoder) },
}

// NewCompletions validates cfg and returns a client that streams requests to an OpenAI-compatible /v1/completions
// endpoint (vLLM, llama.cpp, SGLang, TGI...). The body is
//
//	{"model": M, "prompt": P, "max_tokens": N, "stream": true,
//	 "stream_options": {"include_usage": true}, ...}
//
// with "ignore_eos", "temperature", "top_p" and "top_k" only when set in
// the OpenAIConfig and OpenAIConfig.ExtraBody merged last. max_tokens is
// omitted when Request.MaxTokens is 0.
//
// A request succeeds when the response is HTTP 200 with Content-Type
// text/event-stream, every data event is well-formed JSON without an error
// object (and no llama.cpp "error:" event arrives), the stream is complete
// and at least one token event arrived. Data events with empty data are
// skipped. A stream is complete at "data: [DONE]", or when the body ends at
// an event boundary after a finish_reason or usage chunk (Result.NoDone;
// TGI before 2024-07, llama.cpp's chat endpoint before 2024-09 and others
// sent no [DONE]); with OpenAIConfig.RequireDone only [DONE] completes it.
// A body that ends before either is a failure (*EndError, "stream ended
// after N tokens without finish_reason"). Each failure is a typed error in
// Result.Err (see ErrorReason). A request that failed on a pooled
// connection before any response byte is resent once (Result.Resent; see
// the package documentation).
//
// Token events are data events whose choices[0] carries non-empty text
// (text, delta.content or delta.reasoning_content); unlike vLLM v0.9.1,
// role-only, finish-only and empty chunks are not events. All events
// decoded from one read of the body share the time of that read.
//
// Output tokens come from usage.completion_tokens (SourceUsage), else the
// Tokenizer's count of the text (SourceTokenizer), else the number of token
// events (SourceEvents). Input tokens come from usage.prompt_tokens
// (SourceUsage); when absent they are left at SourceNone for the runner.
func NewCompletions(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, completionsAPI)
}
