// Package servingtest provides a simulated LLM server for tests and
// examples, speaking the OpenAI-compatible API (with a reasoning phase on
// the chat route, Model.Reasoning) and the native streaming APIs of TGI,
// llama.cpp, TensorRT-LLM behind Triton, SGLang and Ollama (Protocols), in
// the manner of net/http/httptest: NewServer starts
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
//   - POST /generate_stream and POST /generate: Hugging Face TGI's native
//     API (Protocol ProtocolTGI), shaped from TGI's router
//     (router/src/lib.rs, server.rs, validation.rs). The body is
//     {"inputs": PROMPT, "parameters": {"max_new_tokens": N, "details":
//     BOOL, "do_sample", "temperature", "top_p", "top_k", ...}}; unknown
//     fields are ignored, as TGI does, so there is no ignore-EOS (vLLM's
//     ignore_eos_token is ignored) and Model.EOSFraction applies to every
//     request. max_new_tokens is required (TGI defaults it). TGI's checks
//     apply (temperature and top_k strictly positive, top_p in (0, 1),
//     best_of and decoder_input_details refused when streaming, the KV
//     limit), with TGI's messages: as HTTP 422 on /generate and, as TGI
//     does, as the one error event of a 200 stream on /generate_stream.
//     Errors are {"error": MESSAGE, "error_type": TYPE}.
//   - POST /completion: llama.cpp's native API (ProtocolLlamaCpp), shaped
//     from llama.cpp's tools/server/README.md and a llama-server stream:
//     {"prompt": PROMPT (a string or an array of one string), "n_predict":
//     N (or "max_tokens"; required, at least 1), "ignore_eos", "stream"};
//     cache_prompt and the sampling fields are ignored. Errors are
//     {"error": {"code", "message", "type"}}.
//   - POST /v2/models/{model}/generate_stream: Triton's generate extension
//     as TensorRT-LLM's ensemble answers it (ProtocolTensorRTLLM), for the
//     models "ensemble" and Model.Name (another is Triton's 400 {"error":
//     "Request for unknown model: ..."}, not recorded), shaped from
//     Triton's docs/protocol/extension_generate.md and src/http_server.cc:
//     {"text_input": PROMPT, "max_tokens": N (required, at least 1),
//     "stream": true (required), "min_length"}, at the top level or under
//     "parameters"; a min_length of at least max_tokens is ignore-EOS.
//     Errors are {"error": MESSAGE}, HTTP 400.
//   - POST /generate with "text" or "sampling_params" and no "inputs":
//     SGLang's native API (ProtocolSGLang), shaped from SGLang's
//     entrypoints/http_server.py (generate_request): {"text": PROMPT,
//     "stream": BOOL, "sampling_params": {"max_new_tokens": N (required,
//     at least 1), "ignore_eos", "temperature" (not negative)}};
//     input_ids prompts are refused. Errors are {"error": {"message"}},
//     HTTP 400, streamed or not.
//   - POST /api/generate and POST /api/chat: Ollama's native API
//     (ProtocolOllama), shaped from Ollama's api/types.go and
//     server/routes.go: {"model", "prompt" (chat: "messages", as the
//     OpenAI route reads them), "stream" (default true), "options":
//     {"num_predict": N (required, at least 1)}}; the model name and the
//     other options are not checked. Errors are {"error": MESSAGE}, HTTP
//     400, application/json.
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
// TGI streams one event per token, written "data:{...}" without a space as
// axum does: {"index": i (from 1), "token": {"id", "text", "logprob",
// "special": false}, "generated_text": null, "details": null}; the last
// token's event carries generated_text and, when the request asks,
// details {"finish_reason": "length" | "eos_token", "generated_tokens",
// "seed" (null without sampling), "input_length"}, and ends the stream:
// there is no [DONE]. llama.cpp streams {"index": 0, "content": " word",
// "tokens": [id], "stop": false, "id_slot": -1, "tokens_predicted": k,
// "tokens_evaluated": P} per token, then {"content": "", "stop": true,
// "tokens_predicted", "tokens_evaluated", "stop_type": "limit" | "eos",
// "timings": {"prompt_ms" (admission to first token), "predicted_ms"
// (first to last token), ...}, ...}, which ends the stream. Both send a
// token an event, so a chunk of Model.TokensPerChunk tokens is that many
// events written with one flush. Model.Usage and Model.FinishChunk are
// OpenAI layouts and do not change the native streams.
//
// TensorRT-LLM's stream is "data: {...}" events, one a chunk, with the
// ensemble's outputs and the chunk's text in "text_output" (a delta);
// the body's end ends it: there is no finish reason, count or marker.
// SGLang's is an event a chunk with the whole text so far in "text", the
// chunk's "output_ids" and "meta_info" {"id", "finish_reason" (null, then
// {"type": "length", "length"} or {"type": "stop", "matched"}),
// "prompt_tokens", "completion_tokens" (so far), "cached_tokens"}, then
// "data: [DONE]". Ollama's is NDJSON (application/x-ndjson): a line a
// token, {"model", "created_at", "response" (chat: "message": {"role",
// "content"}), "done": false}, then the done line with "done_reason"
// ("length" or "stop"), "context" (generate only), the durations in
// nanoseconds (total_duration, prompt_eval_duration: admission to the
// first token, eval_duration: first to last) and prompt_eval_count and
// eval_count, zero ones left out; it ends the stream.
//
// With Model.Reasoning, the chat stream's first Reasoning.Tokens tokens
// come in delta.reasoning_content (or delta.reasoning, Reasoning.Field)
// and the rest in delta.content, a chunk holding both carrying both
// members, as vLLM's reasoning parsers stream them; usage carries
// completion_tokens_details.reasoning_tokens unless OmitUsage, and a
// non-streamed message has the reasoning beside its content.
// Record.ReasoningTokens, FirstAnswer and TTFO are the ground truth.
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
// (its prefill included), and later tokens one step apart. With
// Model.PrefixCacheTokens, the prompt tokens a prefix cache serves are not
// counted in the prefill term (prefixcache.go). With
// Model.FirstTokenDelay, a request's first token waits for the first step
// boundary at or after its admission plus that delay, and no step is
// longer for it. The engine does not wait for slow clients.
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
// prompt: HTTP errors, TCP resets, malformed or huge lines, stalls, error
// events, streams without [DONE], and valid-but-unusual streams (pings,
// one byte at a time), in every protocol's own shapes. See FaultKind and
// FaultKind.AppliesTo: FaultNoDone applies to OpenAI and SGLang only,
// since TGI's, llama.cpp's and Ollama's streams end with their last
// event, which carries the finish reason and the counts (without it a
// stream is cut short: FaultTruncate), and Triton's has no end marker at
// all; FaultPings does not apply to Ollama, as NDJSON has no comments.
// Record.Fault says which fault each request got.
//
// A Server is safe for concurrent use; a Model must not be changed after
// it is passed to NewServer.
package servingtest
