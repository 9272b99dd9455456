package main

import (
	"context"
	"fmt"
	"io"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
)

// convFlags are the flags of multi-turn conversations (issue 14), after
// vLLM's benchmarks/multi_turn/benchmark_serving_multi_turn.py where it
// has one: --max-active-conversations is its name; --max-turns its
// --max-turns.
type convFlags struct {
	multiTurn              bool
	maxTurns               int
	maxActiveConversations int
	thinkTimeMS            int
	replayReplies          bool
	conversationOutputLen  int
	simPrefixCache         int
}

func (o *options) addConversationFlags(a *argSet) {
	a.boolean(&o.multiTurn, "multi-turn", "sharegpt: send each conversation whole, every human turn in order with the history (a multi-turn benchmark, as --dataset-name conversation)")
	a.integer(&o.maxTurns, "max-turns", "multi-turn sharegpt: at most this many user turns a conversation (default: all)")
	a.integer(&o.maxActiveConversations, "max-active-conversations", "conversations: at most this many under way at once, each from its first turn's send to its last turn's end (default: no limit; --max-concurrency still bounds the requests)")
	a.integer(&o.thinkTimeMS, "think-time-ms", "conversations: milliseconds between a response's end and the next turn, for turns whose dataset gives none (default 0)")
	a.boolean(&o.replayReplies, "replay-replies", "conversations: the history carries the dataset's recorded replies instead of the generated text, so every server sees the same prompts")
	a.integer(&o.conversationOutputLen, "conversation-output-len", "conversations: output tokens of every turn (default: the dataset's, e.g. the recorded reply's length)")
	a.integer(&o.simPrefixCache, "sim-prefix-cache", "simulated server: a prefix cache of this many tokens, with vLLM's prefix-cache counters on /metrics (default 0: none)")
}

// conversations reports whether the flags ask for a run of conversations.
func (o *options) conversations() bool {
	return o.datasetName == "conversation" || o.datasetName == "sharegpt" && o.multiTurn
}

// validateConversations checks the conversation flags.
func (o *options) validateConversations() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"max-turns", o.maxTurns}, {"max-active-conversations", o.maxActiveConversations}, {"think-time-ms", o.thinkTimeMS},
		{"conversation-output-len", o.conversationOutputLen}, {"sim-prefix-cache", o.simPrefixCache}} {
		if f.v < 0 {
			return fmt.Errorf("flag --%s must be >= 0, got %d", f.name, f.v)
		}
	}
	if o.conversations() {
		if o.cmd != "" {
			return fmt.Errorf("servingbench %s runs requests; --dataset-name %s with conversations is for the benchmark command", o.cmd, o.datasetName)
		}
		return nil
	}
	for _, name := range []string{"max-turns", "max-active-conversations", "think-time-ms", "replay-replies", "conversation-output-len"} {
		if o.args.given(name) {
			return fmt.Errorf("flag --%s applies to conversations (--dataset-name conversation, or sharegpt with --multi-turn)", name)
		}
	}
	if o.args.given("multi-turn") && o.datasetName != "sharegpt" {
		return fmt.Errorf("flag --multi-turn applies to --dataset-name sharegpt, not %s", o.datasetName)
	}
	return nil
}

// conversationDataset is the conversation dataset of the flags:
// ShareGPT conversations whole (--multi-turn), or a file of vLLM
// multi-turn's conversation format (--dataset-name conversation: its
// JSON array, or JSONL, scenarios.CustomConversations).
func (o *options) conversationDataset() (scenarios.ConversationDataset, error) {
	if o.datasetPath == "" {
		return nil, usageError{fmt.Errorf("flag --dataset-path is required for --dataset-name %s", o.datasetName)}
	}
	var think scenarios.Distribution
	if o.thinkTimeMS > 0 {
		think = scenarios.Constant(o.thinkTimeMS)
	}
	if o.datasetName == "sharegpt" {
		out := o.conversationOutputLen
		if out == 0 {
			out = o.sharegptOutputLen
		}
		return scenarios.ShareGPTConversations{Path: o.datasetPath, OutputLen: out, MaxTurns: o.maxTurns, Think: think}, nil
	}
	return scenarios.CustomConversations{Path: o.datasetPath, OutputLen: o.conversationOutputLen, Think: think}, nil
}

// prepareConversations makes the conversations of p's scenario and the
// request of the first turn, which the ready check and the warm-up send;
// a completions or native prompt backend renders each history with the
// tokenizer's chat template (say so when it has none, or fail when the
// template cannot render the first turn).
func (p *prepared) prepareConversations(ctx context.Context, tok servingbench.Tokenizer, stdout io.Writer) error {
	var err error
	p.convs, p.arrival, err = p.c.sc.PrepareConversations(ctx, tok)
	if err != nil {
		return err
	}
	if !p.tg.Backend.SendsMessages() {
		if ct, ok := tok.(servingbench.ChatTemplater); ok {
			p.render = ct.ApplyChatTemplate
		} else {
			fmt.Fprintf(stdout, "The tokenizer has no chat template: --backend %s gets each history's contents joined with newlines\n", p.o.backend)
		}
	}
	first, err := servingbench.FirstTurnRequest(&p.convs[0], p.render)
	if err != nil {
		return fmt.Errorf("rendering the first turn with the chat template for --backend %s (a chat backend, openai-chat or ollama-chat, sends the messages instead): %w", p.o.backend, err)
	}
	p.reqs = []servingbench.Request{first}
	return nil
}

// conversationConfig adds the conversations to cfg, the run's.
func (p *prepared) conversationConfig(cfg *servingbench.Config) {
	if p.convs == nil {
		return
	}
	cfg.Requests, cfg.Conversations = nil, p.convs
	cfg.MaxActiveConversations = p.o.maxActiveConversations
	if cfg.MaxActiveConversations == 0 {
		cfg.MaxActiveConversations = p.c.sc.MaxActiveConversations
	}
	cfg.ReplayReplies, cfg.RenderChat = p.o.replayReplies, p.render
	tg := p.tg
	cfg.PrefixCache = func(ctx context.Context) (servingbench.PrefixCacheUse, bool) {
		c, ok := tg.PrefixCache(ctx)
		return servingbench.PrefixCacheUse{Queries: c.Queries, Hits: c.Hits, Source: c.Source}, ok
	}
}

// turns is the number of requests the run sends at most: every turn of a
// run of conversations.
func (p *prepared) turns() int {
	if p.convs == nil {
		return len(p.reqs)
	}
	n := 0
	for _, c := range p.convs {
		n += len(c.Turns)
	}
	return n
}
