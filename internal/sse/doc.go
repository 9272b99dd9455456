// Package sse reads Server-Sent Events streams and decodes the event JSON of
// OpenAI-compatible and native (TGI, llama.cpp, Triton's TensorRT-LLM,
// SGLang) streaming responses, with no allocation per event on the hot
// path.
//
// Reader follows the WHATWG SSE parsing rules: lines end with CRLF, LF or a
// lone CR; an event ends at a blank line; lines starting with ':' are
// comments (pings) and are skipped; "data:" is accepted with or without one
// space after the colon; several data lines of one event are joined with
// "\n"; a leading UTF-8 BOM is dropped; the fields event, id and retry are
// ignored. An "error" field line (llama.cpp's mid-stream failure, sent as
// "error: {json}") is collected like a data line and flags the event
// (Reader.ErrorEvent). Lines may be longer than 64 KiB, up to a configurable
// cap (DefaultMaxLineBytes); a longer line, or an event whose data exceeds
// the cap, is a *LineTooLongError. One deliberate leniency: at the end of
// the stream, an event whose last line was terminated but that lacks the
// final blank line is still returned (the spec discards it); a final line
// without any line terminator is discarded as the spec says.
//
// Chunk decodes one data event's JSON with a small hand-written scanner that
// validates the whole document (reporting a *SyntaxError with the byte
// offset) and extracts only what a benchmark needs from choices[0] (text,
// delta.content, delta.reasoning_content, finish_reason), usage
// (prompt_tokens, completion_tokens) and server error objects. TGIEvent
// decodes an event of TGI's native /generate_stream with the same scanner
// (token.text and special, the last event's generated_text and details,
// ErrorResponse), and LlamaEvent one of llama.cpp's native /completion
// (content, "stop", stop_type, tokens_predicted, tokens_evaluated),
// TRTEvent one of Triton's generate_stream (text_output, error),
// SGLangEvent one of SGLang's native /generate (cumulative text,
// meta_info's finish_reason and counts, error) and OllamaEvent one line
// of Ollama's NDJSON /api/generate and /api/chat streams (response,
// message.content, the thinking fields, done, done_reason,
// prompt_eval_count, eval_count; internal/ndjson cuts the lines): a
// decoder is a sink of the scanner, which names the context and field of
// each value and keeps the ones it knows.
//
// Neither Reader nor the decoders are safe for concurrent use; use one per
// stream.
package sse
