package servingbench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Completions streams requests to an OpenAI-compatible /v1/completions
// endpoint (vLLM, llama.cpp, SGLang, TGI...). The body is
//
//	{"model": M, "prompt": P, "max_tokens": N, "stream": true,
//	 "stream_options": {"include_usage": true}, ...}
//
// with "ignore_eos", "temperature", "top_p" and "top_k" only when set in
// the OpenAIConfig and OpenAIConfig.ExtraBody merged last. max_tokens is
// omitted when Request.MaxTokens is 0.
//
// A request succeeds when the response is HTTP 200 with Content-Type
// text/event-stream, every data event is well-formed JSON without an error
// object (and no llama.cpp "error:" event arrives), the stream is complete
// and at least one token event arrived. Data events with empty data are
// skipped. A stream is complete at "data: [DONE]", or when the body ends at
// an event boundary after a finish_reason or usage chunk (Result.NoDone;
// TGI before 2024-07, llama.cpp's chat endpoint before 2024-09 and others
// sent no [DONE]); with OpenAIConfig.RequireDone only [DONE] completes it.
// A body that ends before either is a failure (*EndError, "stream ended
// after N tokens without finish_reason"). Each failure is a typed error in
// Result.Err (see ErrorReason). A request that failed on a pooled
// connection before any response byte is resent once (Result.Resent; see
// the package documentation).
//
// Token events are data events whose choices[0] carries non-empty text
// (text, delta.content or delta.reasoning_content); unlike vLLM v0.9.1,
// role-only, finish-only and empty chunks are not events. All events
// decoded from one read of the body share the time of that read.
//
// Output tokens come from usage.completion_tokens (SourceUsage), else the
// Tokenizer's count of the text (SourceTokenizer), else the number of token
// events (SourceEvents). Input tokens come from usage.prompt_tokens
// (SourceUsage); when absent they are left at SourceNone for the runner.
//
// A Completions is safe for concurrent use.
type Completions struct{ o *openAI }

var _ Client = (*Completions)(nil)

// NewCompletions validates cfg and returns a completions client.
func NewCompletions(cfg OpenAIConfig) (*Completions, error) {
	o, err := newOpenAI(cfg, "/v1/completions", kindCompletions)
	if err != nil {
		return nil, err
	}
	return &Completions{o: o}, nil
}

// Send sends req and measures it into res (see Client).
func (c *Completions) Send(ctx context.Context, req *Request, res *Result) { c.o.send(ctx, req, res) }

// Prewarm opens up to n keep-alive connections ahead of a run with n
// concurrent GET BaseURL/v1/models requests (404 is accepted), within
// 1 s, or the smaller of RequestTimeout and StreamIdleTimeout when shorter;
// the connections not open by then are opened by the requests.
func (c *Completions) Prewarm(ctx context.Context, n int) error { return c.o.prewarm(ctx, n) }

// Close closes the client's idle connections.
func (c *Completions) Close() { c.o.close() }

type payloadKind uint8

const (
	kindCompletions payloadKind = iota
	kindChat
)

// payload renders request bodies: the fixed members are encoded once, the
// prompt and max tokens are appended per request.
type payload struct {
	items      []bodyItem
	promptOpen string // `"prompt":` or `"messages":[{"role":"user","content":`
	promptEnd  string
	maxKey     string // `"max_tokens":` or `"max_completion_tokens":`
}

type bodyItem struct {
	key  string
	raw  []byte // `"key":value`; nil for a per-request hole
	hole uint8
}

const (
	holeNone uint8 = iota
	holePrompt
	holeMax
)

func newPayload(cfg *OpenAIConfig, kind payloadKind) (*payload, error) {
	p := &payload{promptOpen: `"prompt":`, maxKey: `"max_tokens":`}
	promptKey, maxKey := "prompt", "max_tokens"
	if kind == kindChat {
		p.promptOpen, p.promptEnd = `"messages":[{"role":"user","content":`, `}]`
		p.maxKey = `"max_completion_tokens":`
		promptKey, maxKey = "messages", "max_completion_tokens"
	}
	set := func(key string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("servingbench: OpenAIConfig: encoding %q: %v", key, err)
		}
		item := bodyItem{key: key, raw: append(appendJSONString(nil, key), append([]byte{':'}, raw...)...)}
		if i := slices.IndexFunc(p.items, func(it bodyItem) bool { return it.key == key }); i >= 0 {
			p.items[i] = item // ExtraBody replaces the client's own member
			return nil
		}
		p.items = append(p.items, item)
		return nil
	}
	p.items = []bodyItem{{key: "model"}, {key: promptKey, hole: holePrompt}, {key: maxKey, hole: holeMax}}
	p.items[0].raw = append([]byte(`"model":`), appendJSONString(nil, cfg.Model)...)
	fixed := []struct {
		key string
		v   any
		on  bool
	}{
		{"stream", true, true},
		{"stream_options", map[string]bool{"include_usage": true}, true},
		{"ignore_eos", true, cfg.IgnoreEOS},
		{"temperature", cfg.Temperature, cfg.Temperature != nil},
		{"top_p", cfg.TopP, cfg.TopP != nil},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	}
	for _, f := range fixed {
		if f.on {
			if err := set(f.key, f.v); err != nil {
				return nil, err
			}
		}
	}
	keys := make([]string, 0, len(cfg.ExtraBody))
	for k := range cfg.ExtraBody {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := set(k, cfg.ExtraBody[k]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// append renders the body of req after dst.
func (p *payload) append(dst []byte, req *Request) []byte {
	dst = append(dst, '{')
	first := true
	for _, it := range p.items {
		if it.hole == holeMax && req.MaxTokens <= 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		switch it.hole {
		case holePrompt:
			dst = append(dst, p.promptOpen...)
			dst = appendJSONString(dst, req.Prompt)
			dst = append(dst, p.promptEnd...)
		case holeMax:
			dst = append(dst, p.maxKey...)
			dst = strconv.AppendInt(dst, int64(req.MaxTokens), 10)
		default:
			dst = append(dst, it.raw...)
		}
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD
// as with encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
