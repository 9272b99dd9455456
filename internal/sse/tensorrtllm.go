package sse

// TRTEvent is what a benchmark needs from one event of Triton's generate
// extension stream, POST /v2/models/{model}/generate_stream, as TensorRT-LLM's
// ensemble answers it (Triton docs/protocol/extension_generate.md;
// tensorrtllm_backend docs): {"model_name", "model_version",
// "sequence_end", "sequence_id", "sequence_start", "text_output": CHUNK,
// ...} per response, with text_output a delta; or an error object
// {"error": MESSAGE}. Byte-slice fields alias the data passed to Decode and
// hold raw JSON string contents, escapes intact; they are nil when the
// field is absent, null or not a string.
type TRTEvent struct {
	// TextOutput is this response's text (a delta when streamed).
	TextOutput []byte

	// Error is set for a top-level "error" string or object; ErrorMessage
	// is the string (or the object's message), raw.
	Error        bool
	ErrorMessage []byte
}

// Token reports whether the event is a token event: its text_output is
// not empty.
func (e *TRTEvent) Token() bool { return len(e.TextOutput) > 0 }

// Decode validates data as one JSON document and fills e from it. It does
// not allocate unless data is malformed. On error e is partly filled.
func (e *TRTEvent) Decode(data []byte) error {
	*e = TRTEvent{}
	return decode(data, e)
}

// TRTEvent's contexts and fields (after ctxRoot and fieldNone).
const (
	trtError uint8 = iota + ctxRoot + 1
)

const (
	trtText uint8 = iota + fieldNone + 1
	trtErrorField
	trtErrorMessage
)

var _ sink = (*TRTEvent)(nil)

func (e *TRTEvent) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "text_output":
			return ctxOther, trtText
		case "error":
			return trtError, trtErrorField
		}
	case trtError:
		if string(key) == "message" {
			return ctxOther, trtErrorMessage
		}
	}
	return ctxOther, fieldNone
}

func (e *TRTEvent) element(uint8, int) uint8 { return ctxOther }

func (e *TRTEvent) reset(_, field uint8) {
	switch field {
	case trtText:
		e.TextOutput = nil
	case trtErrorField:
		e.Error, e.ErrorMessage = false, nil
	case trtErrorMessage:
		e.ErrorMessage = nil
	}
}

func (e *TRTEvent) object(field uint8) {
	if field == trtErrorField {
		e.Error = true
	}
}

func (e *TRTEvent) setString(field uint8, raw []byte) {
	switch field {
	case trtText:
		e.TextOutput = raw
	case trtErrorField:
		e.Error, e.ErrorMessage = true, raw
	case trtErrorMessage:
		e.ErrorMessage = raw
	}
}

func (e *TRTEvent) setNumber(uint8, []byte, bool) {}

func (e *TRTEvent) setBool(uint8, bool) {}
