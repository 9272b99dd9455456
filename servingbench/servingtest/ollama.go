package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// ollama is Ollama's native API, POST /api/generate (chat false) and POST
// /api/chat (chat true), streamed as application/x-ndjson. Shapes from
// ollama v0.33.0-rc2's api/types.go (GenerateResponse, ChatResponse,
// Metrics) and server/routes.go (GenerateHandler, ChatHandler,
// streamResponse):
// https://github.com/ollama/ollama/blob/v0.33.0-rc2/server/routes.go
type ollama struct{ chat bool }

func (ollama) protocol() Protocol { return ProtocolOllama }

func (a ollama) endpoint() string { return route(a.chat, "/api/chat", "/api/generate") }

// streamContentType is the Content-Type of the streamed response:
// streamResponse's "application/x-ndjson".
func (ollama) streamContentType() string { return "application/x-ndjson" }

// ollamaRequest is the part of a request the simulator reads. stream
// defaults to true in Ollama.
type ollamaRequest struct {
	Prompt   *string       `json:"prompt"`
	Messages []chatMessage `json:"messages"`
	Stream   *bool         `json:"stream"`
	Options  struct {
		NumPredict *int `json:"num_predict"`
	} `json:"options"`
}

// parse reads a request: the prompt, or the messages' contents joined with
// "\n", and options.num_predict, which the simulator requires to be >= 1
// (Ollama's default, -1, is no bound). The model name, the template, raw,
// think and the other options are not simulated.
func (a ollama) parse(body []byte, _ string) (*call, *apiError) {
	var req ollamaRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, invalidRequest("%v", err)
	}
	var prompt string
	var msgs []servingbench.Message
	if a.chat {
		p, m, apiErr := chatPrompt(req.Messages)
		if apiErr != nil {
			return nil, invalidRequest("%s", apiErr.message)
		}
		prompt, msgs = p, m
	} else if req.Prompt != nil {
		prompt = *req.Prompt
	}
	n := req.Options.NumPredict
	switch {
	case n == nil:
		return nil, invalidRequest("options.num_predict is required by the simulated server")
	case *n <= 0:
		return nil, invalidRequest("options.num_predict must be at least 1 in the simulated server, got %d", *n)
	}
	stream := req.Stream == nil || *req.Stream
	return &call{chat: a.chat, prompt: prompt, messages: msgs, maxTokens: *n, stream: stream, includeUsage: true}, nil
}

func (ollama) tooLong(kv, prompt, maxTokens int) *apiError {
	return invalidRequest("requested context length (%d tokens) exceeds the available context (%d tokens)", prompt+maxTokens, kv)
}

// writeError writes Ollama's error body, {"error": MESSAGE}, as
// application/json (gin's c.JSON).
func (ollama) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	w.Write(ollamaErrorJSON(e.message))
}

func ollamaErrorJSON(message string) []byte {
	return append(append([]byte(`{"error":`), jsonString(message)...), "}\n"...)
}

// open appends a line's opening: model and created_at.
func (a ollama) open(b []byte, j *job) []byte {
	b = append(b, `{"model":`...)
	b = append(b, jsonString(j.srv.model.Name)...)
	b = append(b, `,"created_at":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `",`...)
}

// text appends the text member: "response" or chat's "message".
func (a ollama) text(b []byte, content []byte) []byte {
	if a.chat {
		b = append(b, `"message":{"role":"assistant","content":`...)
		b = append(b, content...)
		return append(b, `},`...)
	}
	b = append(b, `"response":`...)
	b = append(b, content...)
	return append(b, ',')
}

// final appends the done line of j: done_reason, context (generate
// only), the durations in nanoseconds and the counts; content is the
// whole text when not streamed.
func (a ollama) final(b []byte, j *job, content []byte) []byte {
	n, p := j.seq.target, j.promptTokens
	b = a.open(b, j)
	b = a.text(b, content)
	b = append(b, `"done":true,"done_reason":"`...)
	b = append(b, j.finish...)
	b = append(b, '"')
	if !a.chat {
		b = append(b, `,"context":[`...)
		for i := range p + n {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(i+1), 10)
		}
		b = append(b, ']')
	}
	admitted, first, last := j.ent.times()
	if first.IsZero() { // not streamed: the text comes at once, now
		first, last = j.firstToken, time.Now()
	}
	for _, m := range []struct {
		key string
		v   int64
	}{
		{"total_duration", int64(last.Sub(admitted))}, {"load_duration", 0},
		{"prompt_eval_count", int64(p)}, {"prompt_eval_duration", int64(first.Sub(admitted))},
		{"eval_count", int64(n)}, {"eval_duration", int64(last.Sub(first))},
	} {
		if m.v == 0 {
			continue // omitempty, as in api.Metrics
		}
		b = append(b, `,"`+m.key+`":`...)
		b = strconv.AppendInt(b, m.v, 10)
	}
	return append(b, '}')
}

func (a ollama) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	return append(a.final(nil, j, jsonString(string(g.text(nil, j.seq.target)))), '\n')
}

func (a ollama) newEncoder(bw *bufio.Writer, j *job) encoder {
	return &ollamaEncoder{bw: bw, wordGen: newWordGen(j.seed()), a: a, j: j}
}

// ollamaEncoder writes the NDJSON stream: a line per token with its text
// and "done": false, then the done line with the counts: the stream's end.
// NDJSON has no comments, so there are no pings (FaultPings does not
// apply).
type ollamaEncoder struct {
	tokenEvents
	bw *bufio.Writer
	wordGen
	a ollama
	j *job
	lineBuf
}

// tokens writes one line of one token (n is 1).
func (e *ollamaEncoder) tokens(n int, last, pad, badUTF8 bool) {
	eachToken(n, last, pad, badUTF8, e.token)
}

func (e *ollamaEncoder) token(_, pad, badUTF8 bool) {
	text := e.nextWord()
	if badUTF8 {
		text = "\xff\xfe"
	}
	b := e.a.open(e.line[:0], e.j)
	b = appendPadding(b, pad)
	b = e.a.text(b, []byte(`" `+text+`"`))
	b = append(b, `"done":false}`+"\n"...)
	e.write(e.bw, b)
}

func (e *ollamaEncoder) tail() {
	b := e.a.final(e.line[:0], e.j, []byte(`""`))
	e.bw.Write(append(b, '\n'))
}

func (e *ollamaEncoder) malformed() {
	b := e.a.open(e.line[:0], e.j)
	if e.a.chat {
		b = append(b, `"message":{"role":"assistant","content":"broken`+"\n"...)
	} else {
		b = append(b, `"response":"broken`+"\n"...)
	}
	e.bw.Write(b)
}

// errorEvent writes streamResponse's mid-stream error line, {"error":
// MESSAGE}.
func (e *ollamaEncoder) errorEvent(message string) { e.bw.Write(ollamaErrorJSON(message)) }
