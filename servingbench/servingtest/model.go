package servingtest

import (
	"fmt"
	"math"
	"time"

	"github.com/servingbench/servingbench/servingbench"
)

// DefaultModelName is the model id served when Model.Name is empty.
const DefaultModelName = "servingtest"

// Model describes the simulated model and engine. The zero value is useful:
// a zero-cost model named DefaultModelName that streams every token at once,
// one token a chunk, usage in a separate chunk (vLLM's layout), no batch or
// KV cache limit, no early stops and no faults.
//
// The engine is a continuous-batching scheduler; see the package
// documentation for the timing model. Every duration is divided by Speed.
type Model struct {
	// Name is the model id (GET /v1/models, the "model" field of chunks and
	// the model_name metric label). A request naming another model gets 404,
	// as vLLM does; a request that omits "model" is accepted.
	Name string

	// PrefillPerToken is the step time added per prompt token of each
	// request admitted in that step.
	PrefillPerToken time.Duration
	// DecodeBase is the duration of a decode step with one running
	// sequence (beyond DecodePerSeq).
	DecodeBase time.Duration
	// DecodePerSeq is the step time added per running sequence.
	DecodePerSeq time.Duration
	// FirstTokenDelay is a prefill time of each request's own, which does
	// not lengthen the batch's steps: a request admitted at A gets its
	// first token at the end of the first step that ends at or after
	// A + FirstTokenDelay, and the later ones a step apart, while the
	// other running sequences keep their pace. With FixedService it makes
	// a server of fixed TTFT and ITL whatever the batch. 0, the default,
	// adds nothing; a positive value needs a positive DecodeBase, whose
	// steps count it out.
	FirstTokenDelay time.Duration

	// MaxRunning bounds the running sequences (vLLM's max_num_seqs); further
	// requests wait, first come first served. 0 means no bound.
	MaxRunning int
	// KVCacheTokens is the KV cache capacity in tokens; 0 means unbounded.
	// A request reserves PromptTokens+MaxTokens at admission and frees them
	// when it ends (no growth, no preemption), so admission is decided once.
	// A request that could never fit gets HTTP 400.
	KVCacheTokens int

	// PrefixCacheTokens, when positive, turns on a prefix cache of that
	// many prompt tokens (prefixcache.go: whole prompts, least recently
	// used evicted; a lookup hits at most all but the last prompt token):
	// the cached leading tokens of an admitted prompt skip
	// PrefillPerToken, and /metrics exposes vLLM's
	// vllm:prefix_cache_queries_total and vllm:prefix_cache_hits_total
	// (prompt tokens looked up and served; Record.CachedTokens per
	// request). 0, the default, has no cache and no such counters.
	PrefixCacheTokens int

	// TokensPerChunk is the number of tokens a streamed chunk carries; 0
	// means 1. The last chunk may carry fewer.
	TokensPerChunk int
	// Usage says where a streamed OpenAI response carries usage when the
	// request asks for it with stream_options.include_usage (the native
	// protocols have their own places: see the package documentation).
	Usage UsagePosition
	// FinishChunk, when set, ends an OpenAI stream's choices with a
	// finish-only chunk (empty text or empty delta, finish_reason set), as
	// llama.cpp's OpenAI routes do;
	// otherwise finish_reason rides on the last token chunk, as in vLLM.
	// UsageInline implies it.
	FinishChunk bool

	// Reasoning makes the chat route's responses think first, as a
	// reasoning model behind vLLM's --reasoning-parser streams them; the
	// zero value does not reason. The completions and native routes are
	// not affected.
	Reasoning Reasoning

	// EOSFraction is the fraction in [0,1] of requests without ignore_eos
	// that stop early at a simulated end-of-sequence token. Which requests
	// stop, and at which length in [1, max_tokens-1], is drawn from Seed,
	// the prompt and max_tokens, so it is deterministic. 0: none stop early.
	EOSFraction float64
	// Seed seeds the generated text and the early stops.
	Seed uint64

	// Speed scales time: 10 runs every step ten times faster. 0 means 1.
	Speed float64

	// Tokenizer counts prompt tokens (usage.prompt_tokens and the KV
	// reservation). Nil means WordTokenizer. Generated text is always made
	// of " word" tokens from WordTokenizer's list, whatever the tokenizer.
	Tokenizer servingbench.Tokenizer

	// Faults are injected into selected requests; the first Fault that
	// selects a request applies.
	Faults []Fault

	// Connection behaviours of real servers, which a client must survive
	// without reporting failures the server did not make. They are not
	// scaled by Speed.

	// CloseAfterResponse closes every connection once its response has
	// been written, without a "Connection: close" header: llama.cpp's
	// llama-server does this after each streamed response while it
	// announces "Keep-Alive: timeout=5, max=100". A client that writes its
	// next request on the pooled connection before it notices the close
	// gets EOF.
	CloseAfterResponse bool
	// IdleTimeout, when positive, closes keep-alive connections idle for
	// this long (uvicorn, which vLLM's API server runs on, and
	// cpp-httplib close them after 5 s). 0: connections stay open.
	IdleTimeout time.Duration
	// DropReused makes the race CloseAfterResponse and IdleTimeout leave to
	// chance happen every time: a request that arrives on a connection that
	// already carried a request (of any kind) is not answered, and the
	// connection is closed before a response byte is written. Such requests
	// are not recorded in Truth and take no request index; Server.Dropped
	// counts the completion requests among them.
	DropReused bool
}

// Reasoning is the reasoning phase of the chat route's responses.
type Reasoning struct {
	// Tokens is the number of generated tokens, from the first, streamed
	// as reasoning in delta.reasoning_content (one token a word, like the
	// answer; fewer when the output is shorter, none without a positive
	// Tokens); the rest follow in delta.content. A chunk of
	// Model.TokensPerChunk tokens that holds the last reasoning tokens and
	// the first answer tokens carries both members, as vLLM's reasoning
	// parsers split a delta holding the end of the thinking. A
	// non-streaming response has the reasoning in
	// message.reasoning_content.
	Tokens int
	// Field is the delta member of the reasoning: "" or
	// "reasoning_content" (vLLM's name until v0.10), or "reasoning" (the
	// newer name, vLLM's and OpenRouter's).
	Field string
	// OmitUsage leaves completion_tokens_details out of the usage; by
	// default it is {"reasoning_tokens": R}, as OpenAI's CompletionUsage
	// has it, so a client may count the split either way.
	OmitUsage bool
}

// field is the delta member of the reasoning.
func (r Reasoning) field() string {
	if r.Field == "" {
		return "reasoning_content"
	}
	return r.Field
}

// tokens is the number of the first of target tokens that are reasoning,
// on the chat route.
func (r Reasoning) tokens(a api, target int) int {
	if oa, ok := a.(openAI); !ok || !oa.chat {
		return 0
	}
	return max(0, min(r.Tokens, target))
}

// UsagePosition says where a streamed response carries usage.
type UsagePosition uint8

const (
	// UsageSeparate is vLLM's layout: a final chunk with "choices": []
	// and the usage object.
	UsageSeparate UsagePosition = iota
	// UsageInline is llama.cpp's completions layout: usage inside the last
	// choices chunk, which has empty text and the finish_reason.
	UsageInline
	// UsageNone never sends usage in a stream.
	UsageNone
)

func (u UsagePosition) String() string {
	switch u {
	case UsageSeparate:
		return "separate"
	case UsageInline:
		return "inline"
	case UsageNone:
		return "none"
	}
	return fmt.Sprintf("UsagePosition(%d)", uint8(u))
}

// Validate reports the first bad field.
func (m Model) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PrefillPerToken", m.PrefillPerToken}, {"DecodeBase", m.DecodeBase}, {"DecodePerSeq", m.DecodePerSeq}, {"FirstTokenDelay", m.FirstTokenDelay}} {
		if d.v < 0 {
			return fmt.Errorf("servingtest: Model.%s must be >= 0, got %v", d.name, d.v)
		}
	}
	switch {
	case m.FirstTokenDelay > 0 && m.DecodeBase == 0:
		return fmt.Errorf("servingtest: Model.FirstTokenDelay (%v) needs a DecodeBase > 0, whose steps count it out", m.FirstTokenDelay)
	case m.MaxRunning < 0:
		return fmt.Errorf("servingtest: Model.MaxRunning must be >= 0, got %d", m.MaxRunning)
	case m.KVCacheTokens < 0:
		return fmt.Errorf("servingtest: Model.KVCacheTokens must be >= 0, got %d", m.KVCacheTokens)
	case m.PrefixCacheTokens < 0:
		return fmt.Errorf("servingtest: Model.PrefixCacheTokens must be >= 0, got %d", m.PrefixCacheTokens)
	case m.TokensPerChunk < 0:
		return fmt.Errorf("servingtest: Model.TokensPerChunk must be >= 0, got %d", m.TokensPerChunk)
	case m.Usage > UsageNone:
		return fmt.Errorf("servingtest: Model.Usage must be UsageSeparate, UsageInline or UsageNone, got %d", m.Usage)
	case math.IsNaN(m.EOSFraction) || m.EOSFraction < 0 || m.EOSFraction > 1:
		return fmt.Errorf("servingtest: Model.EOSFraction must be in [0,1], got %v", m.EOSFraction)
	case m.Reasoning.Tokens < 0:
		return fmt.Errorf("servingtest: Model.Reasoning.Tokens must be >= 0, got %d", m.Reasoning.Tokens)
	case m.Reasoning.Field != "" && m.Reasoning.Field != "reasoning_content" && m.Reasoning.Field != "reasoning":
		return fmt.Errorf("servingtest: Model.Reasoning.Field must be \"\", \"reasoning_content\" or \"reasoning\", got %q", m.Reasoning.Field)
	case m.IdleTimeout < 0:
		return fmt.Errorf("servingtest: Model.IdleTimeout must be >= 0, got %v", m.IdleTimeout)
	case math.IsNaN(m.Speed) || math.IsInf(m.Speed, 0) || m.Speed < 0:
		return fmt.Errorf("servingtest: Model.Speed must be >= 0 and finite, got %v", m.Speed)
	}
	for i, f := range m.Faults {
		if err := f.validate(); err != nil {
			return fmt.Errorf("servingtest: Model.Faults[%d]: %w", i, err)
		}
	}
	return nil
}

// withDefaults fills the documented defaults of zero fields.
func (m Model) withDefaults() Model {
	if m.Name == "" {
		m.Name = DefaultModelName
	}
	if m.TokensPerChunk == 0 {
		m.TokensPerChunk = 1
	}
	if m.Speed == 0 {
		m.Speed = 1
	}
	if m.Tokenizer == nil {
		m.Tokenizer = WordTokenizer{}
	}
	if m.Usage == UsageInline {
		m.FinishChunk = true
	}
	return m
}

// scale divides d by the Speed factor.
func (m *Model) scale(d time.Duration) time.Duration {
	if m.Speed == 1 || d == 0 {
		return d
	}
	return time.Duration(float64(d) / m.Speed)
}

// ZeroCost returns the zero-cost model: every step is instant, so a server
// streams as fast as the handlers can write.
func ZeroCost() Model { return Model{Name: "sim-zero-cost"} }

// Sim7BFP16 is a simulated 7B model served in FP16 on one accelerator. The
// figures are invented to resemble the FP16 column of the seed document's
// DeepSeek-R1-7B comparison (about 57 ms a decode step at 160 running
// sequences); they describe no real hardware.
func Sim7BFP16() Model {
	return Model{
		Name:            "sim-7b-fp16",
		PrefillPerToken: 120 * time.Microsecond,
		DecodeBase:      25 * time.Millisecond,
		DecodePerSeq:    200 * time.Microsecond,
		MaxRunning:      256,
		KVCacheTokens:   400_000,
		EOSFraction:     0.07,
	}
}

// Sim7BW8A8 is the same simulated 7B model quantised to W8A8: prefill and
// decode steps are about 10% faster than Sim7BFP16 (about 52 ms a step at
// 160 running sequences). Simulated figures, not measurements.
func Sim7BW8A8() Model {
	m := Sim7BFP16()
	m.Name = "sim-7b-w8a8"
	m.PrefillPerToken = 105 * time.Microsecond
	m.DecodeBase = 22 * time.Millisecond
	m.DecodePerSeq = 190 * time.Microsecond
	return m
}

// Realistic returns a small model whose steps have realistic proportions
// (10 ms base decode step, 100 µs per running sequence, 50 µs per prompt
// token, 64 running sequences), run speed times faster; it suits examples
// and tests that want batching effects in a few milliseconds.
func Realistic(speed float64) Model {
	return Model{
		Name:            "sim-realistic",
		PrefillPerToken: 50 * time.Microsecond,
		DecodeBase:      10 * time.Millisecond,
		DecodePerSeq:    100 * time.Microsecond,
		MaxRunning:      64,
		KVCacheTokens:   1 << 20,
		Speed:           speed,
	}
}
