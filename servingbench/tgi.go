package servingbench

import "github.com/servingbench/servingbench/internal/sse"

// tgiAPI is the adapter of Hugging Face TGI's native POST
// /generate_stream (also served by MindIE Server's TGI-compatible routes):
// the prompt as "inputs", the output in token.text, the counts in the last
// event's details.
var tgiAPI = protocol{
	endpoint:   "/generate_stream",
	framing:    frameSSE,
	newBody:    newTGIPayload,
	newDecoder: func() decoder { return new(tgiDecoder) },
}

// NewTGI validates cfg and returns a client that streams requests to
// TGI's native /generate_stream endpoint, as vLLM v0.9.1's
// async_request_tgi (--backend tgi) does. The body is
//
//	{"inputs": P, "parameters": {"max_new_tokens": N, "details": true,
//	 "do_sample": true, "temperature": 0.01, "top_p": 0.99}}
//
// with vLLM's sampling values, which TGI needs because it refuses a
// temperature of 0 and a top_p of 1: OpenAIConfig.Temperature and TopP
// replace them when set, a Temperature of 0 sends "do_sample": false
// without temperature or top_p (greedy; top_p would turn sampling back
// on), a TopP of 1 is left out, and TopK is sent when positive. details
// makes TGI report the counts. TGI has no ignore-EOS: with
// OpenAIConfig.IgnoreEOS, "ignore_eos_token": true is sent as vLLM sends
// it, and TGI ignores it, so a request may stop before max_new_tokens;
// its output count is the server's, never assumed to be max_new_tokens
// (vLLM v0.9.1 assumes it). vLLM's "truncate": prompt length is not sent:
// with a tokenizer that counts otherwise than the server's it would cut
// the prompt silently. max_new_tokens is omitted when Request.MaxTokens is
// 0. OpenAIConfig.ExtraBody is merged last; an object under "parameters"
// is merged into the parameters, key by key.
//
// TGI streams one event per token, "data:{...}" without a space, and no
// [DONE]: {"index", "token": {"id", "text", "logprob", "special"},
// "generated_text": null, "details": null}, the last token's event
// carrying generated_text and details {"finish_reason",
// "generated_tokens", "seed", "input_length"} (TGI's router/src/lib.rs,
// server.rs). That last event completes the stream (as [DONE] does for
// OpenAI; OpenAIConfig.RequireDone asks for nothing more); a body that
// ends before it is a failure (*EndError). An event {"error": MESSAGE,
// "error_type": TYPE}, as TGI sends a failed generation and a validation
// error (inside a 200 stream), is a *ServerError.
//
// Token events are events whose token has non-empty text and is not
// special: an end-of-sequence token, whose text TGI leaves out of
// generated_text, is no event, so E2EL ends at the last token with text.
// (vLLM's client counts every event, that one too.) Output tokens come
// from details.generated_tokens (SourceUsage; it counts the
// end-of-sequence token, as usage.completion_tokens does), input tokens
// from details.input_length (TGI 2.3 and later); otherwise as for
// NewCompletions (the Tokenizer, then the events).
func NewTGI(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, tgiAPI)
}

// newTGIPayload builds the body of NewTGI.
func newTGIPayload(cfg *OpenAIConfig) (*payload, error) {
	p := &payload{promptOpen: `"inputs":`}
	greedy := cfg.Temperature != nil && *cfg.Temperature == 0
	temperature, topP := 0.01, 0.99 // vLLM's: TGI refuses 0 and 1
	if cfg.Temperature != nil {
		temperature = *cfg.Temperature
	}
	if cfg.TopP != nil {
		topP = *cfg.TopP
	}
	params, err := setOptions([]bodyItem{{key: "max_new_tokens", hole: holeMax}}, []option{
		{"details", true, true},
		{"do_sample", !greedy, true},
		{"temperature", temperature, !greedy},
		{"top_p", topP, topP < 1 && (!greedy || cfg.TopP != nil)},
		{"top_k", cfg.TopK, cfg.TopK != nil && *cfg.TopK > 0},
		{"ignore_eos_token", true, cfg.IgnoreEOS},
	})
	if err != nil {
		return nil, err
	}
	items := []bodyItem{{key: "inputs", hole: holePrompt}, {key: "parameters", hole: holeObject, sub: params}}
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// tgiDecoder decodes TGI's StreamResponse and ErrorResponse events.
type tgiDecoder struct {
	eventBufs
	ev sse.TGIEvent
}

func (d *tgiDecoder) decode(data []byte, ev *event) error {
	if ev.isDone(data) { // not TGI's, but a compatible server's
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
	if !e.Last {
		return nil
	}
	// The last event: the end, with the counts and the finish reason.
	ev.end = true
	ev.setCounts(e.HasInputLength, e.InputLength, e.HasGeneratedTokens, e.GeneratedTokens)
	d.finishReason(ev, e.FinishReason)
	return nil
}

func (d *tgiDecoder) appendText(dst []byte) []byte { return sse.AppendUnescaped(dst, d.ev.Text) }
