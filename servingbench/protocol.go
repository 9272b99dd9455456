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
//   - the request: its default endpoint and its body (newBody, a payload);
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
//     protocol is bodyEnds, so the end of the body after a token event
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
//     message.content) per token event, thinking a reasoning one, the "done": true
//     line the end with done_reason, eval_count and prompt_eval_count (a
//     fallback after the request's own prompt count: event.promptFallback).

// protocol is one API's adapter: its default endpoint, its framing, its
// request body and its event decoder. Each API's is a value declared once
// in its file (completionsAPI, chatAPI, tgiAPI, llamaCppAPI, trtAPI,
// sglangAPI, ollamaAPI, ollamaChatAPI) and handed to newStreamClient,
// which builds the body from the validated OpenAIConfig; it is read-only
// after, so safe for concurrent use.
type protocol struct {
	// endpoint is the default path appended to the base URL.
	endpoint string
	// framing is how the response body is cut into messages.
	framing framing
	// bodyEnds: the stream has no completion marker (Triton's
	// generate_stream, tensorrtllm.go): the end of a well-formed body
	// after a token event completes the stream, is not counted as
	// Result.NoDone, and OpenAIConfig.RequireDone does not apply.
	bodyEnds bool
	// newBody builds the renderer of the request bodies from the
	// validated configuration.
	newBody func(*OpenAIConfig) (*payload, error)
	// newDecoder returns a decoder for one stream at a time (decoders are
	// pooled with the stream state and reset before each stream).
	newDecoder func() decoder
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

// isDone reports whether data is "data: [DONE]"'s, and if so marks ev
// the end. It is OpenAI's marker and SGLang's; the native decoders whose
// protocol has none (TGI's, llama.cpp's, Triton's) take it too, as a
// compatible server may send it.
func (ev *event) isDone(data []byte) bool {
	if !sse.IsDone(data) {
		return false
	}
	ev.end = true
	return true
}

// setCounts sets the usage counts the message carries: the prompt's when
// hasPrompt, the output's when hasCompletion.
func (ev *event) setCounts(hasPrompt bool, prompt int, hasCompletion bool, completion int) {
	ev.hasPrompt, ev.promptTokens = hasPrompt, prompt
	ev.hasCompletion, ev.completionTokens = hasCompletion, completion
}

// eventBufs are a decoder's buffers for what an event holds unescaped
// (the finish reason, a server error's message), reused from message to
// message; a decoder embeds them.
type eventBufs struct{ finish, msg []byte }

// reset does nothing: the buffers are overwritten before each use. A
// decoder with state across the messages of a stream (sglangDecoder)
// has its own.
func (*eventBufs) reset() {}

// serverError marks ev a server error whose message is raw, unescaped.
func (b *eventBufs) serverError(ev *event, raw []byte) {
	b.msg = sse.AppendUnescaped(b.msg[:0], raw)
	ev.serverError, ev.errorMessage = true, b.msg
}

// finishReason sets ev's finish reason to raw, unescaped, when raw is not
// nil (a JSON null or an absent member leaves it nil).
func (b *eventBufs) finishReason(ev *event, raw []byte) {
	if raw != nil {
		b.finish = sse.AppendUnescaped(b.finish[:0], raw)
		ev.finish = b.finish
	}
}
