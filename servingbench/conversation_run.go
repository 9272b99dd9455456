package servingbench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Multi-turn conversations in the runner (Config.Conversations), with the
// semantics of vLLM's benchmarks/multi_turn/benchmark_serving_multi_turn.py
// (vllm-project/vllm at 00d3953): each turn sends the whole history as
// chat messages, the assistant's part being the text the server
// generated for the earlier turns (or the dataset's replies, when asked);
// a failed turn ends its conversation; --max-active-conversations bounds
// the conversations in progress. Unlike that script, whose clients pick
// an active conversation for their next request, a conversation here is a
// chain of its own: turn k+1 is sent Turn.Think after turn k's response
// ended, and conversations start by the arrival process, as requests do.

// Reasons a turn was not sent (ConversationReport.NotSent).
const (
	notSentCancelled = "run cancelled"
	notSentNoText    = "the client kept no generated text for the history (OpenAIConfig.KeepText, or Config.ReplayReplies)"
)

// convRun is one run of conversations.
type convRun struct {
	cfg     *Config
	slots   chan struct{} // MaxConcurrency; nil without a bound
	base    []int         // flat index of each conversation's first turn
	mu      sync.Mutex
	results [][]*Result // by conversation, in turn order
	notSent map[string]int
	example map[string]string
}

// runConversations is Run for Config.Conversations.
func runConversations(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validateConversations(); err != nil {
		return nil, err
	}
	if cfg.Shard.Count > 1 || !cfg.StartAt.IsZero() {
		return nil, errors.New("servingbench: Config.Shard and Config.StartAt are for runs of Requests: a run of Conversations cannot be sharded yet")
	}
	convs := cfg.Conversations
	offsets := cfg.offsets(len(convs))
	if len(offsets) != len(convs) {
		return nil, fmt.Errorf("servingbench: Config.Arrival %v: Offsets(%d) returned %d offsets", cfg.Arrival, len(convs), len(offsets))
	}
	r := &convRun{cfg: &cfg, base: make([]int, len(convs)), results: make([][]*Result, len(convs)),
		notSent: map[string]int{}, example: map[string]string{}}
	turns := 0
	for i := range convs {
		r.base[i] = turns
		turns += len(convs[i].Turns)
	}
	// The warm-up, the ready check and the prewarm use the first turn.
	first, err := FirstTurnRequest(&convs[0], cfg.RenderChat)
	if err != nil {
		return nil, fmt.Errorf("servingbench: Config.Conversations[0] (%s) turn 1: %w", convs[0].ID, err)
	}
	wcfg := cfg
	wcfg.Requests = []Request{first}
	warnings, err := wcfg.warmUp(ctx, offsets)
	if err != nil {
		return nil, err
	}

	var cacheBefore PrefixCacheUse
	cacheOK := false
	if cfg.PrefixCache != nil {
		cacheBefore, cacheOK = cfg.PrefixCache(ctx)
	}
	if cfg.MaxConcurrency > 0 {
		r.slots = make(chan struct{}, cfg.MaxConcurrency)
	}
	var active chan struct{}
	if cfg.MaxActiveConversations > 0 {
		active = make(chan struct{}, cfg.MaxActiveConversations)
	}
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	watch := cfg.ServerMetrics.Before(ctx) // nil without a Scraper
	start := time.Now()
	if cfg.OnStart != nil {
		cfg.OnStart(start)
	}
	watch.Begin(ctx, start)
	started := 0
dispatch:
	for i := range convs {
		scheduled := start.Add(offsets[i])
		if !sleepUntil(ctx, timer, scheduled) {
			break dispatch
		}
		if active != nil {
			select {
			case active <- struct{}{}:
			case <-ctx.Done():
				break dispatch
			}
		} else if ctx.Err() != nil {
			break dispatch
		}
		started++
		wg.Go(func() {
			if active != nil {
				defer func() { <-active }()
			}
			r.converse(ctx, i, scheduled)
		})
	}
	wg.Wait()
	end := time.Now()
	serverMetrics := watch.End(ctx, end)
	for i := started; i < len(convs); i++ {
		r.skip(i, 0, notSentCancelled, "")
	}

	sent := make([]*Result, 0, turns)
	for _, rs := range r.results {
		sent = append(sent, rs...)
	}
	if len(sent) == 0 && ctx.Err() != nil {
		return nil, notStarted(ctx, "wait for the first conversation")
	}
	rep := Summarize(start, end, sent, cfg.Goodput)
	cfg.identify(rep, start, len(convs)) // the arrival process's n: the conversations
	rep.NumPrompts = turns
	rep.Conversations = r.summarize(started)
	if cacheOK {
		// A cancelled run's context is done: the last read gets its own.
		if after, ok := cfg.PrefixCache(context.WithoutCancel(ctx)); ok {
			use := PrefixCacheUse{Queries: after.Queries - cacheBefore.Queries, Hits: after.Hits - cacheBefore.Hits, Source: after.Source}
			if use.Queries < 0 || use.Hits < 0 { // the server restarted in between
				use.Queries, use.Hits = after.Queries, after.Hits
			}
			rep.Conversations.PrefixCache = &use
		}
	}
	rep.Partial = ctx.Err() != nil
	if rep.Partial {
		rep.Warnings = append(rep.Warnings, fmt.Errorf("servingbench: run cancelled after %d of %d turns were sent (%d of %d conversations started): %w",
			len(sent), turns, started, len(convs), context.Cause(ctx)))
	}
	if n := r.notSent[notSentNoText]; n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Errorf("servingbench: %d turns were not sent: %s", n, notSentNoText))
	}
	rep.Warnings = append(warnings, rep.Warnings...)
	rep.addServerMetrics(serverMetrics, true)
	return rep, nil
}

// sleepUntil waits for t on timer, reporting false when ctx ended first.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		timer.Stop()
		return false
	}
}

// converse sends the turns of conversation i in order, the first at
// scheduled, each later one its Think after the previous response's
// Done, until a turn fails, the history cannot be made or ctx ends.
func (r *convRun) converse(ctx context.Context, i int, scheduled time.Time) {
	conv := &r.cfg.Conversations[i]
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var history []Message
	if conv.System != "" {
		history = []Message{{Role: "system", Content: conv.System}}
	}
	for k := range conv.Turns {
		t := &conv.Turns[k]
		if k > 0 && !sleepUntil(ctx, timer, scheduled) {
			r.skip(i, k, notSentCancelled, "")
			return
		}
		msgs := append(history[:len(history):len(history)], Message{Role: "user", Content: t.User})
		req, err := r.cfg.turnRequest(t, msgs)
		if err != nil {
			reason := "rendering the history failed"
			r.skip(i, k, reason, fmt.Sprintf("conversation %s turn %d: %v", conv.ID, k+1, err))
			return
		}
		if r.slots != nil {
			select {
			case r.slots <- struct{}{}:
			case <-ctx.Done():
				r.skip(i, k, notSentCancelled, "")
				return
			}
		} else if ctx.Err() != nil {
			r.skip(i, k, notSentCancelled, "")
			return
		}
		res := &Result{Index: r.base[i] + k, Conversation: i, Turn: k + 1, Scheduled: scheduled, SlotAcquired: time.Now()}
		r.mu.Lock()
		r.results[i] = append(r.results[i], res)
		r.mu.Unlock()
		r.cfg.Client.Send(ctx, &req, res)
		if r.slots != nil {
			<-r.slots
		}
		if r.cfg.OnResult != nil {
			r.cfg.OnResult(res)
		}
		if k+1 == len(conv.Turns) {
			return
		}
		if !res.OK() {
			if ctx.Err() != nil {
				r.skip(i, k+1, notSentCancelled, "")
			} else {
				r.skip(i, k+1, "an earlier turn failed ("+resultReason(res)+")", "")
			}
			return
		}
		reply := res.Text
		if r.cfg.ReplayReplies && t.Reply != "" {
			reply = t.Reply
		} else if reply == "" {
			r.skip(i, k+1, notSentNoText, "")
			return
		}
		history = append(msgs, Message{Role: "assistant", Content: reply})
		scheduled = res.Done.Add(conv.Turns[k+1].Think)
	}
}

// skip counts the turns of conversation i from index k on as not sent.
func (r *convRun) skip(i, k int, reason, example string) {
	n := len(r.cfg.Conversations[i].Turns) - k
	if n <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.notSent[reason] == 0 && example != "" {
		r.example[reason] = example
	}
	r.notSent[reason] += n
}

// turnRequest is the request of turn t with history msgs: the messages,
// Prompt their rendering (Config.RenderChat), the turn's MaxTokens, and
// PromptTokens only for a first turn without a system prompt, whose
// prompt is the user message the dataset counted (later turns' prompts
// are counted by the server, or the client's tokenizer).
func (cfg *Config) turnRequest(t *Turn, msgs []Message) (Request, error) {
	req := Request{Messages: msgs, MaxTokens: t.MaxTokens}
	if cfg.RenderChat != nil {
		p, err := cfg.RenderChat(msgs)
		if err != nil {
			return Request{}, err
		}
		req.Prompt = p
	} else {
		parts := make([]string, len(msgs))
		for i, m := range msgs {
			parts[i] = m.Content
		}
		req.Prompt = strings.Join(parts, "\n")
	}
	if len(msgs) == 1 && cfg.RenderChat == nil {
		req.PromptTokens = t.UserTokens
	}
	return req, nil
}

func (cfg *Config) validateConversations() error {
	switch {
	case cfg.Client == nil:
		return errors.New("servingbench: Config.Client is nil")
	case len(cfg.Requests) > 0:
		return errors.New("servingbench: Config.Requests and Config.Conversations are both set; a run sends one or the other")
	case cfg.MaxConcurrency < 0:
		return fmt.Errorf("servingbench: Config.MaxConcurrency must be >= 0, got %d", cfg.MaxConcurrency)
	case cfg.MaxActiveConversations < 0:
		return fmt.Errorf("servingbench: Config.MaxActiveConversations must be >= 0, got %d", cfg.MaxActiveConversations)
	}
	for i, c := range cfg.Conversations {
		if len(c.Turns) == 0 {
			return fmt.Errorf("servingbench: Config.Conversations[%d] (%s) has no turns", i, c.ID)
		}
		for k, t := range c.Turns {
			switch {
			case t.MaxTokens < 0:
				return fmt.Errorf("servingbench: Config.Conversations[%d] (%s) turn %d: MaxTokens must be >= 0, got %d", i, c.ID, k+1, t.MaxTokens)
			case t.Think < 0:
				return fmt.Errorf("servingbench: Config.Conversations[%d] (%s) turn %d: Think must be >= 0, got %v", i, c.ID, k+1, t.Think)
			case t.UserTokens < 0:
				return fmt.Errorf("servingbench: Config.Conversations[%d] (%s) turn %d: UserTokens must be >= 0, got %d", i, c.ID, k+1, t.UserTokens)
			}
		}
	}
	// The rest of Run's checks, on a stand-in request.
	c := *cfg
	c.Requests = []Request{{}}
	return c.validate()
}

// SendsMessages reports whether the backend sends a conversation turn's
// history as chat messages (OpenAI chat, Ollama's /api/chat); the others
// send Request.Prompt, the history's rendering (Config.RenderChat).
func (b Backend) SendsMessages() bool { return b.API == apiChat || b.API == apiOllamaChat }

// ChatTemplater is implemented by tokenizers that render a chat history
// with the model's chat template (package scenarios/tokenizer's
// Tokenizer, from tokenizer_config.json): its method is a
// Config.RenderChat.
type ChatTemplater interface {
	ApplyChatTemplate(msgs []Message) (string, error)
}

// FirstTurnRequest is the request of c's first turn, as Run sends it: its
// system prompt and user message as Messages, Prompt their rendering by
// render (nil: the contents joined with "\n"). A caller that sends the
// warm-up or the ready check itself sends it.
func FirstTurnRequest(c *Conversation, render func([]Message) (string, error)) (Request, error) {
	if len(c.Turns) == 0 {
		return Request{}, fmt.Errorf("servingbench: conversation %s has no turns", c.ID)
	}
	var msgs []Message
	if c.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: c.System})
	}
	msgs = append(msgs, Message{Role: "user", Content: c.Turns[0].User})
	cfg := Config{RenderChat: render}
	return cfg.turnRequest(&c.Turns[0], msgs)
}
