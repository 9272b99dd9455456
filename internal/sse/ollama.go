package sse

// OllamaEvent is what a benchmark needs from one line of Ollama's native
// NDJSON streams (ollama's api/types.go, server/routes.go): from POST
// /api/generate, {"model", "created_at", "response": TEXT, "done": false}
// per chunk; from POST /api/chat, {"model", "created_at", "message":
// {"role": "assistant", "content": TEXT}, "done": false}; then one line
// with "done": true, "done_reason" and the Metrics (prompt_eval_count,
// eval_count, durations); a failure is a bare {"error": MESSAGE} line.
// With "think" on, the thinking text comes as "thinking" (generate) or
// message.thinking (chat). Byte-slice fields alias the data passed to
// Decode and hold raw JSON string contents, escapes intact; they are nil
// when the field is absent, null or not a string.
type OllamaEvent struct {
	// Response is /api/generate's text; Content is /api/chat's
	// message.content.
	Response []byte
	Content  []byte
	// Thinking is generate's "thinking", MessageThinking chat's
	// message.thinking: the model's reasoning, apart from the answer.
	Thinking        []byte
	MessageThinking []byte
	// Done is set on the final line ("done": true).
	Done bool
	// DoneReason is "stop", "length" (or "load", "unload" on the model
	// management calls).
	DoneReason []byte
	// Counts, valid when the matching Has flag is set: prompt_eval_count
	// and eval_count. Ollama omits a count of 0 (omitempty).
	HasPromptEvalCount bool
	HasEvalCount       bool
	PromptEvalCount    int
	EvalCount          int

	// Error is set for a top-level "error" string or object;
	// ErrorMessage is the string, or the object's "message", raw.
	Error        bool
	ErrorMessage []byte
}

// Text is the answer text of the line: Content for chat, Response
// otherwise. Thinking is not part of it.
func (e *OllamaEvent) Text(chat bool) []byte {
	if chat {
		return e.Content
	}
	return e.Response
}

// Decode validates data as one JSON document and fills e from it. It does
// not allocate unless data is malformed. On error e is partly filled.
func (e *OllamaEvent) Decode(data []byte) error {
	*e = OllamaEvent{}
	return decode(data, e)
}

// OllamaEvent's contexts and fields (after ctxRoot and fieldNone).
const (
	ollamaMessage uint8 = iota + ctxRoot + 1
	ollamaError
)

const (
	ollamaResponse uint8 = iota + fieldNone + 1
	ollamaThinking
	ollamaMessageField
	ollamaContent
	ollamaMessageThinking
	ollamaDone
	ollamaDoneReason
	ollamaPromptEvalCount
	ollamaEvalCount
	ollamaErrorField
	ollamaErrorMessage
)

var _ sink = (*OllamaEvent)(nil)

func (e *OllamaEvent) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "response":
			return ctxOther, ollamaResponse
		case "thinking":
			return ctxOther, ollamaThinking
		case "message":
			return ollamaMessage, ollamaMessageField
		case "done":
			return ctxOther, ollamaDone
		case "done_reason":
			return ctxOther, ollamaDoneReason
		case "prompt_eval_count":
			return ctxOther, ollamaPromptEvalCount
		case "eval_count":
			return ctxOther, ollamaEvalCount
		case "error":
			return ollamaError, ollamaErrorField
		}
	case ollamaMessage:
		switch string(key) {
		case "content":
			return ctxOther, ollamaContent
		case "thinking":
			return ctxOther, ollamaMessageThinking
		}
	case ollamaError:
		if string(key) == "message" {
			return ctxOther, ollamaErrorMessage
		}
	}
	return ctxOther, fieldNone
}

func (e *OllamaEvent) element(uint8, int) uint8 { return ctxOther }

func (e *OllamaEvent) reset(_, field uint8) {
	switch field {
	case ollamaResponse:
		e.Response = nil
	case ollamaThinking:
		e.Thinking = nil
	case ollamaMessageThinking:
		e.MessageThinking = nil
	case ollamaMessageField:
		e.Content, e.MessageThinking = nil, nil
	case ollamaContent:
		e.Content = nil
	case ollamaDone:
		e.Done = false
	case ollamaDoneReason:
		e.DoneReason = nil
	case ollamaPromptEvalCount:
		e.HasPromptEvalCount, e.PromptEvalCount = false, 0
	case ollamaEvalCount:
		e.HasEvalCount, e.EvalCount = false, 0
	case ollamaErrorField:
		e.Error, e.ErrorMessage = false, nil
	case ollamaErrorMessage:
		e.ErrorMessage = nil
	}
}

func (e *OllamaEvent) object(field uint8) {
	if field == ollamaErrorField {
		e.Error = true
	}
}

func (e *OllamaEvent) setString(field uint8, raw []byte) {
	switch field {
	case ollamaResponse:
		e.Response = raw
	case ollamaThinking:
		e.Thinking = raw
	case ollamaMessageThinking:
		e.MessageThinking = raw
	case ollamaContent:
		e.Content = raw
	case ollamaDoneReason:
		e.DoneReason = raw
	case ollamaErrorField:
		e.Error, e.ErrorMessage = true, raw
	case ollamaErrorMessage:
		e.ErrorMessage = raw
	}
}

func (e *OllamaEvent) setNumber(field uint8, num []byte, integer bool) {
	v, ok := count(num, integer)
	switch {
	case !ok:
	case field == ollamaPromptEvalCount:
		e.HasPromptEvalCount, e.PromptEvalCount = true, v
	case field == ollamaEvalCount:
		e.HasEvalCount, e.EvalCount = true, v
	}
}

func (e *OllamaEvent) setBool(field uint8, v bool) {
	if field == ollamaDone {
		e.Done = v
	}
}
