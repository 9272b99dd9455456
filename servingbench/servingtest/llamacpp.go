package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// llamaCpp is llama.cpp's native API, POST /completion. Shapes from
// llama.cpp's tools/server/README.md ("POST /completion") and a stream of
// llama-server b11669 (servingbench/testdata/streams/llamacpp-native.sse):
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md
type llamaCpp struct{}

func (llamaCpp) protocol() Protocol { return ProtocolLlamaCpp }
func (llamaCpp) endpoint() string   { return "/completion" }

// llamaRequest is the part of a /completion request the simulator reads;
// llama.cpp takes max_tokens for n_predict too.
type llamaRequest struct {
	Prompt    json.RawMessage `json:"prompt"`
	NPredict  *int            `json:"n_predict"`
	MaxTokens *int            `json:"max_tokens"`
	IgnoreEOS bool            `json:"ignore_eos"`
	Stream    bool            `json:"stream"`
}

func llamaInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error",
		message: fmt.Sprintf(format, args...), validation: true}
}

// parse reads a /completion request. The prompt is a string or an array
// of one string (token-id prompts are not simulated). Unlike llama.cpp,
// whose n_predict defaults to -1 (no bound), the simulator requires
// n_predict >= 1. cache_prompt and the sampling fields are ignored.
func (llamaCpp) parse(body []byte, _ string) (*call, *apiError) {
	var req llamaRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, llamaInvalid("%v", err)
	}
	prompt, apiErr := completionPrompt(req.Prompt)
	if apiErr != nil {
		return nil, llamaInvalid("\"prompt\" must be a string or an array of one string in the simulated server")
	}
	n := req.NPredict
	if n == nil {
		n = req.MaxTokens
	}
	switch {
	case n == nil:
		return nil, llamaInvalid("n_predict is required by the simulated server")
	case *n <= 0:
		return nil, llamaInvalid("n_predict must be at least 1 in the simulated server, got %d", *n)
	}
	return &call{prompt: prompt, maxTokens: *n, stream: req.Stream, ignoreEOS: req.IgnoreEOS, includeUsage: true}, nil
}

func (llamaCpp) tooLong(kv, prompt, maxTokens int) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "exceed_context_size_error", validation: true,
		message: fmt.Sprintf("request (%d tokens) exceeds the available context size (%d tokens), try increasing it", prompt+maxTokens, kv)}
}

// llamaErrorTypes are llama.cpp's error types by status (server's
// error_type).
var llamaErrorTypes = map[int]string{
	http.StatusBadRequest:          "invalid_request_error",
	http.StatusUnauthorized:        "authentication_error",
	http.StatusNotFound:            "not_found_error",
	http.StatusNotImplemented:      "not_supported_error",
	http.StatusServiceUnavailable:  "unavailable_error",
	http.StatusInternalServerError: "server_error",
}

// writeError writes llama.cpp's {"error": {"code", "message", "type"}}.
func (llamaCpp) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	w.Write(append(llamaErrorJSON(e), '\n'))
}

// llamaErrorJSON is {"error": llamaErrorObject(e)}.
func llamaErrorJSON(e *apiError) []byte {
	return append(append([]byte(`{"error":`), llamaErrorObject(e)...), '}')
}

// llamaErrorObject is llama-server's error object (format_error_response):
// {"code", "message", "type"}.
func llamaErrorObject(e *apiError) []byte {
	typ := e.typ
	if !e.validation {
		var ok bool
		if typ, ok = llamaErrorTypes[e.status]; !ok {
			typ = "server_error"
		}
	}
	b := append([]byte(`{"code":`), strconv.Itoa(e.status)...)
	b = append(b, `,"message":`...)
	b = append(b, jsonString(e.message)...)
	b = append(b, `,"type":`...)
	b = append(b, jsonString(typ)...)
	return append(b, '}')
}

// llamaStopType is llama.cpp's stop_type of the simulator's finish reason.
func llamaStopType(finish string) string {
	if finish == "stop" {
		return "eos"
	}
	return "limit"
}

// final appends llama.cpp's last object of j: "stop": true, the counts,
// stop_type and timings; content is the whole text when not streamed.
func (llamaCpp) final(b []byte, j *job, content []byte) []byte {
	n, p := j.seq.target, j.promptTokens
	b = append(b, `{"index":0,"content":`...)
	b = append(b, content...)
	b = append(b, `,"tokens":[],"id_slot":0,"stop":true,"model":`...)
	b = append(b, jsonString(j.srv.model.Name)...)
	b = append(b, `,"tokens_predicted":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"tokens_evaluated":`...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, `,"generation_settings":{"n_predict":`...)
	b = strconv.AppendInt(b, int64(j.maxTokens), 10)
	b = append(b, `,"ignore_eos":`...)
	b = strconv.AppendBool(b, j.ignoreEOS)
	b = append(b, `,"stream":`...)
	b = strconv.AppendBool(b, j.stream)
	b = append(b, `},"prompt":`...)
	b = append(b, jsonString(j.prompt)...)
	b = append(b, `,"has_new_line":false,"truncated":false,"stop_type":"`...)
	b = append(b, llamaStopType(j.finish)...)
	b = append(b, `","stopping_word":"","tokens_cached":`...)
	b = strconv.AppendInt(b, int64(p+n-1), 10)
	admitted, first, last := j.ent.times()
	if first.IsZero() { // not streamed: the text comes at once, now
		first, last = j.firstToken, time.Now()
	}
	promptMS, predictedMS := millis(first.Sub(admitted)), millis(last.Sub(first))
	b = append(b, `,"timings":{"cache_n":0,"prompt_n":`...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = appendTiming(b, "prompt", promptMS, p)
	b = append(b, `,"predicted_n":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = appendTiming(b, "predicted", predictedMS, max(n-1, 1))
	return append(b, "}}"...)
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// appendTiming appends name_ms, name_per_token_ms and name_per_second.
func appendTiming(b []byte, name string, total float64, n int) []byte {
	perToken := total / float64(max(n, 1))
	perSecond := 0.0
	if perToken > 0 {
		perSecond = 1e3 / perToken
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"_ms", total}, {"_per_token_ms", perToken}, {"_per_second", perSecond}} {
		b = append(b, `,"`+name+f.key+`":`...)
		b = strconv.AppendFloat(b, f.v, 'g', -1, 64)
	}
	return b
}

func (a llamaCpp) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	return a.final(nil, j, jsonString(string(g.text(nil, j.seq.target))))
}

func (llamaCpp) newEncoder(bw *bufio.Writer, j *job) encoder {
	e := &llamaEncoder{sseWriter: sseWriter{bw: bw, pings: j.kind == FaultPings}, wordGen: newWordGen(j.seed()), j: j}
	e.evaluated = strconv.AppendInt([]byte(`,"tokens_evaluated":`), int64(j.promptTokens), 10)
	return e
}

// llamaEncoder writes /completion's stream: a data event per token with
// its content and "stop": false, then the last object with "stop": true,
// the counts, stop_type and timings: the stream's end (no [DONE]).
type llamaEncoder struct {
	tokenEvents
	sseWriter
	wordGen
	j         *job
	predicted int
	evaluated []byte // `,"tokens_evaluated":P`
	lineBuf
}

// tokens writes one event of one token (n is 1).
func (e *llamaEncoder) tokens(n int, last, pad, badUTF8 bool) {
	eachToken(n, last, pad, badUTF8, e.token)
}

func (e *llamaEncoder) token(_, pad, badUTF8 bool) {
	e.pre()
	e.predicted++
	id := e.nextID()
	text := words[id]
	if badUTF8 {
		text = "\xff\xfe"
	}
	b := append(e.line[:0], "data: {"...)
	b = appendPadding(b, pad)
	b = append(b, `"index":0,"content":" `...)
	b = append(b, text...)
	b = append(b, `","tokens":[`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `],"stop":false,"id_slot":-1,"tokens_predicted":`...)
	b = strconv.AppendInt(b, int64(e.predicted), 10)
	b = append(b, e.evaluated...)
	b = append(b, "}\n\n"...)
	e.write(e.bw, b)
}

func (e *llamaEncoder) tail() {
	e.pre()
	b := llamaCpp{}.final(append(e.line[:0], "data: "...), e.j, []byte(`""`))
	e.bw.Write(append(b, "\n\n"...))
}

func (e *llamaEncoder) malformed() { e.bw.WriteString(`data: {"index":0,"content":"broken` + "\n\n") }

// errorEvent writes llama-server's mid-stream error: an SSE "error" field
// holding its error object, unwrapped.
func (e *llamaEncoder) errorEvent(message string) {
	e.bw.WriteString("error: ")
	e.bw.Write(llamaErrorObject(&apiError{status: http.StatusInternalServerError, message: message}))
	e.bw.WriteString("\n\n")
}
