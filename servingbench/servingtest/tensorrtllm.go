package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// tensorRTLLM is Triton's generate extension as TensorRT-LLM's ensemble
// serves it: POST /v2/models/{model}/generate_stream. Shapes from Triton's
// docs/protocol/extension_generate.md (request {"text_input",
// "parameters"?}, any other member a parameter or tensor; response
// {"model_name", "model_version", "text_output"}; errors {"error":
// MESSAGE}; Content-Type text/event-stream) and tensorrtllm_backend's
// docs (the ensemble's fields: max_tokens, stream, min_length,
// temperature, top_p; its generate_stream response):
// https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_generate.md
// https://github.com/triton-inference-server/tensorrtllm_backend/blob/main/docs/multimodal.md
type tensorRTLLM struct {
	path string // the request's path, for Record.Endpoint
}

// tritonPattern is the route's pattern: the model is a path segment.
const tritonPattern = "/v2/models/{model}/generate_stream"

func (tensorRTLLM) protocol() Protocol { return ProtocolTensorRTLLM }
func (a tensorRTLLM) endpoint() string {
	if a.path != "" {
		return a.path
	}
	return tritonPattern
}

// tritonRoute serves the generate_stream route (Record.Endpoint the
// request's path) of the models "ensemble"
// (vLLM's default) and Model.Name; another model is Triton's 400
// {"error": "Request for unknown model: ..."}, answered before the request
// is recorded.
func (s *Server) tritonRoute() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if m := r.PathValue("model"); m != "ensemble" && m != s.model.Name {
			tensorRTLLM{}.writeError(w, &apiError{status: http.StatusBadRequest,
				message: fmt.Sprintf("Request for unknown model: '%s' is not found", m)})
			return
		}
		s.handle(tensorRTLLM{path: r.URL.Path})(w, r)
	}
}

// trtParams are the ensemble's inputs the simulator reads, at the top
// level (as vLLM sends them) or under "parameters".
type trtParams struct {
	MaxTokens *int  `json:"max_tokens"`
	MinLength *int  `json:"min_length"`
	Stream    *bool `json:"stream"`
}

type trtRequest struct {
	TextInput *string `json:"text_input"`
	trtParams
	Parameters trtParams `json:"parameters"`
}

// parse reads a generate request. max_tokens is required (the ensemble
// requires it too); a min_length of at least max_tokens is an ignore-EOS
// request, TensorRT-LLM having no other. The simulator streams only:
// "stream": true is required.
func (tensorRTLLM) parse(body []byte, _ string) (*call, *apiError) {
	var req trtRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, invalidRequest("failed to parse the request JSON buffer: %v", err)
	}
	p := req.trtParams
	if p.MaxTokens == nil {
		p.MaxTokens = req.Parameters.MaxTokens
	}
	if p.MinLength == nil {
		p.MinLength = req.Parameters.MinLength
	}
	if p.Stream == nil {
		p.Stream = req.Parameters.Stream
	}
	switch {
	case req.TextInput == nil:
		return nil, invalidRequest("in ensemble 'ensemble', expected 1 inputs but got 0 inputs for model 'ensemble'. At least one input is missing: text_input")
	case p.MaxTokens == nil:
		return nil, invalidRequest("in ensemble 'ensemble', input 'max_tokens' is required")
	case *p.MaxTokens <= 0:
		return nil, invalidRequest("in ensemble 'ensemble', max_tokens must be at least 1, got %d", *p.MaxTokens)
	case p.Stream == nil || !*p.Stream:
		return nil, invalidRequest("the simulated server answers generate_stream with \"stream\": true only")
	}
	ignoreEOS := p.MinLength != nil && *p.MinLength >= *p.MaxTokens
	return &call{prompt: *req.TextInput, maxTokens: *p.MaxTokens, stream: true, ignoreEOS: ignoreEOS}, nil
}

func (tensorRTLLM) tooLong(kv, prompt, maxTokens int) *apiError {
	return &apiError{status: http.StatusBadRequest, validation: true,
		message: fmt.Sprintf("in ensemble 'ensemble', the sum of the prompt length (%d) and max_tokens (%d) exceeds the maximum sequence length (%d)", prompt, maxTokens, kv)}
}

// writeError writes Triton's {"error": MESSAGE}.
func (tensorRTLLM) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(append([]byte(`{"error":`), jsonString(e.message)...), "}\n"...))
}

// trtHead is what every response of the ensemble carries before its text.
const trtHead = `{"batch_index":0,"context_logits":0.0,"cum_log_probs":0.0,"generation_logits":0.0,"model_name":"ensemble","model_version":"1","output_log_probs":[`

// jsonBody is /generate's response (the simulator does not serve that
// route; parse requires streaming).
func (tensorRTLLM) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	b := append([]byte(`{"model_name":"ensemble","model_version":"1","text_output":`), jsonString(string(g.text(nil, j.seq.target)))...)
	return append(b, '}')
}

func (tensorRTLLM) newEncoder(bw *bufio.Writer, j *job) encoder {
	return &trtEncoder{sseWriter: sseWriter{bw: bw, pings: j.kind == FaultPings}, wordGen: newWordGen(j.seed())}
}

// trtEncoder writes the ensemble's responses, "data: {...}" each, the
// chunk's tokens in text_output (a delta); nothing follows the last one:
// the body ends (no finish reason, counts or marker).
type trtEncoder struct {
	chunkEvents
	sseWriter
	wordGen
	lineBuf
}

func (e *trtEncoder) tokens(n int, last, pad, badUTF8 bool) {
	e.pre()
	b := append(e.line[:0], "data: "...)
	b = append(b, trtHead...)
	b = append(b, strings.Repeat("0.0,", n-1)...)
	b = append(b, `0.0],`...)
	b = appendPadding(b, pad)
	b = append(b, `"sequence_end":false,"sequence_id":0,"sequence_index":0,"sequence_start":false,"text_output":"`...)
	e.write(e.bw, b)
	e.writeText(&e.wordGen, n, badUTF8)
	e.bw.WriteString("\"}\n\n")
}

// tail writes nothing: the stream ends with the body.
func (e *trtEncoder) tail() {}

func (e *trtEncoder) malformed() {
	e.bw.WriteString("data: " + trtHead + `0.0],"text_output":"broken` + "\n\n")
}

// errorEvent writes Triton's error object, as an inference error after the
// 200 status arrives.
func (e *trtEncoder) errorEvent(message string) {
	e.bw.WriteString("data: ")
	e.bw.Write(append(append([]byte(`{"error":`), jsonString("in ensemble 'ensemble', "+message)...), '}'))
	e.bw.WriteString("\n\n")
}
