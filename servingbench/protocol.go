package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// The client is one streaming engine (StreamClient: client.go, stream.go,
// prewarm.go, transport.go, count.go) and one small protocol adapter per
// API. The engine owns everything that does not depend on the API: the
// HTTP transport and its pool, the send time and the event times, the
// resend of a request that met a pooled connection the server had closed,
// the prewarm, the request and idle timeouts, the framing of the body (SSE
// now; NDJSON has its place beside it, see framing), the line limit, the
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
// native POST /generate_stream, --backend tgi) and llamacpp.go
// (llama.cpp's native POST /completion, --backend llama.cpp-native). Each
// native adapter is one file, its decoder's JSON in internal/sse
// (TGIEvent, LlamaEvent, fuzzed like the OpenAI chunk), its backend an
// entry in backend.go, and servingtest speaks its protocol (ground truth
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
//
// The other native streaming APIs, TensorRT-LLM behind Triton, SGLang
// and Ollama, each fit the same way, with no change to the
// engine beyond NDJSON framing (checked against what each server sends,
// as read from its sources; not implemented):
//
//   - TensorRT-LLM POST /v2/models/{model}/generate_stream (the model a
//     field of the adapter): body {"text_input", "max_tokens", "stream"};
//     SSE events with a text_output delta, no finish reason and no marker:
//     the adapter's decoder sets event.finished on every token event, so
//     the end of the body completes the stream (there is nothing else to
//     go by); counts come from the tokenizer or the events (count.go).
//   - SGLang POST /generate: body {"text", "sampling_params":
//     {"max_new_tokens", "ignore_eos"}, "stream": true}; SSE then
//     data: [DONE]. text is cumulative, so the decoder keeps the length
//     seen so far (decoder.reset per stream) and hands out the new suffix;
//     meta_info gives finish_reason, prompt_tokens and completion_tokens.
//   - Ollama POST /api/generate and /api/chat: NDJSON (framing ndjson, a
//     line reader with the same Next/Offset/limit as the SSE reader, whose
//     Content-Type is application/x-ndjson); response (or message.content)
//     per token event, the "done": true line is the marker and carries
//     done_reason, prompt_eval_count and eval_count.

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
	// serverError: an error object; errorMessage is its message, unescaped.
	serverError  bool
	errorMessage []byte
}

// framing is how a response body is cut into messages.
type framing uint8

const (
	// frameSSE: text/event-stream, one message per data event
	// (internal/sse). Other framings (NDJSON for Ollama's native API: one
	// JSON object a line, application/x-ndjson) add a constant here, a
	// reader in internal beside internal/sse with the same Next, Offset,
	// Reset and line limit, and a case in accepts and in stream.next.
	frameSSE framing = iota
)

// accept is the Accept header of requests with this framing.
func (f framing) accept() string { return "text/event-stream" }

// accepts reports whether a response's Content-Type has this framing.
func (f framing) accepts(contentType string) bool { return isEventStream(contentType) }

// setServerError marks ev a server error whose message is raw unescaped
// into buf (a decoder's reused buffer), and returns the buffer.
func (ev *event) setServerError(buf, raw []byte) []byte {
	buf = sse.AppendUnescaped(buf[:0], raw)
	ev.serverError, ev.errorMessage = true, buf
	return buf
}
