package sse

// SGLangEvent is what a benchmark needs from one event of SGLang's native
// POST /generate stream (python/sglang/srt/entrypoints/http_server.py,
// generate_request; managers/tokenizer_manager.py, _handle_batch_output):
// {"text": CUMULATIVE, "output_ids": [...], "meta_info": {"id",
// "finish_reason": null | {"type": "length", "length": N} | {"type":
// "stop", "matched": ...} | {"type": "abort", "message": ...},
// "prompt_tokens", "completion_tokens", "cached_tokens", ...}}, then
// "data: [DONE]"; or an error object {"error": {"message": ...}}. The text
// is the whole output so far, not a delta. Byte-slice fields alias the
// data passed to Decode and hold raw JSON string contents, escapes intact;
// they are nil when the field is absent, null or not a string.
type SGLangEvent struct {
	// Text is the output so far (cumulative); HasText reports a "text"
	// string, empty or not.
	Text    []byte
	HasText bool
	// Finished is set when meta_info.finish_reason is an object or a
	// string (older SGLang sent the type alone); FinishType is its "type"
	// (or the string) and FinishMessage its "message" (an abort's), raw.
	Finished      bool
	FinishType    []byte
	FinishMessage []byte
	// Counts from meta_info, valid when the matching Has flag is set:
	// prompt_tokens, completion_tokens (the output so far) and
	// cached_tokens (the part of the prompt served from the prefix cache).
	HasPromptTokens, HasCompletionTokens, HasCachedTokens bool
	PromptTokens, CompletionTokens, CachedTokens          int

	// Error is set for a top-level "error" object or string; ErrorMessage
	// is its message, raw.
	Error        bool
	ErrorMessage []byte
}

// Decode validates data as one JSON document and fills e from it. It does
// not allocate unless data is malformed. On error e is partly filled.
func (e *SGLangEvent) Decode(data []byte) error {
	*e = SGLangEvent{}
	return decode(data, e)
}

// SGLangEvent's contexts and fields (after ctxRoot and fieldNone).
const (
	sglMeta uint8 = iota + ctxRoot + 1
	sglFinish
	sglError
)

const (
	sglText uint8 = iota + fieldNone + 1
	sglMetaField
	sglFinishField
	sglFinishType
	sglFinishMessage
	sglPrompt
	sglCompletion
	sglCached
	sglErrorField
	sglErrorMessage
)

var _ sink = (*SGLangEvent)(nil)

func (e *SGLangEvent) child(ctx uint8, key []byte) (uint8, uint8) {
	switch ctx {
	case ctxRoot:
		switch string(key) {
		case "text":
			return ctxOther, sglText
		case "meta_info":
			return sglMeta, sglMetaField
		case "error":
			return sglError, sglErrorField
		}
	case sglMeta:
		switch string(key) {
		case "finish_reason":
			return sglFinish, sglFinishField
		case "prompt_tokens":
			return ctxOther, sglPrompt
		case "completion_tokens":
			return ctxOther, sglCompletion
		case "cached_tokens":
			return ctxOther, sglCached
		}
	case sglFinish:
		switch string(key) {
		case "type":
			return ctxOther, sglFinishType
		case "message":
			return ctxOther, sglFinishMessage
		}
	case sglError:
		if string(key) == "message" {
			return ctxOther, sglErrorMessage
		}
	}
	return ctxOther, fieldNone
}

func (e *SGLangEvent) element(uint8, int) uint8 { return ctxOther }

func (e *SGLangEvent) reset(ctx, field uint8) {
	switch field {
	case sglText:
		e.Text, e.HasText = nil, false
	case sglFinishType:
		e.FinishType = nil
	case sglFinishMessage:
		e.FinishMessage = nil
	case sglPrompt:
		e.HasPromptTokens, e.PromptTokens = false, 0
	case sglCompletion:
		e.HasCompletionTokens, e.CompletionTokens = false, 0
	case sglCached:
		e.HasCachedTokens, e.CachedTokens = false, 0
	case sglErrorField:
		e.Error, e.ErrorMessage = false, nil
	case sglErrorMessage:
		e.ErrorMessage = nil
	}
	switch ctx { // a new value of an object field replaces the whole object
	case sglMeta:
		e.HasPromptTokens, e.PromptTokens = false, 0
		e.HasCompletionTokens, e.CompletionTokens = false, 0
		e.HasCachedTokens, e.CachedTokens = false, 0
		fallthrough
	case sglFinish:
		e.Finished, e.FinishType, e.FinishMessage = false, nil, nil
	}
}

func (e *SGLangEvent) object(field uint8) {
	switch field {
	case sglFinishField:
		e.Finished = true
	case sglErrorField:
		e.Error = true
	}
}

func (e *SGLangEvent) setString(field uint8, raw []byte) {
	switch field {
	case sglText:
		e.Text, e.HasText = raw, true
	case sglFinishField:
		e.Finished, e.FinishType = true, raw
	case sglFinishType:
		e.FinishType = raw
	case sglFinishMessage:
		e.FinishMessage = raw
	case sglErrorField:
		e.Error, e.ErrorMessage = true, raw
	case sglErrorMessage:
		e.ErrorMessage = raw
	}
}

func (e *SGLangEvent) setNumber(field uint8, num []byte, integer bool) {
	v, ok := count(num, integer)
	switch {
	case !ok:
	case field == sglPrompt:
		e.HasPromptTokens, e.PromptTokens = true, v
	case field == sglCompletion:
		e.HasCompletionTokens, e.CompletionTokens = true, v
	case field == sglCached:
		e.HasCachedTokens, e.CachedTokens = true, v
	}
}

func (e *SGLangEvent) setBool(uint8, bool) {}
