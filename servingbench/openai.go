package servingbench

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/servingbench/servingbench/internal/sse"
)

// What the OpenAI-compatible adapters (completions.go, chat.go) share: the
// configuration, the request body builder and the chunk decoder.

// OpenAIConfig configures the streaming clients (NewCompletions, NewChat
// and the native protocols' NewTGI, NewLlamaCppNative, NewTensorRTLLM,
// NewSGLangNative, NewOllama and NewOllamaChat). The zero value
// of every optional field is documented and useful.
type OpenAIConfig struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000". Required.
	BaseURL string
	// Endpoint is the path appended to BaseURL; "" means /v1/completions
	// (NewCompletions), /v1/chat/completions (NewChat), /generate_stream
	// (NewTGI), /completion (NewLlamaCppNative),
	// /v2/models/ensemble/generate_stream (NewTensorRTLLM, where a
	// "{model}" in Endpoint is replaced by the path-escaped Model),
	// /generate (NewSGLangNative), /api/generate (NewOllama) or /api/chat
	// (NewOllamaChat).
	Endpoint string
	// Model is sent as "model" (the native protocols have no such field:
	// it then names the model in the report only). Required.
	Model string
	// APIKey, when not empty, is sent as "Authorization: Bearer APIKey". It
	// never appears in errors or results: server text kept in errors (an
	// error body that echoes the request headers, say) has it masked
	// with '*'.
	APIKey string
	// MaxConcurrency sizes the connection pool: at least this many idle
	// keep-alive connections are kept. 0 means a large default (4096).
	MaxConcurrency int
	// RequestTimeout bounds a whole request, from Result.Sent to the end of
	// the stream; a request over it fails with *TimeoutError. 0 means no
	// bound.
	RequestTimeout time.Duration
	// StreamIdleTimeout fails a request (*IdleTimeoutError) when no bytes
	// arrive for this long, counted from Result.Sent (so it includes the
	// wait for the first token). 0 means no bound.
	StreamIdleTimeout time.Duration
	// RequireDone makes a stream that ends without "data: [DONE]" a
	// failure even after its finish_reason or usage chunk arrived. By
	// default such a stream is complete (Result.NoDone), as vLLM's client
	// counts it: TGI, llama.cpp's chat endpoint and others sent no [DONE]
	// for years. The native protocols' streams (NewTGI, NewLlamaCppNative)
	// end with their last event, which is their completion marker, and
	// Triton's (NewTensorRTLLM) with the body: RequireDone asks nothing
	// more of them. SGLang's (NewSGLangNative) ends with [DONE], as
	// OpenAI's.
	RequireDone bool
	// MaxLineBytes caps one SSE line or event, or one NDJSON line; 0
	// means 16 MiB.
	MaxLineBytes int
	// IgnoreEOS sends "ignore_eos": true (vLLM, llama.cpp) so the server
	// generates exactly max_tokens. TGI has no such parameter (NewTGI
	// sends vLLM's "ignore_eos_token", which TGI ignores).
	IgnoreEOS bool
	// Temperature, TopP and TopK are sent only when set.
	Temperature *float64
	TopP        *float64
	TopK        *int
	// ExtraBody is merged last into the request body, one level deep: its
	// keys replace the client's own (including prompt or max_tokens),
	// except that an object under the key of an object of the client's
	// (TGI's "parameters") is merged into it, key by key.
	ExtraBody map[string]any
	// KeepText stores the generated text in Result.Text.
	KeepText bool
	// Tokenizer is the one tokenizer token counts fall back on (count.go):
	// it counts the prompt when the server reports no prompt_tokens and
	// Request.PromptTokens is 0, and the output text when the server
	// reports no completion_tokens; when set, the text of every request is
	// accumulated (not kept unless KeepText).
	Tokenizer Tokenizer
	// Header holds headers sent with every request (the streaming
	// requests and the prewarm's), as vLLM's --header: they replace the
	// client's own of the same name (Content-Type, Accept, and the
	// Authorization of APIKey), and a Host header sets the request's host.
	// The values of secret headers (IsSecretHeader: Authorization,
	// X-Api-Key, ...) are masked in server text kept, as APIKey is. See
	// CheckHeader for what is refused.
	Header http.Header
	// TLS configures the HTTPS connections of the client's own transport
	// (and of its twin without keep-alives); it is cloned. Nil means Go's
	// defaults: the system's roots, no client certificate. TLSFiles.Config
	// builds one from PEM files. It must be nil with HTTPClient, whose
	// transport has its own.
	TLS *tls.Config
	// HTTPClient, when set, is used instead of the client's own transport;
	// MaxConcurrency then does not size anything.
	HTTPClient *http.Client
}

// Validate reports the first invalid field of c, by name.
func (c *OpenAIConfig) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		return errors.New("servingbench: OpenAIConfig.BaseURL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("servingbench: OpenAIConfig.BaseURL must be an absolute http or https URL, got %q", c.BaseURL)
	case c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "/"):
		return fmt.Errorf("servingbench: OpenAIConfig.Endpoint must start with '/', got %q", c.Endpoint)
	case c.Model == "":
		return errors.New("servingbench: OpenAIConfig.Model is required")
	case strings.ContainsAny(c.APIKey, "\r\n\x00"):
		return errors.New("servingbench: OpenAIConfig.APIKey contains a control character")
	case c.MaxConcurrency < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.MaxConcurrency must be >= 0, got %d", c.MaxConcurrency)
	case c.RequestTimeout < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.RequestTimeout must be >= 0, got %v", c.RequestTimeout)
	case c.StreamIdleTimeout < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.StreamIdleTimeout must be >= 0, got %v", c.StreamIdleTimeout)
	case c.MaxLineBytes < 0:
		return fmt.Errorf("servingbench: OpenAIConfig.MaxLineBytes must be >= 0, got %d", c.MaxLineBytes)
	case c.Temperature != nil && (math.IsNaN(*c.Temperature) || math.IsInf(*c.Temperature, 0) || *c.Temperature < 0):
		return fmt.Errorf("servingbench: OpenAIConfig.Temperature must be a finite number >= 0, got %v", *c.Temperature)
	case c.TopP != nil && (math.IsNaN(*c.TopP) || *c.TopP <= 0 || *c.TopP > 1):
		return fmt.Errorf("servingbench: OpenAIConfig.TopP must be in (0, 1], got %v", *c.TopP)
	case c.TopK != nil && *c.TopK < -1:
		return fmt.Errorf("servingbench: OpenAIConfig.TopK must be >= -1, got %d", *c.TopK)
	case c.TLS != nil && c.HTTPClient != nil:
		return errors.New("servingbench: OpenAIConfig.TLS must be nil with HTTPClient, whose transport has its own TLS configuration")
	}
	if err := CheckHeader(c.Header); err != nil {
		return fmt.Errorf("servingbench: OpenAIConfig.Header: %w", err)
	}
	for k, v := range c.ExtraBody {
		if _, err := json.Marshal(v); err != nil {
			return fmt.Errorf("servingbench: OpenAIConfig.ExtraBody[%q] cannot be encoded as JSON: %v", k, err)
		}
	}
	return nil
}

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
	// messages is set for the chat bodies (OpenAI chat, Ollama's
	// /api/chat): a request with Request.Messages sends them in place of
	// the single user message of promptOpen (appendMessages).
	messages bool
}

type bodyItem struct {
	key string
	raw []byte // `"key":value`; nil for a per-request hole or an object
	// hole is what a per-request member holds: the prompt, Request.MaxTokens
	// under key (left out when not positive: max_tokens, and Triton's
	// min_length), or an object.
	hole uint8
	sub  []bodyItem // holeObject: the object's members (TGI's parameters)
}

const (
	holeNone uint8 = iota
	holePrompt
	holeMax
	holeObject
)

// member encodes `"key":v`.
func member(key string, v any) (bodyItem, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return bodyItem{}, fmt.Errorf("servingbench: OpenAIConfig: encoding %q: %v", key, err)
	}
	return bodyItem{key: key, raw: append(appendJSONString(nil, key), append([]byte{':'}, raw...)...)}, nil
}

// setMember sets `"key":v` in items: it replaces a member of that key
// (ExtraBody replaces the client's own) or is appended.
func setMember(items []bodyItem, key string, v any) ([]bodyItem, error) {
	item, err := member(key, v)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(items, func(it bodyItem) bool { return it.key == key }); i >= 0 {
		items[i] = item
		return items, nil
	}
	return append(items, item), nil
}

// option is a member sent only when on.
type option struct {
	key string
	v   any
	on  bool
}

// setOptions sets the options that are on, in order.
func setOptions(items []bodyItem, opts []option) ([]bodyItem, error) {
	var err error
	for _, o := range opts {
		if o.on {
			if items, err = setMember(items, o.key, o.v); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// mergeExtra merges cfg.ExtraBody into items, in key order: each key
// replaces the client's member, but a JSON object under the key of an
// object of the client's (TGI's parameters) is merged into that object,
// key by key.
func mergeExtra(items []bodyItem, extra map[string]any) ([]bodyItem, error) {
	var err error
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if m, ok := extra[k].(map[string]any); ok {
			if i := slices.IndexFunc(items, func(it bodyItem) bool { return it.key == k && it.hole == holeObject }); i >= 0 {
				for _, sk := range slices.Sorted(maps.Keys(m)) {
					if items[i].sub, err = setMember(items[i].sub, sk, m[sk]); err != nil {
						return nil, err
					}
				}
				continue
			}
		}
		if items, err = setMember(items, k, extra[k]); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func newPayload(cfg *OpenAIConfig, kind payloadKind) (*payload, error) {
	p := &payload{promptOpen: `"prompt":`}
	promptKey, maxKey := "prompt", "max_tokens"
	if kind == kindChat {
		p.promptOpen, p.promptEnd = `"messages":[{"role":"user","content":`, `}]`
		p.messages = true
		promptKey, maxKey = "messages", "max_completion_tokens"
	}
	items := []bodyItem{{key: "model"}, {key: promptKey, hole: holePrompt}, {key: maxKey, hole: holeMax}}
	items[0].raw = append([]byte(`"model":`), appendJSONString(nil, cfg.Model)...)
	items, err := setOptions(items, []option{
		{"stream", true, true},
		{"stream_options", map[string]bool{"include_usage": true}, true},
		{"ignore_eos", true, cfg.IgnoreEOS},
		{"temperature", cfg.Temperature, cfg.Temperature != nil},
		{"top_p", cfg.TopP, cfg.TopP != nil},
		{"top_k", cfg.TopK, cfg.TopK != nil},
	})
	if err != nil {
		return nil, err
	}
	if p.items, err = mergeExtra(items, cfg.ExtraBody); err != nil {
		return nil, err
	}
	return p, nil
}

// append renders the body of req after dst.
func (p *payload) append(dst []byte, req *Request) []byte {
	dst = append(dst, '{')
	dst = p.appendItems(dst, p.items, req)
	return append(dst, '}')
}

// appendItems renders the members items of an object, comma-separated.
func (p *payload) appendItems(dst []byte, items []bodyItem, req *Request) []byte {
	first := true
	for _, it := range items {
		if it.hole == holeMax && req.MaxTokens <= 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		switch it.hole {
		case holePrompt:
			if p.messages && len(req.Messages) > 0 {
				dst = appendMessages(dst, req.Messages)
				break
			}
			dst = append(dst, p.promptOpen...)
			dst = appendJSONString(dst, req.Prompt)
			dst = append(dst, p.promptEnd...)
		case holeMax:
			dst = appendJSONString(dst, it.key)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, int64(req.MaxTokens), 10)
		case holeObject:
			dst = appendJSONString(dst, it.key)
			dst = append(dst, ':', '{')
			dst = p.appendItems(dst, it.sub, req)
			dst = append(dst, '}')
		default:
			dst = append(dst, it.raw...)
		}
	}
	return dst
}

// appendMessages appends a conversation turn's history as the chat
// member `"messages":[{"role":R,"content":C},...]`, each role and content
// escaped as appendJSONString escapes them, in order.
func appendMessages(dst []byte, msgs []Message) []byte {
	dst = append(dst, `"messages":[`...)
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"role":`...)
		dst = appendJSONString(dst, m.Role)
		dst = append(dst, `,"content":`...)
		dst = appendJSONString(dst, m.Content)
		dst = append(dst, '}')
	}
	return append(dst, ']')
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

// openAIDecoder decodes OpenAI-compatible streaming chunks (completions
// and chat alike: internal/sse's Chunk reads both shapes).
type openAIDecoder struct {
	eventBufs
	chunk sse.Chunk
}

func (d *openAIDecoder) decode(data []byte, ev *event) error {
	if ev.isDone(data) {
		return nil
	}
	ch := &d.chunk
	if err := ch.Decode(data); err != nil {
		return err
	}
	if ch.Error {
		d.serverError(ev, ch.ErrorMessage)
		return nil
	}
	ev.token = ch.Token()
	ev.reasoning = ev.token && len(ch.Reasoning) > 0
	ev.reasoningOnly = ev.reasoning && !ch.Answer()
	ev.setCounts(ch.HasPromptTokens, ch.PromptTokens, ch.HasCompletionTokens, ch.CompletionTokens)
	ev.hasReasoning, ev.reasoningTokens = ch.HasReasoningTokens, ch.ReasoningTokens
	d.finishReason(ev, ch.FinishReason)
	return nil
}

func (d *openAIDecoder) appendText(dst []byte) []byte      { return d.chunk.AppendText(dst) }
func (d *openAIDecoder) appendReasoning(dst []byte) []byte { return d.chunk.AppendReasoning(dst) }
func (d *openAIDecoder) appendAnswer(dst []byte) []byte    { return d.chunk.AppendAnswer(dst) }

var _ reasoningDecoder = (*openAIDecoder)(nil)
