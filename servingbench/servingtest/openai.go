package servingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// openAI is the OpenAI-compatible API, completions (chat false) or chat
// completions: request.go reads its requests, chunk.go writes its chunks.
type openAI struct{ chat bool }

func (openAI) protocol() Protocol { return ProtocolOpenAI }

func (a openAI) endpoint() string { return route(a.chat, "/v1/chat/completions", "/v1/completions") }

func (a openAI) parse(body []byte, modelName string) (*call, *apiError) {
	return parseCall(body, a.chat, modelName)
}

func (openAI) tooLong(kv, prompt, maxTokens int) *apiError {
	return badRequest("max_tokens", "This model's maximum context length is %d tokens. "+
		"However, you requested %d tokens (%d in the prompt, %d in the completion).",
		kv, prompt+maxTokens, prompt, maxTokens)
}

func (openAI) writeError(w http.ResponseWriter, e *apiError) { e.write(w) }

func (a openAI) newEncoder(bw *bufio.Writer, j *job) encoder {
	m := &j.srv.model
	c := newChunker(bw, a.chat, j.id, m.Name, time.Now().Unix(), j.seed())
	c.pings = j.kind == FaultPings
	c.reason = j.finish
	c.u = usage{prompt: j.promptTokens, completion: j.seq.target}
	if r := m.Reasoning.tokens(a, j.seq.target); m.Reasoning.Tokens > 0 && a.chat {
		c.think(r, m.Reasoning.field())
		c.u.reasoning, c.u.details = r, !m.Reasoning.OmitUsage
	}
	c.finishChunk, c.usagePos = m.FinishChunk, m.Usage
	c.includeUsage = j.includeUsage
	c.noDone = j.kind == FaultNoDone
	return c
}

func (a openAI) jsonBody(j *job) []byte {
	g := newWordGen(j.seed())
	m := &j.srv.model
	r := m.Reasoning.tokens(a, j.seq.target)
	reasoning := string(g.text(nil, r))
	text := string(g.text(nil, j.seq.target-r))
	choice := map[string]any{"index": 0, "finish_reason": j.finish, "logprobs": nil}
	object := "text_completion"
	if a.chat {
		object = "chat.completion"
		msg := map[string]any{"role": "assistant", "content": text}
		if m.Reasoning.Tokens > 0 {
			msg[m.Reasoning.field()] = reasoning
		}
		choice["message"] = msg
	} else {
		choice["text"] = text
	}
	u := map[string]any{"prompt_tokens": j.promptTokens, "completion_tokens": j.seq.target,
		"total_tokens": j.promptTokens + j.seq.target}
	if a.chat && m.Reasoning.Tokens > 0 && !m.Reasoning.OmitUsage {
		u["completion_tokens_details"] = map[string]int{"reasoning_tokens": r}
	}
	body, _ := json.Marshal(map[string]any{
		"id": j.id, "object": object, "created": time.Now().Unix(), "model": j.srv.model.Name,
		"choices": []any{choice}, "usage": u,
	})
	return body
}

// jsonString renders s as a JSON string, without encoding/json's HTML
// escapes (servers in Rust and C++ write "<" as is).
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
