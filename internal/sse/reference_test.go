package sse

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// referenceView decodes data with encoding/json and extracts what Chunk
// should: the oracle for tests and FuzzChunk. data must be valid JSON.
func referenceView(t testing.TB, data []byte) chunkView {
	t.Helper()
	var root any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers beyond float64's range are valid JSON
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("json.Unmarshal(%q) = %v", data, err)
	}
	v := chunkView{PromptTokens: -1, CompletionTokens: -1, ReasoningTokens: -1}
	obj, _ := root.(map[string]any)
	if obj == nil {
		return v
	}
	str := func(m map[string]any, k string) (string, bool) {
		s, ok := m[k].(string)
		return s, ok
	}
	if choices, ok := obj["choices"].([]any); ok {
		v.Choices = len(choices)
		if len(choices) > 0 {
			if c0, ok := choices[0].(map[string]any); ok {
				text, _ := str(c0, "text")
				v.FinishReason, _ = str(c0, "finish_reason")
				var content, reasoning string
				if delta, ok := c0["delta"].(map[string]any); ok {
					content, _ = str(delta, "content")
					_, hasRC := delta["reasoning_content"]
					_, hasR := delta["reasoning"]
					// The later key of the two wins in Chunk; the oracle
					// only checks the unambiguous cases.
					switch {
					case hasRC && !hasR:
						reasoning, _ = str(delta, "reasoning_content")
					case hasR && !hasRC:
						reasoning, _ = str(delta, "reasoning")
					case hasR && hasRC:
						reasoning = "\x00ambiguous"
					}
				}
				v.Text = reasoning + content + text
				v.Token = text != "" || content != "" || reasoning != ""
				v.Answer = text != "" || content != ""
				v.AnswerText = content + text
			}
		}
	}
	if usage, ok := obj["usage"].(map[string]any); ok {
		count := func(m map[string]any, k string) int {
			n, ok := m[k].(json.Number)
			if !ok {
				return -1
			}
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil || f < 0 || f >= 1e18 || f != math.Trunc(f) {
				return -1
			}
			return int(f)
		}
		v.PromptTokens = count(usage, "prompt_tokens")
		v.CompletionTokens = count(usage, "completion_tokens")
		if details, ok := usage["completion_tokens_details"].(map[string]any); ok {
			v.ReasoningTokens = count(details, "reasoning_tokens")
		}
	}
	switch e := obj["error"].(type) {
	case map[string]any:
		v.Error = true
		v.ErrorMessage, _ = str(e, "message")
	case string:
		v.Error, v.ErrorMessage = true, e
	}
	if o, _ := str(obj, "object"); o == "error" {
		v.Error = true
		if m, isErrObj := obj["error"].(map[string]any); !isErrObj || m["message"] == nil {
			if _, isErrStr := obj["error"].(string); !isErrStr {
				v.ErrorMessage, _ = str(obj, "message")
			}
		}
	}
	return v
}
