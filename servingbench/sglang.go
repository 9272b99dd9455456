package servingbench

import (
	"bytes"
	"fmt"

	"github.com/servingbench/servingbench/internal/sse"
)

// sglangNative is the adapter of SGLang's native POST /generate: the
// prompt as "text", the sampling options in "sampling_params", the output
// as a cumulative text, the counts in meta_info.
type sglangNative struct{ body *payload }

// NewSGLangNative validates cfg and returns a client that streams requests
// to SGLang's native /generate endpoint, as SGLang's own bench_serving.py
// (async_request_sglang_generate, --backend sglang-native there too) does;
// --backend sglang is vLLM's name for SGLang's OpenAI-compatible
// /v1/completions (NewCompletions). The body is
//
//	{"text": P, "sampling_params": {"temperature": 0.0,
//	 "max_new_tokens": N, ...}, "stream": true}
//
// with "ignore_eos": true in sampling_params when OpenAIConfig.IgnoreEOS is
// set (SGLang's client sends it unless --disable-ignore-eos),
// OpenAIConfig.Temperature replacing SGLang's 0.0, "top_p" and "top_k"
// when set, and OpenAIConfig.ExtraBody merged last (an object under
// "sampling_params" is merged into it, key by key). max_new_tokens is
// omitted when Request.MaxTokens is 0.
//
// SGLang streams "data: {...}" per output, {"text": TEXT SO FAR,
// "output_ids", "meta_info": {"id", "finish_reason", "prompt_tokens",
// "completion_tokens", "cached_tokens", ...}}, then "data: [DONE]"
// (python/sglang/srt/entrypoints/http_server.py, generate_request;
// managers/tokenizer_manager.py). The text is cumulative: each event's new
// suffix is its output, and a text that does not extend the previous one
// is a malformed stream (*ParseError naming it), not output. finish_reason
// is null until the last output, then an object whose type is "length",
// "stop" or "abort" (Result's finish reason; a string, as older SGLang
// sent, is taken as the type); an "abort" is a *ServerError with its
// message, as is a {"error": {"message"}} event (a ValueError in the
// server, sent before [DONE]). [DONE] completes the stream; a body that
// ends after the finish reason without it is complete (Result.NoDone), one
// that ends before it a failure (*EndError).
//
// Token events are events whose text grew. An event may carry several
// tokens (SGLang's stream_interval, speculative decoding): it is one token
// event, one ITL gap, as vLLM counts chunks; SGLang's client divides the
// gap by the tokens it carried instead. Output tokens are the last
// event's meta_info.completion_tokens and input tokens its prompt_tokens
// (SourceUsage); the counts so far on earlier events are not taken, so a
// stream cut before the finish reason stays a failure. Otherwise as for
// NewCompletions (the Tokenizer, then the events).
func NewSGLangNative(cfg OpenAIConfig) (*StreamClient, error) {
	return newStreamClient(cfg, func(cfg *OpenAIConfig) (protocol, error) {
		body, err := newSGLangPayload(cfg)
		return sglangNative{body}, err
	})
}

func (sglangNative) endpoint() string    { return "/generate" }
func (sglangNative) framing() framing    { return frameSSE }
func (sglangNative) newDecoder() decoder { return new(sglangDecoder) }

func (p sglangNative) appendBody(dst []byte, req *Request) []byte { return p.body.append(dst, req) }

// newSGLangPayload builds the body of NewSGLangNative.
func newSGLangPayload(cfg *OpenAIConfig) (*payload, error) {
	p := &payload{promptOpen: `"text":`, maxKey: `"max_new_tokens":`}
	temperature := 0.0 // SGLang's bench_serving.py
	if cfg.Temperature != nil {
		temperature = *cfg.Temperature
	}
	params, err := setOptions(nil, []option{{"temperature", temperature, true}})
	if err != nil {
		return nil, err
	}
	params = append(params, bodyItem{key: "max_new_tokens", hole: holeMax})
	if params, err = setOptions(params, []option{
		{"ignore_eos", true, cfg.IgnoreEOS},
		{"top_p", cfg.TopP, cfg.TopP != nil},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	}); err != nil {
		return nil, err
	}
	items := []bodyItem{{key: "text", hole: holePrompt}, {key: "sampling_params", hole: holeObject, sub: params}}
	if items, err = setOptions(items, []option{{"stream", true, true}}); err != nil {
		return nil, err
	}
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// TextRegressionError is a cumulative text (SGLang's) that does not
// extend the text of the stream's previous event.
type TextRegressionError struct {
	// Seen is the length of the text so far, in bytes; Prefix is the
	// first bytes of the new text (at most 64) from where they differ.
	Seen   int
	Prefix string
	At     int
}

func (e *TextRegressionError) Error() string {
	return fmt.Sprintf("cumulative text does not extend the previous event's %d bytes: it differs at byte %d (%q)", e.Seen, e.At, e.Prefix)
}

// sglangDecoder decodes SGLang's /generate events. It keeps the text seen
// so far, unescaped, to hand out each event's new suffix.
type sglangDecoder struct {
	ev     sse.SGLangEvent
	seen   []byte // the text so far
	cur    []byte // this event's text, then swapped with seen
	delta  []byte // the new suffix, inside seen
	finish []byte
	msg    []byte
}

func (d *sglangDecoder) reset() { d.seen, d.delta = d.seen[:0], nil }

func (d *sglangDecoder) decode(data []byte, ev *event) error {
	if sse.IsDone(data) {
		ev.end = true
		return nil
	}
	e := &d.ev
	if err := e.Decode(data); err != nil {
		return err
	}
	if e.Error {
		d.msg = ev.setServerError(d.msg, e.ErrorMessage)
		return nil
	}
	if e.Finished && string(e.FinishType) == "abort" {
		msg := e.FinishMessage
		if len(msg) == 0 {
			msg = []byte("request aborted (finish_reason type abort)")
		}
		d.msg = ev.setServerError(d.msg, msg)
		return nil
	}
	if e.HasText {
		d.cur = sse.AppendUnescaped(d.cur[:0], e.Text)
		if !bytes.HasPrefix(d.cur, d.seen) {
			at := 0
			for at < len(d.seen) && at < len(d.cur) && d.seen[at] == d.cur[at] {
				at++
			}
			return &TextRegressionError{Seen: len(d.seen), At: at, Prefix: string(d.cur[at:min(len(d.cur), at+64)])}
		}
		n := len(d.seen)
		d.seen, d.cur = d.cur, d.seen
		d.delta = d.seen[n:]
		ev.token = len(d.delta) > 0
	}
	if !e.Finished {
		return nil // the counts so far are not the stream's
	}
	ev.finished = true
	ev.hasCompletion, ev.completionTokens = e.HasCompletionTokens, e.CompletionTokens
	ev.hasPrompt, ev.promptTokens = e.HasPromptTokens, e.PromptTokens
	if len(e.FinishType) > 0 {
		d.finish = sse.AppendUnescaped(d.finish[:0], e.FinishType)
		ev.finish = d.finish
	}
	return nil
}

func (d *sglangDecoder) appendText(dst []byte) []byte { return append(dst, d.delta...) }
