package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// tgi is Hugging Face TGI's native API: POST /generate_stream (stream
// true) and POST /generate. Shapes from TGI's router (router/src/lib.rs:
// GenerateRequest, GenerateParameters, StreamResponse, StreamDetails,
// Token, ErrorResponse; router/src/server.rs: generate_stream_internal;
// router/src/validation.rs: the checks and their messages):
// https://github.com/huggingface/text-generation-inference/tree/main/router/src
type tgi struct{ stream bool }

func (tgi) protocol() Protocol { return ProtocolTGI }

func (a tgi) endpoint() string { return route(a.stream, "/generate_stream", "/generate") }

// tgiRequest is the part of TGI's GenerateRequest the simulator reads.
type tgiRequest struct {
	Inputs     *string `json:"inputs"`
	Parameters struct {
		MaxNewTokens        *int     `json:"max_new_tokens"`
		Details             bool     `json:"details"`
		DoSample            bool     `json:"do_sample"`
		Temperature         *float64 `json:"temperature"`
		TopP                *float64 `json:"top_p"`
		TopK                *int     `json:"top_k"`
		BestOf              *int     `json:"best_of"`
		DecoderInputDetails bool     `json:"decoder_input_details"`
	} `json:"parameters"`
}

// tgiInvalid is a TGI validation error, with TGI's message.
func tgiInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, typ: "validation",
		message: "Input validation error: " + fmt.Sprintf(format, args...), validation: true}
}

// parse reads a GenerateRequest and checks it as TGI's validation does
// (strictly positive temperature and top_k, top_p in (0, 1), no best_of or
// decoder_input_details when streaming). TGI ignores fields it does not
// know, so vLLM's ignore_eos_token is ignored: TGI cannot be told to run to
// max_new_tokens. Unlike TGI, which defaults it, the simulator requires
// max_new_tokens.
func (a tgi) parse(body []byte, _ string) (*call, *apiError) {
	var req tgiRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, &apiError{status: http.StatusUnprocessableEntity, typ: "validation",
			message: fmt.Sprintf("Failed to deserialize the JSON body into the target type: %v", err)}
	}
	p := &req.Parameters
	switch {
	case req.Inputs == nil:
		return nil, &apiError{status: http.StatusUnprocessableEntity, typ: "validation",
			message: "Failed to deserialize the JSON body into the target type: missing field `inputs`"}
	case *req.Inputs == "":
		return nil, tgiInvalid("`inputs` cannot be empty")
	case a.stream && p.BestOf != nil && *p.BestOf != 1:
		return nil, tgiInvalid("`best_of` != 1 is not supported when streaming tokens")
	case a.stream && p.DecoderInputDetails:
		return nil, tgiInvalid("`decoder_input_details` == true is not supported when streaming tokens")
	case p.Temperature != nil && *p.Temperature <= 0:
		return nil, tgiInvalid("`temperature` must be strictly positive")
	case p.TopP != nil && (*p.TopP <= 0 || *p.TopP >= 1):
		return nil, tgiInvalid("`top_p` must be > 0.0 and < 1.0")
	case p.TopK != nil && *p.TopK <= 0:
		return nil, tgiInvalid("`top_k` must be strictly positive")
	case p.MaxNewTokens == nil:
		return nil, tgiInvalid("`max_new_tokens` is required by the simulated server")
	case *p.MaxNewTokens <= 0:
		return nil, tgiInvalid("`max_new_tokens` must be strictly positive")
	}
	return &call{prompt: *req.Inputs, maxTokens: *p.MaxNewTokens, stream: a.stream,
		includeUsage: p.Details, sampled: p.DoSample || p.Temperature != nil || p.TopP != nil || p.TopK != nil}, nil
}

func (tgi) tooLong(kv, prompt, maxTokens int) *apiError {
	return tgiInvalid("`inputs` tokens + `max_new_tokens` must be <= %d. Given: %d `inputs` tokens and %d `max_new_tokens`",
		kv, prompt, maxTokens)
}

// tgiErrorTypes are TGI's error_type by status (InferError::error_type).
var tgiErrorTypes = map[int]string{
	http.StatusUnprocessableEntity: "validation",
	http.StatusBadRequest:          "validation",
	http.StatusTooManyRequests:     "overloaded",
	http.StatusFailedDependency:    "generation",
	http.StatusInternalServerError: "incomplete_generation",
}

// writeError writes TGI's ErrorResponse {"error": message, "error_type":
// type}. A validation error on /generate_stream comes, as in TGI, as the
// one event of a 200 stream.
func (a tgi) writeError(w http.ResponseWriter, e *apiError) {
	typ, ok := tgiErrorTypes[e.status]
	switch {
	case e.validation:
		typ = "validation"
	case !ok:
		typ = "generation"
	}
	body := tgiErrorJSON(e.message, typ)
	if e.validation && a.stream {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.Write(append(append([]byte("data:"), body...), "\n\n"...))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(body, '\n'))
}

func tgiErrorJSON(message, typ string) []byte {
	b := append([]byte(`{"error":`), jsonString(message)...)
	b = append(b, `,"error_type":`...)
	b = append(b, jsonString(typ)...)
	return append(b, '}')
}

// tgiFinish is TGI's FinishReason of the simulator's finish reason.
func tgiFinish(finish string) string {
	if finish == "stop" {
		return "eos_token"
	}
	return finish
}

// tgiDetails appends StreamDetails (or Details, with prefill and tokens)
// of j, or null when the request did not ask for details.
func tgiDetails(b []byte, j *job, whole bool) []byte {
	if !j.includeUsage {
		return append(b, "null"...)
	}
	b = append(b, `{"finish_reason":"`...)
	b = append(b, tgiFinish(j.finish)...)
	b = append(b, `","generated_tokens":`...)
	b = strconv.AppendInt(b, int64(j.seq.target), 10)
	b = append(b, `,"seed":`...)
	if j.sampled {
		b = strconv.AppendUint(b, j.seed()>>1, 10)
	} else {
		b = append(b, "null"...)
	}
	if whole {
		return append(b, `,"prefill":[],"tokens":[]}`...)
	}
	b = append(b, `,"input_length":`...)
	b = strconv.AppendInt(b, int64(j.promptTokens), 10)
	return append(b, '}')
}

func (tgi) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	b := append([]byte(`{"generated_text":`), jsonString(string(g.text(nil, j.seq.target)))...)
	if j.includeUsage {
		b = tgiDetails(append(b, `,"details":`...), j, true)
	}
	return append(b, '}')
}

func (tgi) newEncoder(bw *bufio.Writer, j *job) encoder {
	return &tgiEncoder{sseWriter: sseWriter{bw: bw, pings: j.kind == FaultPings}, wordGen: newWordGen(j.seed()), j: j}
}

// tgiEncoder writes TGI's StreamResponse events, "data:" without a space
// as axum writes them, one token an event; the last event carries
// generated_text and details, and is the stream's end (no [DONE]).
type tgiEncoder struct {
	tokenEvents
	sseWriter
	wordGen
	j     *job
	index int
	text  []byte // generated_text so far
	lineBuf
}

// tokens writes one event of one token (n is 1).
func (e *tgiEncoder) tokens(n int, last, pad, badUTF8 bool) {
	eachToken(n, last, pad, badUTF8, e.token)
}

func (e *tgiEncoder) token(last, pad, badUTF8 bool) {
	e.pre()
	e.index++
	id := e.nextID()
	text := words[id]
	if badUTF8 {
		text = "\xff\xfe"
	}
	e.text = append(append(e.text, ' '), text...)
	b := append(e.line[:0], "data:{"...)
	b = appendPadding(b, pad)
	b = append(b, `"index":`...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	b = append(b, `,"token":{"id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"text":" `...)
	b = append(b, text...)
	b = append(b, `","logprob":-0.34,"special":false},"generated_text":`...)
	if last {
		b = append(b, jsonString(string(e.text))...)
		b = append(b, `,"details":`...)
		b = tgiDetails(b, e.j, false)
	} else {
		b = append(b, `null,"details":null`...)
	}
	b = append(b, "}\n\n"...)
	e.write(e.bw, b)
}

// tail writes nothing: the last token event ends the stream.
func (e *tgiEncoder) tail() {}

func (e *tgiEncoder) malformed() {
	e.bw.WriteString(`data:{"index":` + strconv.Itoa(e.index+1) + `,"token":{"id":0,"text":"broken` + "\n\n")
}

// errorEvent writes TGI's mid-stream error, an ErrorResponse event
// (InferError::GenerationError).
func (e *tgiEncoder) errorEvent(message string) {
	e.bw.WriteString("data:")
	e.bw.Write(tgiErrorJSON("Request failed during generation: "+message, "generation"))
	e.bw.WriteString("\n\n")
}
