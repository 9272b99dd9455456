package sse

// LlamaEvent is what a benchmark needs from one event of llama.cpp's
// native POST /completion stream (tools/server/README.md): {"content",
// "tokens", "stop": false, "tokens_predicted", "tokens_evaluated", ...}
// per token, then {"content": "", "stop": true, "tokens_predicted",
// "tokens_evaluated", "stop_type", "timings", ...}; or an error object
// {"error": {"code", "message", "type"}}. (llama-server sends a mid-stream
// error as an "error:" event, which Reader.ErrorEvent flags.) Byte-slice
// fields alias the data passed to Decode and hold raw JSON string
// contents, escapes intact; they are nil when the field is absent, null or
// not a string.
type LlamaEvent struct {
	// Content is the token's text (the whole text when not streamed).
	Content []byte
	// Stop is set on the last object ("stop": true).
	Stop bool
	// StopType is "limit", "eos", "word" or "none".
	StopType []byte
	// Counts, valid when the matching Has flag is set: tokens_predicted
	// (the output so far) and tokens_evaluated (the prompt).
	HasTokensPredicted bool
	HasTokensEvaluated bool
	TokensPredicted    int
	TokensEvaluated    int

	// Error is set for a top-level "error" object or string; ErrorMessage
	// is its message, raw.
	Error        bool
	ErrorMessage []byte
}

// Token reports whether the event is a token event: its content is not
// empty.
func (e *LlamaEvent) Token() bool { return len(e.Content) > 0 }

// Decode validates data as one JSON document and fills e from it. It does
// not allocate unless data is malformed. On error e is partly filled.
func (e *LlamaEvent) Decode(data []byte) error {
	*e = LlamaEvent{}
	return decode(data, e)
}

// LlamaEvent's contexts and fields (after ctxRoot and fieldNone).
const (
	llamaError uint8 = iota + ctxRoot + 1
)

const (
	llamaContent uint8 = iota + fieldNone + 1
	llamaStop
	llamaStopType
	llamaPredicted
	llamaEvaluated
	llamaErrorField
	llamaErrorMessage
)

var _ sink = (*LlamaEvent)(nil)

func (e *LlamaEvent) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "content":
			return ctxOther, llamaContent
		case "stop":
			return ctxOther, llamaStop
		case "stop_type":
			return ctxOther, llamaStopType
		case "tokens_predicted":
			return ctxOther, llamaPredicted
		case "tokens_evaluated":
			return ctxOther, llamaEvaluated
		case "error":
			return llamaError, llamaErrorField
		}
	case llamaError:
		if string(key) == "message" {
			return ctxOther, llamaErrorMessage
		}
	}
	return ctxOther, fieldNone
}

func (e *LlamaEvent) element(uint8, int) uint8 { return ctxOther }

func (e *LlamaEvent) reset(_, field uint8) {
	switch field {
	case llamaContent:
		e.Content = nil
	case llamaStop:
		e.Stop = false
	case llamaStopType:
		e.StopType = nil
	case llamaPredicted:
		e.HasTokensPredicted, e.TokensPredicted = false, 0
	case llamaEvaluated:
		e.HasTokensEvaluated, e.TokensEvaluated = false, 0
	case llamaErrorField:
		e.Error, e.ErrorMessage = false, nil
	case llamaErrorMessage:
		e.ErrorMessage = nil
	}
}

func (e *LlamaEvent) object(field uint8) {
	if field == llamaErrorField {
		e.Error = true
	}
}

func (e *LlamaEvent) setString(field uint8, raw []byte) {
	switch field {
	case llamaContent:
		e.Content = raw
	case llamaStopType:
		e.StopType = raw
	case llamaErrorField:
		e.Error, e.ErrorMessage = true, raw
	case llamaErrorMessage:
		e.ErrorMessage = raw
	}
}

func (e *LlamaEvent) setNumber(field uint8, num []byte, integer bool) {
	v, ok := count(num, integer)
	switch {
	case !ok:
	case field == llamaPredicted:
		e.HasTokensPredicted, e.TokensPredicted = true, v
	case field == llamaEvaluated:
		e.HasTokensEvaluated, e.TokensEvaluated = true, v
	}
}

func (e *LlamaEvent) setBool(field uint8, v bool) {
	if field == llamaStop {
		e.Stop = v
	}
}
