package sse

// TGIEvent is what a benchmark needs from one event of Hugging Face TGI's
// POST /generate_stream: a StreamResponse {"index", "token": {"id",
// "text", "logprob", "special"}, "generated_text", "details":
// {"finish_reason", "generated_tokens", "seed", "input_length"}}, or an
// ErrorResponse {"error": MESSAGE, "error_type": TYPE} (TGI's
// router/src/lib.rs). Byte-slice fields alias the data passed to Decode
// and hold raw JSON string contents, escapes intact; they are nil when the
// field is absent, null or not a string.
type TGIEvent struct {
	// Text is token.text; Special is token.special (an end-of-sequence or
	// other special token, whose text TGI leaves out of generated_text).
	Text    []byte
	Special bool
	// Last is set for the stream's last event: generated_text is a string
	// or details an object (TGI sends both on the last token's event only).
	Last bool
	// FinishReason is details.finish_reason.
	FinishReason []byte
	// Counts from details, valid when the matching Has flag is set:
	// generated_tokens (the output) and input_length (the prompt, TGI 2.3
	// and later).
	HasGeneratedTokens bool
	HasInputLength     bool
	GeneratedTokens    int
	InputLength        int

	// Error is set for an ErrorResponse: a top-level "error" string (or an
	// error object, as a proxy may send); ErrorMessage is its message, raw.
	Error        bool
	ErrorMessage []byte

	generatedText, details bool
}

// Token reports whether the event is a token event: its token carries text
// and is not special.
func (e *TGIEvent) Token() bool { return len(e.Text) > 0 && !e.Special }

// Decode validates data as one JSON document and fills e from it. It does
// not allocate unless data is malformed. On error e is partly filled.
func (e *TGIEvent) Decode(data []byte) error {
	*e = TGIEvent{}
	err := decode(data, e)
	e.Last = e.generatedText || e.details
	return err
}

// TGIEvent's contexts and fields (after ctxRoot and fieldNone).
const (
	tgiToken uint8 = iota + ctxRoot + 1
	tgiDetails
	tgiError
)

const (
	tgiText uint8 = iota + fieldNone + 1
	tgiSpecial
	tgiGeneratedText
	tgiDetailsField
	tgiFinish
	tgiGeneratedTokens
	tgiInputLength
	tgiErrorField
	tgiErrorMessage
)

var _ sink = (*TGIEvent)(nil)

func (e *TGIEvent) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "token":
			return tgiToken, fieldNone
		case "generated_text":
			return ctxOther, tgiGeneratedText
		case "details":
			return tgiDetails, tgiDetailsField
		case "error":
			return tgiError, tgiErrorField
		}
	case tgiToken:
		switch string(key) {
		case "text":
			return ctxOther, tgiText
		case "special":
			return ctxOther, tgiSpecial
		}
	case tgiDetails:
		switch string(key) {
		case "finish_reason":
			return ctxOther, tgiFinish
		case "generated_tokens":
			return ctxOther, tgiGeneratedTokens
		case "input_length":
			return ctxOther, tgiInputLength
		}
	case tgiError:
		if string(key) == "message" {
			return ctxOther, tgiErrorMessage
		}
	}
	return ctxOther, fieldNone
}

func (e *TGIEvent) element(uint8, int) uint8 { return ctxOther }

func (e *TGIEvent) reset(ctx, field uint8) {
	switch field {
	case tgiText:
		e.Text = nil
	case tgiSpecial:
		e.Special = false
	case tgiGeneratedText:
		e.generatedText = false
	case tgiDetailsField:
		e.details = false
	case tgiFinish:
		e.FinishReason = nil
	case tgiGeneratedTokens:
		e.HasGeneratedTokens, e.GeneratedTokens = false, 0
	case tgiInputLength:
		e.HasInputLength, e.InputLength = false, 0
	case tgiErrorField:
		e.Error, e.ErrorMessage = false, nil
	case tgiErrorMessage:
		e.ErrorMessage = nil
	}
	switch ctx {
	case tgiToken:
		e.Text, e.Special = nil, false
	case tgiDetails:
		e.FinishReason = nil
		e.HasGeneratedTokens, e.GeneratedTokens = false, 0
		e.HasInputLength, e.InputLength = false, 0
	}
}

func (e *TGIEvent) object(field uint8) {
	switch field {
	case tgiDetailsField:
		e.details = true
	case tgiErrorField:
		e.Error = true
	}
}

func (e *TGIEvent) setString(field uint8, raw []byte) {
	switch field {
	case tgiText:
		e.Text = raw
	case tgiGeneratedText:
		e.generatedText = true
	case tgiFinish:
		e.FinishReason = raw
	case tgiErrorField:
		e.Error, e.ErrorMessage = true, raw
	case tgiErrorMessage:
		e.ErrorMessage = raw
	}
}

func (e *TGIEvent) setNumber(field uint8, num []byte, integer bool) {
	v, ok := count(num, integer)
	switch {
	case !ok:
	case field == tgiGeneratedTokens:
		e.HasGeneratedTokens, e.GeneratedTokens = true, v
	case field == tgiInputLength:
		e.HasInputLength, e.InputLength = true, v
	}
}

func (e *TGIEvent) setBool(field uint8, v bool) {
	if field == tgiSpecial {
		e.Special = v
	}
}
