// Package sse reads Server-Sent Events streams and decodes the chunk JSON of
// OpenAI-compatible streaming responses, with no allocation per event on the
// hot path.
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
// (prompt_tokens, completion_tokens) and server error objects.
//
// Neither Reader nor Chunk is safe for concurrent use; use one per stream.
package sse
