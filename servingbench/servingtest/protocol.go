package servingtest

import (
	"bufio"
	"fmt"
	"net/http"
)

// Protocol is an API the server speaks. One server speaks every protocol
// at once, each on its own routes (as MindIE Server and others expose
// several); the route of a request selects its protocol (Record.Protocol).
type Protocol uint8

const (
	// ProtocolOpenAI: POST /v1/completions and /v1/chat/completions.
	ProtocolOpenAI Protocol = iota
	// ProtocolTGI: Hugging Face TGI's native POST /generate_stream (SSE)
	// and POST /generate (one JSON body).
	ProtocolTGI
	// ProtocolLlamaCpp: llama.cpp's native POST /completion.
	ProtocolLlamaCpp
	// ProtocolTensorRTLLM: Triton's POST /v2/models/{model}/generate_stream
	// as TensorRT-LLM's ensemble answers it.
	ProtocolTensorRTLLM
	// ProtocolSGLang: SGLang's native POST /generate.
	ProtocolSGLang
	// ProtocolOllama: Ollama's native POST /api/generate and /api/chat
	// (NDJSON).
	ProtocolOllama

	numProtocols
)

func (p Protocol) String() string {
	switch p {
	case ProtocolOpenAI:
		return "openai"
	case ProtocolTGI:
		return "tgi"
	case ProtocolLlamaCpp:
		return "llama.cpp"
	case ProtocolTensorRTLLM:
		return "tensorrt-llm"
	case ProtocolSGLang:
		return "sglang"
	case ProtocolOllama:
		return "ollama"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// Protocols returns every protocol the server speaks.
func Protocols() []Protocol {
	return []Protocol{ProtocolOpenAI, ProtocolTGI, ProtocolLlamaCpp, ProtocolTensorRTLLM, ProtocolSGLang, ProtocolOllama}
}

// api is one protocol on one route: how a request body is read, how the
// response is written (streamed or whole) and how an error looks. The
// engine, the timing, the ground truth and the faults are the same for
// every protocol.
type api interface {
	protocol() Protocol
	// endpoint is the route's path, for Record.Endpoint.
	endpoint() string
	// parse decodes and validates a request body.
	parse(body []byte, modelName string) (*call, *apiError)
	// tooLong is the error for a request that can never fit the KV cache
	// of kv tokens.
	tooLong(kv, prompt, maxTokens int) *apiError
	// newEncoder returns the encoder of j's streamed response.
	newEncoder(bw *bufio.Writer, j *job) encoder
	// jsonBody renders j's whole response when it is not streamed.
	jsonBody(j *job) []byte
	// writeError answers with e in the protocol's error shape.
	writeError(w http.ResponseWriter, e *apiError)
}

// encoder writes the events of one streamed response into a
// bufio.Writer, from pre-rendered bytes where it matters (no
// encoding/json on the token path). When the request has FaultPings, an
// encoder writes a ": ping" comment before every event.
type encoder interface {
	// oneTokenAnEvent reports whether an event carries one token only
	// (TGI, llama.cpp): the handler then writes a chunk of
	// Model.TokensPerChunk tokens as that many events, with one flush.
	oneTokenAnEvent() bool
	// tokens writes one token event of n tokens; last marks the
	// response's last tokens. pad adds FaultHugeLine's 2 MiB padding
	// field; badUTF8 makes the first token's text invalid UTF-8
	// (FaultInvalidUTF8).
	tokens(n int, last, pad, badUTF8 bool)
	// tail writes what follows the last token event: the finish reason,
	// the counts and the completion marker, as far as the protocol has
	// them apart from the last token event.
	tail()
	// malformed writes a token event whose JSON is cut short
	// (FaultMalformedJSON).
	malformed()
	// errorEvent writes a server error inside the stream, as the
	// protocol's servers send one (FaultErrorEvent).
	errorEvent(message string)
}

// AppliesTo reports whether a fault of kind k can be injected into a
// response of protocol p. Every fault applies to every protocol but
// FaultNoDone, which applies to OpenAI and SGLang (whose streams end with
// data: [DONE] after the finish reason) only: TGI's /generate_stream and
// llama.cpp's /completion have no completion marker apart from their
// last event, which carries the finish reason and the counts, so a stream
// without it is a stream cut short (FaultTruncate); Triton's
// generate_stream (TensorRT-LLM) has no marker at all. On that protocol
// FaultTruncate is injected but no client can reveal it: a body ended
// cleanly at an event boundary is all a complete stream is, so the
// request succeeds with fewer tokens (Record.OutputTokens is the truth
// the client is measured against). FaultPings does not apply to Ollama:
// NDJSON has no comment or keep-alive syntax (a line is a JSON object),
// and Ollama sends none. A fault that does not apply is not injected:
// the request is served normally and recorded with FaultNone.
func (k FaultKind) AppliesTo(p Protocol) bool {
	if k == FaultNoDone {
		return p == ProtocolOpenAI || p == ProtocolSGLang
	}
	if k == FaultPings && p == ProtocolOllama {
		return false
	}
	return k > FaultNone && k < numFaultKinds && p < numProtocols
}

// route is the path of a protocol with two routes: alt's when alt is set
// (chat, TGI's stream), else main's.
func route(alt bool, altPath, mainPath string) string {
	if alt {
		return altPath
	}
	return mainPath
}

// invalidRequest is a validation error answered with HTTP 400 and the
// protocol's error shape, the message as the server words it (Triton's,
// SGLang's and Ollama's have no error type).
func invalidRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...), validation: true}
}

// chunkEvents and tokenEvents give an encoder its oneTokenAnEvent: an
// event holds a chunk's tokens (OpenAI, TensorRT-LLM, SGLang), or one
// token each (TGI, llama.cpp, Ollama).
type (
	chunkEvents struct{}
	tokenEvents struct{}
)

func (chunkEvents) oneTokenAnEvent() bool { return false }
func (tokenEvents) oneTokenAnEvent() bool { return true }

// lineBuf is the buffer an encoder renders its events in, reused from
// one event to the next unless an event grew it past 64 KiB
// (FaultHugeLine's), which is let go.
type lineBuf struct{ line []byte }

// write writes the event b, rendered in l.line[:0], and keeps its array.
func (l *lineBuf) write(bw *bufio.Writer, b []byte) {
	bw.Write(b)
	if len(b) < 64<<10 {
		l.line = b
	}
}

// appendPadding appends FaultHugeLine's padding member, "padding":
// 2 MiB of x and a comma, when pad is set: the event's first member.
func appendPadding(b []byte, pad bool) []byte {
	if !pad {
		return b
	}
	b = append(b, `"padding":"`...)
	b = append(b, padding()...)
	return append(b, `",`...)
}

// eachToken writes a chunk of n tokens as n events of one token (TGI,
// llama.cpp, Ollama): token is told whether its event is the response's
// last, and the chunk's fault marks (pad, badUTF8) go to its first event.
func eachToken(n int, last, pad, badUTF8 bool, token func(last, pad, badUTF8 bool)) {
	for i := range n {
		token(last && i == n-1, pad && i == 0, badUTF8 && i == 0)
	}
}

// sseWriter is what the encoders share: the writer and the pings.
type sseWriter struct {
	bw    *bufio.Writer
	pings bool
}

// pre precedes every event: a comment line when the request has
// FaultPings.
func (s *sseWriter) pre() {
	if s.pings {
		s.bw.WriteString(": ping\n\n")
	}
}

// writeText writes n generated tokens, " word" each, from g; with badUTF8
// the first one is " \xff\xfe" (the words are drawn all the same, so the
// rest of the text does not change).
func (s *sseWriter) writeText(g *wordGen, n int, badUTF8 bool) {
	for i := range n {
		w := g.nextWord()
		if i == 0 && badUTF8 {
			w = " \xff\xfe"
		} else {
			s.bw.WriteByte(' ')
		}
		s.bw.WriteString(w)
	}
}
