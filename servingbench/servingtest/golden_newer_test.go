package servingtest

import (
	"fmt"
	"time"
)

// newerGoldenCases are the responses of the protocols added after TGI and
// llama.cpp (TensorRT-LLM behind Triton, SGLang's native /generate,
// Ollama's /api/generate and /api/chat) and of the chat route's reasoning
// phase: the layouts, the validation errors and every fault whose bytes
// differ. Each was compared with the real server's own shapes:
//
// Triton's generate extension,
// https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_generate.md
// and its writer, src/http_server.cc (GenerateRequestClass at commit
// e1db8a603d863b1317ee859bdeea2be19959462e): "data: " + the response
// object + "\n\n" per response, {"error": MESSAGE} before inference
// (application/json, status 400) or as a data event after the 200. The
// simulation differs in that the stream's Content-Type is
// "text/event-stream" where Triton sends "text/event-stream;
// charset=utf-8" (the media type is what a client checks), an error
// body ends with "\n" (Triton's has no newline), and the ensemble's
// output tensors (batch_index, cum_log_probs, output_log_probs, ...)
// are the fixed values vLLM's benchmark ignores. Non-streamed
// /generate is not served: parse requires "stream": true, as
// benchmark_serving only streams.
//
// SGLang's generate_request,
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/entrypoints/http_server.py
// (commit 0025436eab0556737d615b36a4dd3e1e26e82f3d): "data: " +
// orjson.dumps(out) + "\n\n" per output with the cumulative text,
// {"error": {"message"}} then [DONE] on a ValueError, a non-streamed
// ValueError a 400 {"error": {"message"}}. The simulation's meta_info
// has id, finish_reason, prompt_tokens, completion_tokens and
// cached_tokens only (SGLang adds the latencies and more, which no
// benchmark reads); its validation messages for what the simulator
// requires and SGLang defaults (max_new_tokens, 128 in SGLang) say
// "simulated server"; SGLang streams a streamed request's validation
// error inside a 200 stream, the simulator answers it with the 400 of a
// non-streamed one; Content-Type is "text/event-stream" (Starlette adds
// "; charset=utf-8").
//
// Ollama's docs/api.md and api/types.go (GenerateResponse, ChatResponse,
// Metrics with omitempty) and server/routes.go (streamResponse:
// json.Marshal + "\n" a line, a mid-stream error line {"error"} by
// json.Encoder, an error before the first byte gin's c.JSON), tag
// v0.33.0-rc2, https://github.com/ollama/ollama/blob/v0.33.0-rc2/docs/api.md
// and https://github.com/ollama/ollama/blob/v0.33.0-rc2/api/types.go:
// the members in the structs' order (model, created_at, response or
// message, done, done_reason, context, the durations and counts, zero
// ones left out). The simulation's context is 1..prompt+output (token
// ids Ollama's tokenizer would give), load_duration is always 0 and so
// left out, and an error body ends with "\n" (gin's c.JSON has none);
// num_predict is required (Ollama's -1 is no bound). Ollama answers an
// empty prompt or an empty messages list with a "load" done line
// (GenerateHandler, ChatHandler: the model is loaded, nothing is
// generated); the simulator generates for an empty prompt and answers
// empty messages with chatPrompt's 400, as no benchmark sends either.
//
// The reasoning chat stream is vLLM's, as its reasoning parsers send it
// (servingbench/internal/sse/testdata/vllm-chat-reasoning.sse, from
// vLLM's serving_chat.py): the role chunk, delta.reasoning_content (or
// delta.reasoning, the newer name) chunks, delta.content chunks, a
// chunk holding both at the boundary, the finish_reason on the last,
// then usage with completion_tokens_details.reasoning_tokens. vLLM
// writes JSON with ", " and ": " separators (Python's json.dumps); the
// simulator writes compact JSON, as for every other OpenAI golden.
func newerGoldenCases() []goldenCase {
	var cases []goldenCase
	add := func(name, path string, m Model, body any) {
		m.Name, m.DecodeBase = "m", time.Millisecond
		cases = append(cases, goldenCase{name: name, path: path, model: m, body: body})
	}
	with := merged
	// vLLM v0.9.1's async_request_trt_llm body, with min_length for
	// ignore-EOS.
	trt := map[string]any{"accumulate_tokens": true, "text_input": "one two three", "temperature": 0.0,
		"top_p": 1.0, "max_tokens": 3, "stream": true, "min_length": 3}
	const trtPath = "/v2/models/ensemble/generate_stream"
	// bench_serving.py's sglang body.
	sgl := func(params map[string]any, extra map[string]any) map[string]any {
		p := with(map[string]any{"max_new_tokens": 3, "ignore_eos": true, "temperature": 0.0}, params)
		return with(map[string]any{"text": "one two three", "sampling_params": p, "stream": true}, extra)
	}
	ollamaGen := func(options map[string]any, extra map[string]any) map[string]any {
		o := with(map[string]any{"num_predict": 3}, options)
		return with(map[string]any{"model": "m", "prompt": "one two three", "stream": true, "options": o}, extra)
	}
	ollamaChat := func(options map[string]any, extra map[string]any) map[string]any {
		b := ollamaGen(options, map[string]any{"prompt": nil,
			"messages": []map[string]any{{"role": "user", "content": "one two three"}}})
		return with(b, extra)
	}

	add("trt-stream", trtPath, Model{}, trt)
	add("trt-model-name", "/v2/models/m/generate_stream", Model{}, trt)
	add("trt-three-a-chunk", trtPath, Model{TokensPerChunk: 3}, with(trt, map[string]any{"max_tokens": 4, "min_length": 4}))
	add("trt-early-stop", trtPath, Model{EOSFraction: 1, Seed: 3}, with(trt, map[string]any{"max_tokens": 5, "min_length": nil}))
	add("trt-parameters", trtPath, Model{}, map[string]any{"text_input": "one two three",
		"parameters": map[string]any{"max_tokens": 3, "stream": true, "min_length": 3}})
	add("trt-unknown-model", "/v2/models/other/generate_stream", Model{}, trt)
	add("trt-no-text-input", trtPath, Model{}, with(trt, map[string]any{"text_input": nil}))
	add("trt-no-max-tokens", trtPath, Model{}, with(trt, map[string]any{"max_tokens": nil}))
	add("trt-not-streamed", trtPath, Model{}, with(trt, map[string]any{"stream": false}))
	add("trt-too-long", trtPath, Model{KVCacheTokens: 4}, trt)

	add("sglang-stream", "/generate", Model{}, sgl(nil, nil))
	add("sglang-three-a-chunk", "/generate", Model{TokensPerChunk: 3}, sgl(map[string]any{"max_new_tokens": 4}, nil))
	add("sglang-early-stop", "/generate", Model{EOSFraction: 1, Seed: 3}, sgl(map[string]any{"max_new_tokens": 5, "ignore_eos": nil}, nil))
	add("sglang-non-streamed", "/generate", Model{}, sgl(nil, map[string]any{"stream": false}))
	add("sglang-no-text", "/generate", Model{}, sgl(nil, map[string]any{"text": nil}))
	add("sglang-no-max-new-tokens", "/generate", Model{}, sgl(map[string]any{"max_new_tokens": nil}, nil))
	add("sglang-negative-temperature", "/generate", Model{}, sgl(map[string]any{"temperature": -1}, nil))
	add("sglang-too-long", "/generate", Model{KVCacheTokens: 4}, sgl(nil, nil))

	for _, kind := range []struct {
		name, path string
		body       func(options, extra map[string]any) map[string]any
	}{{"ollama", "/api/generate", ollamaGen}, {"ollama-chat", "/api/chat", ollamaChat}} {
		add(kind.name+"-stream", kind.path, Model{}, kind.body(nil, nil))
		add(kind.name+"-three-a-flush", kind.path, Model{TokensPerChunk: 3}, kind.body(map[string]any{"num_predict": 4}, nil))
		add(kind.name+"-early-stop", kind.path, Model{EOSFraction: 1, Seed: 3}, kind.body(map[string]any{"num_predict": 5}, nil))
		add(kind.name+"-non-streamed", kind.path, Model{}, kind.body(nil, map[string]any{"stream": false}))
		add(kind.name+"-no-num-predict", kind.path, Model{}, kind.body(map[string]any{"num_predict": nil}, nil))
		add(kind.name+"-too-long", kind.path, Model{KVCacheTokens: 4}, kind.body(nil, nil))
	}
	add("ollama-chat-no-messages", "/api/chat", Model{}, ollamaChat(nil, map[string]any{"messages": []any{}}))

	for _, f := range nativeGoldenFaults {
		name := fmt.Sprintf("%v-after-%d", f.Kind, f.After)
		m := Model{Faults: []Fault{f}}
		add("trt-"+name, trtPath, m, trt)
		add("sglang-"+name, "/generate", m, sgl(nil, nil))
		add("ollama-"+name, "/api/generate", m, ollamaGen(nil, nil))
		add("ollama-chat-"+name, "/api/chat", m, ollamaChat(nil, nil))
	}

	reasoning := func(m Model, extra map[string]any) (Model, any) {
		e := map[string]any{"ignore_eos": true}
		for k, v := range extra {
			e[k] = v // a nil removes the member (body)
		}
		return m, body(true, "one two three", 5, e)
	}
	for _, rc := range []struct {
		name  string
		model Model
		extra map[string]any
	}{
		{"usage", Model{Reasoning: Reasoning{Tokens: 2}}, nil},
		{"no-usage-asked", Model{Reasoning: Reasoning{Tokens: 2}}, map[string]any{"stream_options": nil}},
		{"omit-usage", Model{Reasoning: Reasoning{Tokens: 2, OmitUsage: true}}, nil},
		{"field-reasoning", Model{Reasoning: Reasoning{Tokens: 2, Field: "reasoning"}}, nil},
		{"boundary-chunk", Model{Reasoning: Reasoning{Tokens: 2}, TokensPerChunk: 3}, nil},
		{"only-reasoning", Model{Reasoning: Reasoning{Tokens: 9}}, nil},
		{"inline-usage", Model{Reasoning: Reasoning{Tokens: 2}, Usage: UsageInline}, nil},
		{"non-streamed", Model{Reasoning: Reasoning{Tokens: 2}}, map[string]any{"stream": false}},
		{"non-streamed-field-reasoning", Model{Reasoning: Reasoning{Tokens: 2, Field: "reasoning"}}, map[string]any{"stream": false}},
		{"completions-unaffected", Model{Reasoning: Reasoning{Tokens: 2}}, nil},
	} {
		m, b := reasoning(rc.model, rc.extra)
		p := "/v1/chat/completions"
		if rc.name == "completions-unaffected" {
			p, b = "/v1/completions", body(false, "one two three", 5, map[string]any{"ignore_eos": true})
		}
		add("reasoning-"+rc.name, p, m, b)
	}
	return cases
}
