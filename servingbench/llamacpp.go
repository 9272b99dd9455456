package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// llamaCppAPI is the adapter of llama.cpp's native POST /completion: the
// prompt as "prompt", the output in "content", the counts in the last
// object ("stop": true).
var llamaCppAPI = protocol{
	endpoint:   "/completion",
	framing:    frameSSE,
	newBody:    newLlamaCppPayload,
	newDecoder: func() decoder { return new(llamaDecoder) },
}

// NewLlamaCppNative validates cfg and returns a client that streams
// requests to llama.cpp's native /completion endpoint (--backend
// llama.cpp-native; --backend llama.cpp is vLLM's name for llama.cpp's
// OpenAI-compatible /v1/completions, NewCompletions). The body is
//
//	{"prompt": P, "n_predict": N, "stream": true, ...}
//
// with "ignore_eos", "temperature", "top_p" and "top_k" only when set in
// the OpenAIConfig, and OpenAIConfig.ExtraBody merged last. cache_prompt
// is not sent: llama-server's default (true: a slot reuses the KV cache of
// the prompt prefix it shares with its previous request) is what its
// OpenAI routes get too, so both backends measure the same server; send
// "cache_prompt": false in ExtraBody to make every prompt evaluated in
// full. n_predict is omitted when Request.MaxTokens is 0 (llama.cpp then
// generates until the end of sequence or the context is full).
//
// llama-server streams "data: {...}" per token, {"content": TEXT,
// "tokens": [ID], "stop": false, "tokens_predicted", "tokens_evaluated",
// ...}, then one object with "stop": true, "content": "",
// tokens_predicted, tokens_evaluated, stop_type ("limit", "eos", "word")
// and timings (tools/server/README.md, "POST /completion"), and no
// [DONE]. The "stop": true object completes the stream (as [DONE] does for
// OpenAI; OpenAIConfig.RequireDone asks nothing more); a body that ends
// before it is a failure (*EndError), although every token event carries
// counts so far: those are not taken, so that a stream cut short does not
// pass for a complete one. A mid-stream failure comes as an "error:
// {...}" event (*ServerError), as on llama.cpp's other routes.
//
// Token events are events with non-empty content. Output tokens come from
// the last object's tokens_predicted and input tokens from its
// tokens_evaluated (SourceUsage: the whole prompt, the part reused from
// the cache included, as usage.prompt_tokens counts it); otherwise as for
// NewCompletions (the Tokenizer, then the events).
func NewLlamaCppNative(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, llamaCppAPI)
}

// newLlamaCppPayload builds the body of NewLlamaCppNative.
func newLlamaCppPayload(cfg *OpenAIConfig) (*payload, error) {
	p := &payload{promptOpen: `"prompt":`}
	items, err := setOptions([]bodyItem{{key: "prompt", hole: holePrompt}, {key: "n_predict", hole: holeMax}}, []option{
		{"stream", true, true},
		{"ignore_eos", true, cfg.IgnoreEOS},
		{"temperature", cfg.Temperature, cfg.Temperature != nil},
		{"top_p", cfg.TopP, cfg.TopP != nil},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	})
	if err != nil {
		return nil, err
	}
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// llamaDecoder decodes llama.cpp's /completion objects.
type llamaDecoder struct {
	eventBufs
	ev sse.LlamaEvent
}

func (d *llamaDecoder) decode(data []byte, ev *event) error {
	if ev.isDone(data) { // not llama.cpp's, but a compatible server's
		return nil
	}
	e := &d.ev
	if err := e.Decode(data); err != nil {
		return err
	}
	if e.Error {
		d.serverError(ev, e.ErrorMessage)
		return nil
	}
	ev.token = e.Token()
	if !e.Stop {
		return nil // the counts so far are not the stream's
	}
	ev.end = true
	ev.setCounts(e.HasTokensEvaluated, e.TokensEvaluated, e.HasTokensPredicted, e.TokensPredicted)
	d.finishReason(ev, e.StopType)
	return nil
}

func (d *llamaDecoder) appendText(dst []byte) []byte { return sse.AppendUnescaped(dst, d.ev.Content) }
