package servingbench

import "time"

// Message is one chat message: what a multi-turn request sends as its
// history (Request.Messages).
type Message struct {
	// Role is "system", "user" or "assistant".
	Role string
	// Content is the message's text.
	Content string
}

// Conversation is a chain of turns: turn k+1 is sent after turn k's
// response has ended and a think time has passed, with the whole history
// (the system prompt, every earlier user message and reply, then its own
// user message) as its messages. Package scenarios builds them (ShareGPT
// conversations, synthetic ones, JSONL files).
type Conversation struct {
	// ID names the conversation in results and errors.
	ID string
	// System, when not empty, is the first message of every turn's
	// history, with role "system".
	System string
	// Turns are sent in order; a conversation has at least one.
	Turns []Turn
}

// Turn is one user message of a conversation and what to ask for.
type Turn struct {
	// User is the user message.
	User string
	// UserTokens is the tokenizer's count of User, 0 when unknown.
	UserTokens int
	// MaxTokens is the number of output tokens asked for.
	MaxTokens int
	// Reply is the dataset's recorded reply to User ("" when it has
	// none): the history carries it in place of the generated text when
	// a run is asked to replay the dataset's replies, so that every
	// server sees the same prompts.
	Reply string
	// Think is the pause after the previous turn's response ended
	// before this turn is sent (0 for the first turn, which the arrival
	// process starts).
	Think time.Duration
}
