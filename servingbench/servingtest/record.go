package servingtest

import (
	"slices"

	"github.com/servingbench/servingbench/servingbench"
	"sync"
	"time"
)

// Record is the ground truth of one completion request, as the server saw
// it. Times come from the server's time.Now, the same monotonic clock a
// client in the same process uses.
type Record struct {
	// Index is the request's 1-based position among the completion
	// requests the server received (since NewServer or Reset).
	Index int
	// Endpoint is the request path: "/v1/completions",
	// "/v1/chat/completions", "/generate_stream", "/generate" (TGI's or
	// SGLang's), "/completion", "/v2/models/MODEL/generate_stream",
	// "/api/generate" or "/api/chat".
	Endpoint string
	// Protocol is the API of Endpoint.
	Protocol Protocol
	// Prompt is the completions prompt (TGI's inputs), or the chat
	// messages' contents joined with "\n".
	Prompt string
	// Stream and IgnoreEOS echo the request.
	Stream    bool
	IgnoreEOS bool
	// PromptTokens is the tokenizer's count of Prompt; MaxTokens the
	// requested maximum; OutputTokens the number of tokens the engine
	// generated for the response (what usage.completion_tokens, TGI's
	// details.generated_tokens, llama.cpp's tokens_predicted, SGLang's
	// meta_info.completion_tokens and Ollama's eval_count say).
	PromptTokens, MaxTokens, OutputTokens int
	// CachedTokens is how many of the PromptTokens the prefix cache
	// (Model.PrefixCacheTokens) served at admission, so that only
	// PromptTokens-CachedTokens were prefilled; 0 without the cache.
	CachedTokens int
	// Messages are the chat messages of a chat request (OpenAI chat,
	// Ollama's /api/chat) as received, roles and text contents; nil for
	// the other routes.
	Messages []servingbench.Message
	// ReasoningTokens is how many of the first OutputTokens were streamed
	// as reasoning (Model.Reasoning; 0 but on the chat route).
	ReasoningTokens int
	// Status is the HTTP status code sent (0 when no header was sent).
	Status int
	// Received is taken on entry to the handler; Admitted when the engine
	// admitted the request into the batch (zero if never).
	Received, Admitted time.Time
	// Chunks holds the time just after each token chunk was written and
	// flushed, and ChunkTokens the number of tokens in each. Chunks written
	// in one flush share a time. A chunk is one token event: with TGI,
	// llama.cpp and Ollama, which send a token an event, a flush of
	// Model.TokensPerChunk tokens is that many chunks of one token. A
	// non-streaming response has one entry.
	Chunks      []time.Time
	ChunkTokens []int
	// Done is when the handler finished; zero while it runs.
	Done time.Time
	// FinishReason is "length" or "stop" once every token was sent, ""
	// before or if not.
	FinishReason string
	// Fault is the fault injected into this request.
	Fault FaultKind
	// Aborted says why the response ended early: "" (it did not),
	// "client gone", "server closed", "fault".
	Aborted string
}

// TTFT is the time from Received to the first chunk, 0 without chunks.
func (r *Record) TTFT() time.Duration {
	if len(r.Chunks) == 0 {
		return 0
	}
	return r.Chunks[0].Sub(r.Received)
}

// E2EL is the time from Received to the last chunk, 0 without chunks.
func (r *Record) E2EL() time.Duration {
	if len(r.Chunks) == 0 {
		return 0
	}
	return r.Chunks[len(r.Chunks)-1].Sub(r.Received)
}

// FirstAnswer returns the index in Chunks of the first chunk that carried
// an answer token (after the ReasoningTokens), and false when none did.
func (r *Record) FirstAnswer() (int, bool) {
	sent := 0
	for i, n := range r.ChunkTokens {
		if sent += n; sent > r.ReasoningTokens {
			return i, true
		}
	}
	return 0, false
}

// TTFO is the time from Received to the first chunk with an answer token
// (FirstAnswer), 0 without one.
func (r *Record) TTFO() time.Duration {
	i, ok := r.FirstAnswer()
	if !ok {
		return 0
	}
	return r.Chunks[i].Sub(r.Received)
}

// entry is a Record being filled in by its handler.
type entry struct {
	mu  sync.Mutex
	rec Record
}

func (e *entry) update(f func(r *Record)) {
	e.mu.Lock()
	f(&e.rec)
	e.mu.Unlock()
}

func (e *entry) addChunks(t time.Time, tokens []int) {
	e.mu.Lock()
	for _, n := range tokens {
		e.rec.Chunks = append(e.rec.Chunks, t)
		e.rec.ChunkTokens = append(e.rec.ChunkTokens, n)
	}
	e.mu.Unlock()
}

func (e *entry) snapshot() Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.rec
	r.Chunks = slices.Clone(r.Chunks)
	r.ChunkTokens = slices.Clone(r.ChunkTokens)
	return r
}

// truth holds the entries of every request since the last reset.
type truth struct {
	mu      sync.Mutex
	entries []*entry
}

// add registers a new request and returns its entry with Index set.
func (t *truth) add(endpoint string, p Protocol, received time.Time) *entry {
	e := &entry{rec: Record{Endpoint: endpoint, Protocol: p, Received: received}}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	e.rec.Index = len(t.entries)
	t.mu.Unlock()
	return e
}

func (t *truth) records() []Record {
	t.mu.Lock()
	entries := slices.Clone(t.entries)
	t.mu.Unlock()
	out := make([]Record, len(entries))
	for i, e := range entries {
		out[i] = e.snapshot()
	}
	return out
}

func (t *truth) reset() {
	t.mu.Lock()
	t.entries = nil
	t.mu.Unlock()
}

// times returns the admission time and the times of the first and the
// last chunk (zero when absent).
func (e *entry) times() (admitted, first, last time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := len(e.rec.Chunks); n > 0 {
		first, last = e.rec.Chunks[0], e.rec.Chunks[n-1]
	}
	return e.rec.Admitted, first, last
}
