// Package servingtest provides a simulated OpenAI-compatible LLM server for
// tests and examples, in the manner of net/http/httptest: NewServer starts
// it on a loopback address, Server.URL is its base URL, Server.Close stops
// it, and Server.Truth returns what the server did for every request, the
// ground truth against which a client's measurements can be checked.
// Server.SetErrorLog routes the server's own net/http log, and
// Server.AcceptErrors counts the connections it failed to accept (in the
// same process as a benchmark client, the process running out of file
// descriptors).
//
// NewUnstartedServer and Server.Start, like httptest's, let the caller
// choose the listener first. On NewListener's in-memory listener, server
// and client run inside a testing/synctest bubble: the engine's step
// timers, the handlers' chunk stamps (Record) and the client's clock are
// all the bubble's fake clock, which moves only when every goroutine
// waits, so a client's measured TTFT, ITL and E2EL equal the server's
// recorded times exactly, and a client timeout fires at its time, never
// because the machine was slow. Server.Client reaches the server on any
// listener.
//
// # Endpoints
//
//   - POST /v1/completions and POST /v1/chat/completions, streaming
//     (Server-Sent Events, "data: {...}\n\n" events ending with
//     "data: [DONE]\n\n", Content-Type text/event-stream) when "stream" is
//     true, one JSON body otherwise. "max_tokens" (chat:
//     "max_completion_tokens" or "max_tokens") is required and must be at
//     least 1; "prompt" is a string or an array of one string; "messages"
//     is non-empty and each has a role and a string or text-parts content.
//     Bad JSON, a missing or bad field, or a request longer than
//     Model.KVCacheTokens gets HTTP 400; a "model" other than Model.Name
//     gets 404. Error bodies are OpenAI-style:
//     {"error": {"message", "type", "param", "code"}}.
//     "ignore_eos" and "stream_options": {"include_usage": true} are
//     honoured; other fields (temperature, seed, ...) are ignored.
//   - GET /v1/models, GET /health (200, empty body), GET /version
//     ({"version": "servingtest-..."}, like vLLM).
//   - GET /metrics: Prometheus text with vLLM's names and a model_name
//     label: vllm:num_requests_running, vllm:num_requests_waiting,
//     vllm:gpu_cache_usage_perc and vllm:kv_cache_usage_perc (a fraction of
//     Model.KVCacheTokens reserved, 0 when unbounded),
//     vllm:prompt_tokens_total and vllm:generation_tokens_total.
//
// # Stream layout
//
// A completions chunk is {"id","object":"text_completion","created",
// "model","choices":[{"index":0,"text":" word","logprobs":null,
// "finish_reason":null}]}; a chat chunk has "delta": {"content": " word"}
// and object "chat.completion.chunk" and the stream starts with a role-only
// chunk (delta {"role":"assistant","content":""}), written with the first
// token. By default finish_reason ("length", or "stop" for an early stop)
// rides on the last token chunk, as in vLLM; Model.FinishChunk (implied by
// UsageInline) adds a finish-only chunk instead, as llama.cpp does. Usage
// is sent only when the request sets stream_options.include_usage, where
// Model.Usage says.
//
// # Timing model
//
// One scheduler goroutine runs a continuous-batching engine. Each step it
// admits waiting requests in arrival order while fewer than
// Model.MaxRunning are running and their KV reservation
// (prompt tokens + max_tokens) fits in Model.KVCacheTokens; it stops at
// the first request that does not fit (no overtaking). The step lasts
//
//	(PrefillPerToken * prompt tokens admitted this step
//	 + DecodeBase + DecodePerSeq * running sequences) / Speed
//
// measured against absolute deadlines, so sleeping late does not drift
// the schedule. At the end of the step each running sequence gets one
// token; finished and abandoned sequences leave the batch and free their
// reservation. So a request's first token comes one step after admission
// (its prefill included), and later tokens one step apart. The engine does
// not wait for slow clients.
//
// Each request's handler goroutine writes a chunk per
// Model.TokensPerChunk tokens, from pre-rendered bytes through a
// bufio.Writer, and flushes. Chunks ready when the handler wakes are
// written with one flush and share their recorded time, which is taken
// just after the flush returns (Record.Chunks).
//
// # Tokens and text
//
// Prompt tokens are counted with Model.Tokenizer, by default
// WordTokenizer (whitespace-separated words). Generated text is a sequence
// of " word" tokens drawn from a fixed list, seeded by Model.Seed and the
// prompt: the same seed and prompt give the same text. Without
// "ignore_eos", a seeded fraction Model.EOSFraction of the requests stop
// early; with it, every request generates exactly max_tokens.
//
// # Faults
//
// Model.Faults injects failures into requests chosen by their index or
// prompt: HTTP errors, TCP resets, malformed or huge lines, stalls, streams
// without [DONE], and valid-but-unusual streams (pings, one byte at a
// time). See FaultKind. Record.Fault says which fault each request got.
//
// A Server is safe for concurrent use; a Model must not be changed after
// it is passed to NewServer.
package servingtest
