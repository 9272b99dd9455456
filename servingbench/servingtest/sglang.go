package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// sglang is SGLang's native API, POST /generate. Shapes from SGLang's
// python/sglang/srt/entrypoints/http_server.py (generate_request: "data: "
// + orjson.dumps(out) per output, {"error": {"message"}} on a ValueError,
// then "data: [DONE]"; a non-streamed ValueError is a 400
// {"error": {"message"}}), managers/tokenizer_manager.py
// (_handle_batch_output: the cumulative text, output_ids and meta_info
// {"id", "finish_reason", "prompt_tokens", "completion_tokens",
// "cached_tokens"}) and managers/schedule_batch.py (finish reasons
// {"type": "length", "length"}, {"type": "stop", "matched"}):
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/entrypoints/http_server.py
type sglang struct{}

func (sglang) protocol() Protocol { return ProtocolSGLang }
func (sglang) endpoint() string   { return "/generate" }

// generateRoute serves POST /generate, which TGI (non-streamed) and
// SGLang both name so: a body with "text" or "sampling_params" and no
// "inputs" is SGLang's, any other TGI's.
func (s *Server) generateRoute() http.HandlerFunc {
	tgiH, sglH := s.handle(tgi{}), s.handle(sglang{})
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			badRequest("", "reading the body: %v", err).write(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var keys map[string]json.RawMessage
		json.Unmarshal(body, &keys)
		_, inputs := keys["inputs"]
		_, text := keys["text"]
		_, params := keys["sampling_params"]
		if (text || params) && !inputs {
			sglH(w, r)
			return
		}
		tgiH(w, r)
	}
}

type sglangRequest struct {
	Text           *string `json:"text"`
	InputIDs       any     `json:"input_ids"`
	Stream         bool    `json:"stream"`
	SamplingParams struct {
		MaxNewTokens *int     `json:"max_new_tokens"`
		IgnoreEOS    bool     `json:"ignore_eos"`
		Temperature  *float64 `json:"temperature"`
	} `json:"sampling_params"`
}

// parse reads a GenerateReqInput. Unlike SGLang, whose max_new_tokens
// defaults to 128, the simulator requires it; token-id prompts
// (input_ids) are not simulated. SGLang sends a streamed request's
// validation error inside a 200 stream; the simulator answers every
// validation error with 400 and SGLang's error object, as SGLang answers a
// non-streamed one.
func (sglang) parse(body []byte, _ string) (*call, *apiError) {
	var req sglangRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, invalidRequest("%v", err)
	}
	n := req.SamplingParams.MaxNewTokens
	switch {
	case req.Text == nil && req.InputIDs != nil:
		return nil, invalidRequest("input_ids prompts are not simulated: send text")
	case req.Text == nil:
		return nil, invalidRequest("Either text, input_ids or input_embeds should be provided.")
	case n == nil:
		return nil, invalidRequest("sampling_params.max_new_tokens is required by the simulated server")
	case *n <= 0:
		return nil, invalidRequest("max_new_tokens must be at least 1 in the simulated server, got %d", *n)
	case req.SamplingParams.Temperature != nil && *req.SamplingParams.Temperature < 0:
		return nil, invalidRequest("temperature must be non-negative, got %v.", *req.SamplingParams.Temperature)
	}
	return &call{prompt: *req.Text, maxTokens: *n, stream: req.Stream, ignoreEOS: req.SamplingParams.IgnoreEOS, includeUsage: true}, nil
}

func (sglang) tooLong(kv, prompt, maxTokens int) *apiError {
	return &apiError{status: http.StatusBadRequest, validation: true,
		message: fmt.Sprintf("Requested token count exceeds the model's maximum context length of %d tokens. You requested a total of %d tokens: %d tokens from the input messages and %d tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.", kv, prompt+maxTokens, prompt, maxTokens)}
}

// writeError writes SGLang's {"error": {"message"}}.
func (sglang) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(sglangErrorJSON(e.message), '\n'))
}

func sglangErrorJSON(message string) []byte {
	return append(append([]byte(`{"error":{"message":`), jsonString(message)...), "}}"...)
}

// sglangFinish appends SGLang's finish_reason of the simulator's finish
// reason for n tokens: {"type": "length", "length": n} or {"type":
// "stop", "matched": EOS id}.
func sglangFinish(b []byte, finish string, n int) []byte {
	if finish == "stop" {
		return append(b, `{"type":"stop","matched":151645}`...)
	}
	b = append(b, `{"type":"length","length":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '}')
}

// sglangMeta appends meta_info for n tokens so far; finish is set on the
// last output.
func sglangMeta(b []byte, j *job, n int, finish bool) []byte {
	b = append(b, `,"meta_info":{"id":`...)
	b = append(b, jsonString(j.id)...)
	b = append(b, `,"finish_reason":`...)
	if finish {
		b = sglangFinish(b, j.finish, n)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(j.promptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, `,"cached_tokens":0}`...)
}

func (sglang) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	b := append([]byte(`{"text":`), jsonString(string(g.text(nil, j.seq.target)))...)
	return append(sglangMeta(b, j, j.seq.target, true), '}')
}

func (sglang) newEncoder(bw *bufio.Writer, j *job) encoder {
	return &sglangEncoder{sseWriter: sseWriter{bw: bw, pings: j.kind == FaultPings}, wordGen: newWordGen(j.seed()), j: j,
		noDone: j.kind == FaultNoDone}
}

// sglangEncoder writes /generate's stream: an event per chunk with the
// whole text so far, the chunk's output_ids and meta_info (the finish
// reason on the last), then "data: [DONE]".
type sglangEncoder struct {
	chunkEvents
	sseWriter
	wordGen
	j      *job
	noDone bool
	sent   int
	text   []byte // the text so far, as JSON string contents
	lineBuf
}

func (e *sglangEncoder) tokens(n int, last, pad, badUTF8 bool) {
	e.pre()
	b := append(e.line[:0], "data: {"...)
	b = appendPadding(b, pad)
	ids := make([]int, n)
	for i := range n {
		ids[i] = e.nextID()
		w := words[ids[i]]
		if i == 0 && badUTF8 {
			w = "\xff\xfe"
		}
		e.text = append(append(e.text, ' '), w...)
	}
	e.sent += n
	b = append(b, `"text":"`...)
	b = append(b, e.text...)
	b = append(b, `","output_ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	b = append(b, ']')
	b = sglangMeta(b, e.j, e.sent, last)
	b = append(b, "}\n\n"...)
	e.write(e.bw, b)
}

// tail writes [DONE], unless FaultNoDone.
func (e *sglangEncoder) tail() {
	if !e.noDone {
		e.pre()
		e.bw.WriteString("data: [DONE]\n\n")
	}
}

func (e *sglangEncoder) malformed() {
	e.bw.WriteString(`data: {"text":"` + string(e.text) + ` broken` + "\n\n")
}

// errorEvent writes SGLang's mid-stream error, then [DONE], as
// generate_request does on a ValueError.
func (e *sglangEncoder) errorEvent(message string) {
	e.bw.WriteString("data: ")
	e.bw.Write(sglangErrorJSON(message))
	e.bw.WriteString("\n\ndata: [DONE]\n\n")
}
