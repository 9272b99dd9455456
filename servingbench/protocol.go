package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// The client is one streaming engine (StreamClient: client.go, stream.go,
// prewarm.go, transport.go, count.go) and one small protocol adapter per
// API. The engine owns everything that does not depend on the API: the
// HTTP transport and its pool, the send time and the event times, the
// resend of a request that met a pooled connection the server had closed,
// the prewarm, the request and idle timeouts, the framing of the body (SSE
// or NDJSON, see framing), the line limit, the
// API key's masking, the typed errors and the token counts (count.go). An
// adapter says only what is sent and what a message means:
//
//   - the request: its default endpoint and its body (appendBody);
//   - the response: how it is framed, and for each framed message, an event
//     (decoder): whether it is a token event and its text, the usage counts
//     it carries, its finish reason, a server error, or the completion
//     marker.
//
// Adapters today: completions.go (OpenAI /v1/completions) and chat.go
// (OpenAI /v1/chat/completions); openai.go holds what both share (the
// OpenAIConfig, the body builder and the chunk decoder); tgi.go (TGI's
// native POST /generate_stream, --backend tgi), llamacpp.go (llama.cpp's
// native POST /completion, --backend llama.cpp-native), tensorrtllm.go
// (Triton's generate_stream, --backend tensorrt-llm), sglang.go
// (SGLang's native POST /generate, --backend sglang-native) and ollama.go
// (Ollama's /api/generate and /api/chat, --backend ollama and
// ollama-chat). Each native adapter is one file, its decoder's JSON in
// internal/sse (TGIEvent, LlamaEvent, TRTEvent, SGLangEvent,
// OllamaEvent, fuzzed like the OpenAI chunk), its backend an entry in
// backend.go, and servingtest speaks its protocol (ground truth
// and faults), so the fault matrix and the exact end-to-end tests run it
// like the OpenAI clients:
//
//   - TGI POST /generate_stream (implemented: tgi.go): body {"inputs",
//     "parameters": {"max_new_tokens", "details": true, and vLLM's
//     do_sample, temperature 0.01, top_p 0.99}}; SSE ("data:" without a
//     space) without [DONE]. An event whose token has text and is not
//     special is a token event; the last one (generated_text set, details
//     an object) is the end (event.end, like [DONE]) and its details give
//     finish_reason, generated_tokens and input_length (the counts).
//   - llama.cpp POST /completion (implemented: llamacpp.go): body
//     {"prompt", "n_predict", "stream": true, "ignore_eos" when asked; no
//     cache_prompt, so the server's default applies as on its OpenAI
//     routes}; SSE without [DONE], content per token event, then the
//     object with "stop": true: the end, whose tokens_predicted and
//     tokens_evaluated are the counts (the counts so far on each token
//     event are not taken, so a cut stream stays a failure) and stop_type
//     the finish reason. Tested against a real llama-server
//     (internal/llamacpp TestConformanceNative).
//   - TensorRT-LLM behind Triton, POST /v2/models/{model}/generate_stream
//     (implemented: tensorrtllm.go, --backend tensorrt-llm; the default
//     model vLLM's "ensemble", a {model} in the endpoint the model's
//     name): vLLM's body {"accumulate_tokens", "text_input", "temperature",
//     "top_p", "max_tokens", "stream", "min_length" for ignore-EOS}; SSE
//     events with a text_output delta, no finish reason and no marker: the
//     protocol is bodyEnded, so the end of the body after a token event
//     completes the stream (there is nothing else to go by; a clean cut is
//     undetectable, a reset or an unterminated chunked body is not); counts
//     from the tokenizer or the events (count.go).
//   - SGLang POST /generate (implemented: sglang.go, --backend
//     sglang-native): body {"text", "sampling_params": {"temperature",
//     "max_new_tokens", "ignore_eos"}, "stream": true}; SSE then
//     data: [DONE]. text is cumulative, so the decoder keeps the text seen
//     so far (decoder.reset per stream) and hands out the new suffix, a
//     text that does not extend it a *ParseError; the last event's
//     meta_info gives finish_reason, prompt_tokens and completion_tokens.
//   - Ollama POST /api/generate and /api/chat (implemented: ollama.go):
//     body {"model", "prompt" or "messages", "stream": true, "options":
//     {"num_predict", the sampling options}}; NDJSON (frameNDJSON,
//     internal/ndjson; Content-Type application/x-ndjson), response (or
//     message.content) per token event, thinking none, the "done": true
//     line the end with done_reason, eval_count and prompt_eval_count (a
//     fallback after the request's own prompt count: event.promptFallback).

// protocol is one API's request encoder and event decoder. It is built
// once per client from its OpenAIConfig and is read-only after, so safe
// for concurrent use.
type protocol interface {
	// endpoint is the default path appended to the base URL.
	endpoint() string
	// framing is how the response body is cut into messages.
	framing() framing
	// appendBody renders the request body of req after dst.
	appendBody(dst []byte, req *Request) []byte
	// newDecoder returns a decoder for one stream at a time (decoders are
	// pooled with the stream state and reset before each stream).
	newDecoder() decoder
}

// decoder turns the messages of one stream into events.
type decoder interface {
	// reset prepares the decoder for a new stream.
	reset()
	// decode fills ev (zeroed by the caller) from one framed message. An
	// error is a malformed message (*sse.SyntaxError gives its offset).
	decode(data []byte, ev *event) error
	// appendText appends the output text of the last decoded token event,
	// unescaped, to dst; the engine calls it only when it keeps or counts
	// the text.
	appendText(dst []byte) []byte
}

// reasoningDecoder is a decoder whose API streams reasoning output apart
// from the answer (event.reasoning). The engine calls its methods only
// for such events, and only when a Tokenizer counts each part.
type reasoningDecoder interface {
	// appendReasoning and appendAnswer append the reasoning and the answer
	// output of the last decoded token event, unescaped, to dst; together,
	// in that order, they append what appendText does.
	appendReasoning(dst []byte) []byte
	appendAnswer(dst []byte) []byte
}

// event is what one message of a stream means to the engine.
type event struct {
	// token: a token event (it carries generated output).
	token bool
	// end: the completion marker (data: [DONE], llama.cpp's "stop": true,
	// Ollama's "done": true); the stream is complete once the rest of this
	// event (its counts, finish reason, text) is taken.
	end bool
	// finish is the finish reason, unescaped, nil when absent; a stream
	// whose body ends after one is complete (Result.NoDone).
	finish []byte
	// finished: the stream may end after this message without a marker
	// even though it gives no finish reason (a usage chunk).
	finished bool
	// reasoning: the token event carries reasoning output (OpenAI chat's
	// delta.reasoning_content or delta.reasoning); reasoningOnly: and no
	// answer output (delta.content, text). An adapter whose API has no
	// reasoning output sets neither, so its token events are answer
	// events; one that sets reasoning implements reasoningDecoder.
	reasoning, reasoningOnly bool
	// Usage counts, valid when the matching has flag is set.
	// reasoningTokens is the part of completionTokens spent reasoning
	// (usage.completion_tokens_details.reasoning_tokens).
	hasPrompt, hasCompletion, hasReasoning          bool
	promptTokens, completionTokens, reasoningTokens int
	// promptFallback: promptTokens is taken only when the request has no
	// count of its own (Request.PromptTokens, the Tokenizer; count.go), as
	// Ollama's prompt_eval_count may be low for a cached prompt.
	promptFallback bool
	// serverError: an error object; errorMessage is its message, unescaped.
	serverError  bool
	errorMessage []byte
}

// bodyEnded is implemented by a protocol whose stream has no completion
// marker (Triton's generate_stream, tensorrtllm.go): the end of a
// well-formed body after a token event completes the stream, is not
// counted as Result.NoDone, and OpenAIConfig.RequireDone does not apply.
type bodyEnded interface{ bodyEnds() }

// framing is how a response body is cut into messages.
type framing uint8

const (
	// frameSSE: text/event-stream, one message per data event
	// (internal/sse).
	frameSSE framing = iota
	// frameNDJSON: application/x-ndjson, one message per non-empty line
	// (internal/ndjson), as Ollama's native API streams. Its reader has the
	// SSE reader's Next, Offset, Reset and line cap; it has no "error:"
	// events (ErrorEvent is SSE's only).
	frameNDJSON
)

// ndjsonType is the Content-Type Ollama streams with: streamResponse in
// ollama's server/routes.go sets exactly "application/x-ndjson", and its
// client sends it as the Accept header (api/client.go, stream).
const ndjsonType = "application/x-ndjson"

// accept is the Accept header of requests with this framing.
func (f framing) accept() string {
	if f == frameNDJSON {
		return ndjsonType
	}
	return "text/event-stream"
}

// accepts reports whether a response's Content-Type has this framing:
// text/event-stream for SSE, application/x-ndjson for NDJSON, parameters
// (a charset) allowed after either. Anything else is a
// *ContentTypeError: Ollama answers a request it refuses before
// streaming with application/json and a non-200 status (an
// *HTTPError, read first), and its non-streamed body is
// "application/json; charset=utf-8", which is not a stream.
func (f framing) accepts(contentType string) bool {
	if f == frameNDJSON {
		return isMediaType(contentType, ndjsonType)
	}
	return isEventStream(contentType)
}

// setServerError marks ev a server error whose message is raw unescaped
// into buf (a decoder's reused buffer), and returns the buffer.
func (ev *event) setServerError(buf, raw []byte) []byte {
	buf = sse.AppendUnescaped(buf[:0], raw)
	ev.serverError, ev.errorMessage = true, buf
	return buf
}
