// Package servingbench measures LLM inference servers the way vLLM's
// benchmarks/benchmark_serving.py (v0.9.1) does, with the same definitions,
// so its numbers compare with published ones.
//
// # Pieces
//
// A Client sends one request and measures it. StreamClient is the one
// streaming HTTP client: an engine (client.go, stream.go, prewarm.go,
// transport.go, fast.go: transports, timing, resends, timeouts, SSE and NDJSON
// framing, limits,
// API-key masking, typed errors; count.go: token counts) and a protocol
// adapter per API (protocol.go says what an adapter is and how the native
// protocols of TGI, TensorRT-LLM, SGLang, llama.cpp and Ollama fit).
// NewCompletions (completions.go) and NewChat (chat.go) build it for the
// OpenAI-compatible /v1/completions and /v1/chat/completions APIs, as
// vLLM, SGLang, llama.cpp, TGI's and TensorRT-LLM's OpenAI front-ends,
// MindIE and others serve them; NewTGI (tgi.go) speaks TGI's native
// /generate_stream, NewLlamaCppNative (llamacpp.go) llama.cpp's native
// /completion, NewTensorRTLLM (tensorrtllm.go) Triton's generate_stream,
// NewSGLangNative (sglang.go) SGLang's /generate, and NewOllama and
// NewOllamaChat (ollama.go) Ollama's /api/generate and /api/chat; Backends
// lists them by --backend name. Run drives a Client over a list of
// Requests on an Arrival schedule (Gamma/Poisson, or a replayed Trace), or
// over Conversations (turns chained with the whole history), with an
// optional bound on concurrency and returns a Report.
// WriteText prints vLLM's result block; WriteJSON and ReadJSON write and
// read vLLM's --save-result file. SLA checks a Report against limits.
// Package servingtest is an in-process simulated server for tests.
//
// # Connections
//
// The client's one HTTP/1.1 transport (and the twin without keep-alives
// it resends on) takes proxies from the environment, HTTP_PROXY,
// HTTPS_PROXY and NO_PROXY, as http.ProxyFromEnvironment reads them: a
// URL whose host is localhost or a loopback address is never proxied.
// OpenAIConfig.TLS configures HTTPS (TLSFiles.Config reads a CA file and
// a client certificate and key, as curl's --cacert, --cert and --key, for
// the mutual TLS MindIE Server uses by default); a TLS failure is a
// *TLSError saying which problem it is, and stops Run before the
// benchmark. OpenAIConfig.Header adds headers to every request, as vLLM's
// --header. Before a run, WaitReady waits for a server that is starting
// (vllm bench serve's --ready-check-timeout-sec: Config.ReadyCheck) and
// Warmups sends further untimed requests (its --num-warmups:
// Config.Warmups).
//
// On Linux, requests to a plain http:// server that no proxy applies to
// go through the client's own poller transport (fast.go, internal/h1): a
// poller goroutine for each CPU the client may run on reads each of its
// connections once per readiness, with the kernel's receive time, and
// decodes the framing, the messages and the JSON inline (about two thirds
// of net/http's CPU per streamed chunk in BenchmarkPacedStreams, with a
// fourth or less of its client lag at 1,024 streams), sending the same
// request bytes, with the same keep-alive, resends and errors. HTTPS,
// proxies, OpenAIConfig.HTTPClient, other systems and the environment
// variable SERVINGBENCH_TRANSPORT=net/http use net/http.
//
// # Definitions
//
// All times come from one monotonic clock. For each request Run records the
// scheduled arrival, the time it got a concurrency slot and the send time
// (taken immediately before the HTTP request is written), then every token
// event. A token event is an SSE data event whose JSON has a non-empty
// choices array carrying generated output: completions "text", chat
// "delta.content" or "delta.reasoning_content" (in the native streams, an
// event whose token has text and is not special, TGI's, or whose content
// is not empty, llama.cpp's).
//
//   - TTFT = first token event - send time.
//   - ITL = the gaps between consecutive token events (one per chunk, not
//     per token); statistics pool the gaps of all successful requests.
//   - E2EL = last token event - send time (the usage chunk and [DONE] are
//     not token events).
//   - TPOT = (E2EL - TTFT) / (output tokens - 1), for requests with more
//     than one output token; for goodput a request with one token has TPOT 0.
//   - Output tokens: usage.completion_tokens from whichever chunk carries
//     usage (vLLM's choices-less final chunk, or llama.cpp's last choices
//     chunk), or a native protocol's own count (TGI's
//     details.generated_tokens, llama.cpp's last tokens_predicted); without
//     one, the tokenizer's count of the generated text; without a
//     tokenizer, the number of token events. Input tokens:
//     usage.prompt_tokens (TGI's details.input_length, llama.cpp's
//     tokens_evaluated), else the tokenizer's count of the prompt as sent
//     (Request.PromptTokens, which datasets fill, or the client's
//     OpenAIConfig.Tokenizer). Result and Report name the source of every
//     count. The client decides every count in one place (count.go); the
//     runner counts nothing, and one tokenizer is given to the client once.
//   - Success: HTTP 200, a well-formed stream, and at least one token event.
//     A stream is complete at "data: [DONE]" (or a native protocol's last
//     event: TGI's, with generated_text and details; llama.cpp's, with
//     "stop": true), or when the body ends at an event boundary after the
//     finish_reason or the usage chunk (counted in Report.NoDone;
//     OpenAIConfig.RequireDone makes these failures); a body that ends
//     before either is truncated: a failure (*EndError). Anything else is a
//     failure with a typed error and a reason (ErrorReason); failures count
//     only in Report.Failed and Report.Errors.
//   - A request written to a pooled keep-alive connection that the server
//     had closed (llama.cpp's server closes every connection after a
//     streamed response; uvicorn and cpp-httplib close idle ones after
//     5 s), which fails before any response byte arrives, never reached
//     the server: it is sent again once, on a new connection, and counted
//     in Report.Resent, not as a failure; the client then opens a new
//     connection for every request. Its send time stays the first send, so
//     its TTFT and E2EL include the failed write and the new connection's
//     set-up (a loopback round trip; over a network a TCP handshake, and a
//     TLS one for https). A connection that breaks after a response byte
//     is a failure with its reason.
//   - A request whose connection could not be opened because this process
//     ran out of file descriptors (EMFILE, ENFILE) is the client machine's
//     failure, not the server's: *ClientLimitError, "client: too many open
//     files (limit N)", grouped under "client: too many open files". Every
//     request in flight holds a connection (two descriptors when the server
//     is a servingtest.Server in the same process); RaiseFileLimit raises
//     the soft limit to the hard one and FileBudget.Check says before a run
//     whether its peak in flight (PeakInFlight) fits.
//   - Duration runs from just before the first dispatch to the end of the
//     last request. Request throughput = successful / duration; output
//     throughput = output tokens / duration; total = (input + output) /
//     duration; goodput = requests meeting every SLO / duration.
//   - Statistics are numpy's: mean, median, population standard deviation
//     (ddof 0), percentiles by linear interpolation (rank p/100*(n-1)). An
//     empty list gives 0.
//
// # Where we differ from vLLM v0.9.1, on purpose
//
//   - Role-only and finish-only chunks are not token events; v0.9.1 counts
//     them, which adds near-zero ITL gaps and, for chat, can stamp TTFT at
//     the role-only chunk. On a one-token-per-chunk server both definitions
//     agree within 1% on means (TestEventDefinitionAgreesWithVLLM).
//   - Usage inside a choices chunk (llama.cpp) is read; v0.9.1 reports 0
//     output tokens there.
//   - Input tokens are measured (usage, or the tokenizer's count of the
//     prompt sent), not the requested length.
//   - The schedule is precomputed from the seed and slept to absolute
//     offsets; v0.9.1 slept relative gaps and drifted below the rate.
//   - Temperature is sent only when given (v0.9.1 sent 0.0); the warm-up
//     request is optional (Config.Warmup); a ready check (Config.ReadyCheck)
//     and further warm-ups (Config.Warmups) are vllm bench serve's.
//   - Connections are kept alive and a few are opened before the run
//     (Config.NoPrewarm); v0.9.1 opens a new aiohttp session, so a new
//     connection, for every request.
//   - Like vLLM, a stream without [DONE] that finished (finish_reason or
//     usage seen) is a success; unlike vLLM, one that delivered tokens but
//     ended before finishing is a failure ("stream ended after N tokens
//     without finish_reason"): a benchmark must not count a cut stream's
//     shorter output as a complete request.
//   - The Report adds failed requests with grouped reasons, client-side
//     queueing delay (slot acquired - scheduled, hidden by vLLM's
//     --max-concurrency), peak output tokens/s and peak concurrent requests
//     over 1-second buckets. The text block prints them after the lines
//     v0.9.1 prints, inside the block.
//
// # Concurrency
//
// Clients, Tokenizers and SLA values are safe for concurrent use. Run is
// synchronous: every goroutine it starts has ended when it returns.
// Config.OnResult is called from request goroutines and must be safe for
// concurrent use. A Report is not safe for concurrent mutation.
package servingbench
