package servingbench

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/internal/sse"
)

// tensorRTLLM is the adapter of Triton's generate extension as TensorRT-LLM
// serves it, POST /v2/models/{model}/generate_stream: the prompt as
// "text_input", the output in text_output deltas, no counts and no end
// marker.
type tensorRTLLM struct {
	body      *payload
	minLength bool // send "min_length": max_tokens (IgnoreEOS)
}

// TensorRTLLMEndpoint is NewTensorRTLLM's default endpoint, vLLM's: the
// generate_stream route of Triton's "ensemble" model, which chains
// TensorRT-LLM's preprocessing, engine and postprocessing.
const TensorRTLLMEndpoint = "/v2/models/ensemble/generate_stream"

// NewTensorRTLLM validates cfg and returns a client that streams requests
// to Triton's generate_stream endpoint of a TensorRT-LLM model, as vLLM
// v0.9.1's async_request_trt_llm (--backend tensorrt-llm) does. The
// endpoint is TensorRTLLMEndpoint unless OpenAIConfig.Endpoint is set; a
// "{model}" in it is replaced by OpenAIConfig.Model, path-escaped, so
// "/v2/models/{model}/generate_stream" serves Triton-style routes named
// after the model (MindIE's). The body is vLLM's:
//
//	{"accumulate_tokens": true, "text_input": P, "temperature": 0.0,
//	 "top_p": 1.0, "max_tokens": N, "stream": true}
//
// with "min_length": N added when OpenAIConfig.IgnoreEOS is set (TensorRT-LLM
// has no ignore-EOS; min_length holds the end of sequence back until N
// tokens), OpenAIConfig.Temperature and TopP replacing vLLM's values when
// set, "top_k" sent when set, and OpenAIConfig.ExtraBody merged last (a
// min_length there wins). max_tokens and min_length are omitted when
// Request.MaxTokens is 0.
//
// Triton streams "data: {...}" per response, {"model_name",
// "model_version", "sequence_end", "sequence_id", "sequence_start",
// "text_output": DELTA, ...} (Triton's docs/protocol/extension_generate.md,
// tensorrtllm_backend's docs), with no finish reason, no counts and no end
// marker: the end of a well-formed body completes the stream, as vLLM's
// client reads it, and is not counted as Result.NoDone (there is no marker
// to miss; OpenAIConfig.RequireDone asks nothing of it). What a client can
// tell: a reset connection, a chunked body whose terminating chunk never
// comes and a body shorter than its Content-Length are failures
// (*StreamError: the transport reports the unexpected EOF), a malformed
// event is a *ParseError, and an {"error": MESSAGE} event, as Triton sends
// an inference error after the 200 status, is a *ServerError. What it
// cannot: a body the server ends cleanly before the last token, at an
// event boundary or inside an unterminated last line (which SSE drops),
// passes for complete, for this client as for vLLM's.
//
// Token events are events with non-empty text_output; an event may carry
// several tokens (TensorRT-LLM streams one response per decoding step).
// Triton reports no counts: output tokens come from OpenAIConfig.Tokenizer
// over the text (SourceTokenizer), else the token events (SourceEvents, a
// lower bound); input tokens from Request.PromptTokens or the Tokenizer.
func NewTensorRTLLM(cfg OpenAIConfig) (*StreamClient, error) {
	if strings.Contains(cfg.Endpoint, "{model}") {
		cfg.Endpoint = strings.ReplaceAll(cfg.Endpoint, "{model}", url.PathEscape(cfg.Model))
	}
	return newStreamClient(cfg, func(cfg *OpenAIConfig) (protocol, error) {
		body, err := newTensorRTLLMPayload(cfg)
		_, extraMin := cfg.ExtraBody["min_length"]
		return tensorRTLLM{body: body, minLength: cfg.IgnoreEOS && !extraMin}, err
	})
}

func (tensorRTLLM) endpoint() string    { return TensorRTLLMEndpoint }
func (tensorRTLLM) framing() framing    { return frameSSE }
func (tensorRTLLM) newDecoder() decoder { return new(trtDecoder) }

// bodyEnds: Triton's stream has no completion marker.
func (tensorRTLLM) bodyEnds() {}

// appendBody renders the body, with "min_length": max_tokens last when
// asked.
func (p tensorRTLLM) appendBody(dst []byte, req *Request) []byte {
	dst = p.body.append(dst, req)
	if !p.minLength || req.MaxTokens <= 0 {
		return dst
	}
	dst = append(dst[:len(dst)-1], `,"min_length":`...)
	dst = strconv.AppendInt(dst, int64(req.MaxTokens), 10)
	return append(dst, '}')
}

// newTensorRTLLMPayload builds the body of NewTensorRTLLM but min_length.
func newTensorRTLLMPayload(cfg *OpenAIConfig) (*payload, error) {
	p := &payload{promptOpen: `"text_input":`, maxKey: `"max_tokens":`}
	temperature, topP := 0.0, 1.0 // vLLM's
	if cfg.Temperature != nil {
		temperature = *cfg.Temperature
	}
	if cfg.TopP != nil {
		topP = *cfg.TopP
	}
	items, err := setOptions(nil, []option{{"accumulate_tokens", true, true}})
	if err != nil {
		return nil, err
	}
	items = append(items, bodyItem{key: "text_input", hole: holePrompt})
	items, err = setOptions(items, []option{
		{"temperature", temperature, true},
		{"top_p", topP, true},
	})
	if err != nil {
		return nil, err
	}
	items = append(items, bodyItem{key: "max_tokens", hole: holeMax})
	if items, err = setOptions(items, []option{
		{"stream", true, true},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	}); err != nil {
		return nil, err
	}
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// trtDecoder decodes Triton's generate_stream events.
type trtDecoder struct {
	ev  sse.TRTEvent
	msg []byte
}

func (d *trtDecoder) reset() {}

func (d *trtDecoder) decode(data []byte, ev *event) error {
	if sse.IsDone(data) { // not Triton's, but a compatible server's
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
	ev.token = e.Token()
	ev.finished = ev.token // nothing else to go by: the body's end completes the stream
	return nil
}

func (d *trtDecoder) appendText(dst []byte) []byte { return sse.AppendUnescaped(dst, d.ev.TextOutput) }
