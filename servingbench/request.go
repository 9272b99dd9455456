package servingbench

import (
	"context"
	"time"
)

// Request is one prompt to send. The zero MaxTokens means "let the server
// decide" and is rarely what a benchmark wants.
type Request struct {
	// Prompt is the text sent as the completions prompt or as the single
	// user message of a chat request.
	Prompt string
	// PromptTokens is the tokenizer's count of Prompt, 0 when unknown (the
	// datasets of package scenarios fill it). It is the input count when
	// the server reports no usage; when it is 0 the client's tokenizer
	// counts the prompt (see OpenAIConfig.Tokenizer).
	PromptTokens int
	// MaxTokens is the number of output tokens asked for (max_tokens, or
	// max_completion_tokens for chat).
	MaxTokens int
	// Messages, when set, is the chat history of a conversation's turn
	// (Conversation): chat APIs send it as the messages, and Prompt is
	// then its rendering with the model's chat template, which the other
	// APIs send as the prompt.
	Messages []Message
}

// Client sends one request and measures it. Implementations fill in
// Result.Sent, Result.Events (offsets from Sent), Result.Done, the token
// counts they learn from the server and Result.Err; the runner fills in the
// rest. A failed request is data: Send never panics and reports every
// failure through Result.Err.
// Implementations must be safe for concurrent use.
type Client interface {
	Send(ctx context.Context, req *Request, res *Result)
}

// Tokenizer converts between text and token ids. Encode adds no special
// tokens; Decode skips none. Implementations must be safe for concurrent use.
// Package scenarios provides an implementation that loads HuggingFace
// tokenizer.json files.
type Tokenizer interface {
	Encode(text string) []int
	Decode(ids []int) string
	VocabSize() int
}

// CountSource says where a token count came from.
type CountSource uint8

const (
	// SourceNone: no count is known.
	SourceNone CountSource = iota
	// SourceUsage: the server's usage object (prompt_tokens, completion_tokens).
	SourceUsage
	// SourceTokenizer: the tokenizer's count of the text.
	SourceTokenizer
	// SourceEvents: the number of token events (chunks); a lower bound when
	// the server sends several tokens a chunk.
	SourceEvents
)

func (s CountSource) String() string {
	switch s {
	case SourceUsage:
		return "usage"
	case SourceTokenizer:
		return "tokenizer"
	case SourceEvents:
		return "events"
	}
	return "none"
}

// ArrivalSource says where a Result's event times come from.
type ArrivalSource uint8

const (
	// ArrivalRead: the time the client's read of the event's bytes
	// returned, later than their arrival by however long the client took
	// to get round to reading them.
	ArrivalRead ArrivalSource = iota
	// ArrivalKernel: the kernel's software receive timestamp
	// (SO_TIMESTAMPNS) of the last segment the read returned.
	ArrivalKernel
)

func (s ArrivalSource) String() string {
	if s == ArrivalKernel {
		return "kernel"
	}
	return "read"
}

// Result is the measurement of one request. All times come from one
// monotonic clock (time.Now).
type Result struct {
	// Index is the request's position in Config.Requests, or for a
	// conversation's turn its position among all turns of
	// Config.Conversations, conversation by conversation.
	Index int
	// Conversation is the index in Config.Conversations of the turn's
	// conversation and Turn its 1-based turn number; Turn is 0 for a
	// request that is no conversation's turn.
	Conversation, Turn int
	// Scheduled is when the arrival process meant the request to start.
	Scheduled time.Time
	// SlotAcquired is when the request got a concurrency slot
	// (Config.MaxConcurrency); equal to or after Scheduled.
	SlotAcquired time.Time
	// Sent is taken immediately before the HTTP request is written.
	Sent time.Time
	// Events holds the time of every token event, an SSE event that carries
	// generated output, as its offset from Sent: the event's time minus
	// Sent, exact to the nanosecond, so that Sent.Add(Events[i]) is the
	// time of event i (EventTime). The offsets are taken on the clock Sent
	// is read from, the one of every time of the Result (Arrival says
	// which instant of the event's bytes is taken). Role-only, finish-only
	// and usage-only chunks are not token events. An offset takes 8 bytes
	// of memory where a time.Time takes 24.
	Events []time.Duration
	// Done is when the response ended (after [DONE], an error or a timeout).
	Done time.Time

	// InputTokens and OutputTokens are the request's token counts, with the
	// source of each. (The sources are beside Arrival so that the three
	// bytes share one word: Result is 256 bytes, a size class of Go's
	// allocator; 8 more would make it take 288.)
	InputTokens  int
	OutputTokens int
	InputSource  CountSource
	OutputSource CountSource
	// Arrival says where the times in Events come from: the kernel's
	// receive timestamps of the bytes that carried each event
	// (ArrivalKernel), or the times the client's reads of them returned
	// (ArrivalRead: no kernel timestamps on this connection).
	Arrival ArrivalSource
	// Lags holds, with ArrivalKernel, how late the client read every token
	// event: the time the read that returned its bytes came back minus
	// their arrival time, in nanoseconds, saturated at math.MaxUint32
	// (4.29 s). It is nil with ArrivalRead, where the lag is not known.
	Lags []uint32

	// FirstAnswer is the index in Events of the first token event that
	// carried answer output (OpenAI chat's delta.content; any token event
	// of an API without reasoning output), len(Events) when none did: a
	// reasoning model that thought until its output ran out. The zero
	// value, the first event, is right for a model that does not reason.
	// An event at the end of the thinking that carries both reasoning and
	// content is one token event, and an answer event.
	FirstAnswer int
	// ReasoningTokens and AnswerTokens split the output of a reasoning
	// model into the reasoning and the answer, from ReasoningSource
	// (count.go: the server's usage.completion_tokens_details.
	// reasoning_tokens, else the tokenizer over each part, else events).
	// ReasoningSource is SourceNone, and both are 0, when the stream had
	// no reasoning output and the server gave no reasoning count.
	ReasoningTokens int
	AnswerTokens    int
	ReasoningSource CountSource

	// Resent is set when the request was sent a second time, on a new
	// connection, because the pooled keep-alive connection it was first
	// written to had been closed by the server before any response byte
	// arrived: it never reached the server. Sent is the first send, so
	// TTFT and E2EL include the failed write and the new connection's
	// set-up (a loopback round trip; a TCP and, for https, a TLS handshake
	// over a network).
	Resent bool
	// NoDone is set for a successful stream that ended without
	// "data: [DONE]" after its finish_reason or usage chunk.
	NoDone bool

	// Text is the generated text. Clients fill it only when asked
	// (it is also what the tokenizer counts when the server sends no usage).
	Text string
	// Err is nil for a successful request: HTTP 200, a well-formed stream and
	// at least one token event.
	Err error
}

// OK reports whether the request succeeded.
func (r *Result) OK() bool { return r.Err == nil && len(r.Events) > 0 }

// EventTime is the time of token event i: Sent.Add(Events[i]).
func (r *Result) EventTime(i int) time.Time { return r.Sent.Add(r.Events[i]) }

// LastEvent is the time of the last token event, the zero Time when there
// was none.
func (r *Result) LastEvent() time.Time {
	if len(r.Events) == 0 {
		return time.Time{}
	}
	return r.EventTime(len(r.Events) - 1)
}

// TTFT is the time to first token: first token event minus Sent.
func (r *Result) TTFT() time.Duration {
	if len(r.Events) == 0 {
		return 0
	}
	return r.Events[0]
}

// E2EL is the end-to-end latency: last token event minus Sent.
func (r *Result) E2EL() time.Duration {
	if len(r.Events) == 0 {
		return 0
	}
	return r.Events[len(r.Events)-1]
}

// TTFO is the time to first output token, AIPerf's TTFO and GuideLLM's
// time_to_first_output_token: the first token event that carried answer
// output (Events[FirstAnswer]) minus Sent. "Output" there means the
// answer, as opposed to the reasoning; TTFT counts any token event, so
// the two are equal for a model that does not reason. It is 0 when no
// event carried answer output.
func (r *Result) TTFO() time.Duration {
	if r.FirstAnswer < 0 || r.FirstAnswer >= len(r.Events) {
		return 0
	}
	return r.Events[r.FirstAnswer]
}

// Reasoned reports whether the request's output had a reasoning part:
// reasoning tokens counted, or token events before the first answer
// event (all of them when there was no answer).
func (r *Result) Reasoned() bool { return r.ReasoningTokens > 0 || r.FirstAnswer > 0 }

// answerTokens is the answer part of the output: AnswerTokens when the
// output was split, else all of OutputTokens.
func (r *Result) answerTokens() int {
	if r.ReasoningSource == SourceNone {
		return r.OutputTokens
	}
	return r.AnswerTokens
}

// TPOT is the time per output token after the first:
// (E2EL - TTFT) / (OutputTokens - 1). It is 0 for requests with at most one
// output token.
func (r *Result) TPOT() time.Duration {
	if r.OutputTokens <= 1 {
		return 0
	}
	return (r.E2EL() - r.TTFT()) / time.Duration(r.OutputTokens-1)
}

// QueueDelay is the time the request waited for a concurrency slot after
// its scheduled arrival.
func (r *Result) QueueDelay() time.Duration { return r.SlotAcquired.Sub(r.Scheduled) }

// AppendITL appends the gaps between consecutive token events to dst.
func (r *Result) AppendITL(dst []time.Duration) []time.Duration {
	for i := 1; i < len(r.Events); i++ {
		dst = append(dst, r.Events[i]-r.Events[i-1])
	}
	return dst
}
