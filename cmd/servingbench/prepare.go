package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/target"
)

// checked is what the flags say once every one of them is checked, before
// anything starts: the benchmark, sweep and capacity commands share it.
type checked struct {
	textOpts servingbench.TextOptions
	slo      servingbench.SLO
	meta     map[string]string
	spec     target.Spec
	sc       scenarios.Scenario
}

// check checks the flags the benchmark's set-up uses, in the order the
// benchmark always has: the backend and endpoint, the printed metrics,
// goodput, metadata, the result directory, the target, the dataset.
func (o *options) check() (*checked, error) {
	if _, err := o.chatEndpoint(); err != nil {
		return nil, err
	}
	c := &checked{}
	var err error
	if c.textOpts, err = o.textOptions(); err != nil {
		return nil, err
	}
	if c.slo, err = o.slo(); err != nil {
		return nil, err
	}
	if c.meta, err = o.metadataMap(); err != nil {
		return nil, err
	}
	if err := o.checkResultPath(); err != nil {
		return nil, err
	}
	c.spec = o.spec()
	if err := target.Validate(c.spec); err != nil {
		return nil, o.targetError(err)
	}
	if c.sc, err = o.scenario(); err != nil {
		return nil, err
	}
	return c, nil
}

// setup says how a command's runs load the server, for the open-file
// check and the client's connection pool, and what the warm-up leads to.
type setup struct {
	load fileLoad
	// pool sizes the client's idle connection pool: the largest
	// concurrency of the runs, 0 when one has none.
	pool int
	// next ends the warm-up's line: "main benchmark run" (vLLM's words),
	// "sweep", "capacity search".
	next string
}

// prepared is a target ready to be benchmarked: the server started or
// reached and identified, the prompts made, the client built and warmed up.
type prepared struct {
	o       *options
	c       *checked
	tg      *target.Target
	reqs    []servingbench.Request
	arrival servingbench.Arrival
	tokID   string
	id      target.Identity
	client  *servingbench.StreamClient
	// A run of conversations (conversation.go): reqs holds the first
	// turn's request only.
	convs  []servingbench.Conversation
	render func([]servingbench.Message) (string, error)
}

// open starts what c describes, printing what the benchmark prints before
// its run: the simulated server's line, the tokenizer's note, the ready
// check's lines, the server's identity, the warm-up's lines. An interrupt
// before it is done says so (notStarted). The caller closes the result.
func (o *options) open(ctx context.Context, c *checked, su setup, stdout, stderr io.Writer) (_ *prepared, err error) {
	raiseFileLimit(stderr)
	// Every flag is checked: the tokenizer is loaded, then the simulated
	// server (without --base-url or --host) starts.
	tg, err := target.Open(c.spec)
	if err != nil {
		return nil, o.targetError(err)
	}
	p := &prepared{o: o, c: c, tg: tg}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	o.model = tg.Spec.Model
	if tg.Simulated() {
		o.sim = tg.Sim
		fmt.Fprintf(stdout, "No --base-url or --host: benchmarking the simulated server (profile %s, %gx speed) at %s\n", tg.Spec.Sim, tg.Spec.SimSpeed, tg.URL)
	}
	tok := tg.Tokenizer.Tokenizer
	p.tokID = tg.Tokenizer.ID
	if note := tokenizerNote(tg.Tokenizer); note != "" {
		fmt.Fprintln(stdout, note)
	}
	if c.sc.Conversations != nil {
		err = p.prepareConversations(ctx, tok, stdout)
	} else {
		p.reqs, p.arrival, err = c.sc.Prepare(ctx, tok)
	}
	if err != nil && ctx.Err() != nil {
		return nil, notStarted(stderr, "the preparation of the prompts")
	}
	if err != nil {
		return nil, err
	}
	if o.ramp != nil {
		p.arrival = *o.ramp
	}
	if err := o.checkFileLimit(stderr, p.turns(), tg.FilesPerRequest(), su.load); err != nil {
		return nil, err
	}
	p.client, err = tg.NewClient(c.sc, nil, func(cc *servingbench.OpenAIConfig) {
		o.editClient(cc)
		cc.MaxConcurrency = su.pool
	})
	if err != nil {
		return nil, err
	}
	// With --ready-check-timeout-sec the initial test request is sent
	// until the server answers it, before anything else asks the server
	// who it is.
	if o.readyCheckTimeout > 0 {
		if err := o.waitReady(ctx, p, stdout, stderr); err != nil {
			return nil, err
		}
	}
	// Who the server says it is: printed when it tells, and saved. The
	// backend is the user's --backend, no identity, so no line says it.
	p.id = tg.Identify(ctx)
	if ctx.Err() != nil {
		return nil, notStarted(stderr, "the identification of the server")
	}
	if p.id.Server != "" || len(p.id.Facts) > 0 {
		fmt.Fprintln(stdout, "Server:", p.id)
	}
	next := fmt.Sprintf(" Starting %s...", su.next)
	if o.numWarmups > 0 {
		next = ""
	}
	switch {
	case o.readyCheckTimeout > 0 && next != "":
		fmt.Fprintf(stdout, "Starting %s...\n", su.next)
	case o.readyCheckTimeout > 0:
	case !o.noWarmup:
		fmt.Fprintln(stdout, "Starting initial single prompt test run...")
		if err := servingbench.Warmup(ctx, p.client, &p.reqs[0]); err != nil {
			return nil, o.connError("warm-up request failed", errors.Unwrap(err))
		}
		if ctx.Err() != nil {
			return nil, notStarted(stderr, "the warm-up")
		}
		fmt.Fprintf(stdout, "Initial test run completed.%s\n", next)
	}
	if o.numWarmups > 0 {
		if err := o.warmups(ctx, p, su, stdout, stderr); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// waitReady sends the initial test request until the server answers it,
// for up to --ready-check-timeout-sec, as vllm bench serve does, saying
// each failed attempt on stderr.
func (o *options) waitReady(ctx context.Context, p *prepared, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "Waiting for endpoint to become up in %d seconds\n", o.readyCheckTimeout)
	rc := servingbench.ReadyCheck{
		Timeout: time.Duration(o.readyCheckTimeout) * time.Second,
		OnRetry: func(attempt int, err error) {
			fmt.Fprintf(stderr, "Endpoint is not ready (attempt %d; again in %v): %s\n", attempt, servingbench.ReadyInterval, target.OneLine(err.Error()))
		},
	}
	err := servingbench.WaitReady(ctx, p.client, &p.reqs[0], rc)
	if ctx.Err() != nil {
		return notStarted(stderr, "the ready check")
	}
	var nr *servingbench.NotReadyError
	switch {
	case errors.As(err, &nr):
		return fmt.Errorf("ready check (--ready-check-timeout-sec %d): %w; check --base-url, --model and --endpoint", o.readyCheckTimeout, err)
	case err != nil:
		return o.connError("ready check", err)
	}
	fmt.Fprintln(stdout, "Initial test run completed.")
	return nil
}

// warmups sends --num-warmups untimed requests, at most the run's
// concurrency at once, as vllm bench serve does: every one failing is an
// error, some failing a warning.
func (o *options) warmups(ctx context.Context, p *prepared, su setup, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "Warming up with %d requests...\n", o.numWarmups)
	err := servingbench.Warmups(ctx, p.client, &p.reqs[0], o.numWarmups, su.pool)
	if ctx.Err() != nil {
		return notStarted(stderr, "the warm-ups")
	}
	var we *servingbench.WarmupError
	if errors.As(err, &we) && we.All() {
		return o.connError(fmt.Sprintf("warm-up: all %d requests (--num-warmups) failed, first", we.N), we.First)
	}
	if err != nil {
		fmt.Fprintln(stderr, "warning:", strings.TrimPrefix(err.Error(), "servingbench: "))
	}
	fmt.Fprintf(stdout, "Warmup run completed. Starting %s...\n", su.next)
	return nil
}

// Close closes the client and stops the simulated server; idle
// connections hold descriptors the result files may need. It is
// idempotent.
func (p *prepared) Close() {
	if p.client != nil {
		p.client.Close()
	}
	p.tg.Close()
}

// config is the run of the prepared benchmark as the flags give it.
func (p *prepared) config() servingbench.Config {
	o := p.o
	cfg := servingbench.Config{
		Client: p.client, Requests: p.reqs, Arrival: p.arrival, MaxConcurrency: o.maxConcurrency,
		Goodput: p.c.slo, NoPrewarm: o.noPrewarm, ServerMetrics: o.serverMetrics.scraper(p.tg),
		Backend: o.backend, Model: o.model, TokenizerID: p.tokID, Metadata: p.c.meta,
	}
	p.conversationConfig(&cfg) // conversation.go
	o.shardConfig(&cfg)        // shard.go
	return cfg
}

// identify gives rep the label and the server's identity, as saved.
func (p *prepared) identify(rep *servingbench.Report) {
	rep.Label, rep.Server, rep.ServerID = p.o.label, p.id.String(), p.id.ID
}

// runner runs the prepared benchmark at a load, for a sweep or a capacity
// search (capacity.Runner): the first load.Requests prompts (all of them
// when 0) at load.Rate, with the flags' burstiness and seed, at most
// load.Concurrency in flight, with a progress bar of its own on stderr
// (unless --disable-tqdm); no warm-up (open sent it). The report carries
// the label and the server's identity.
func (p *prepared) runner(stderr io.Writer) capacity.Runner {
	cfg := p.config()
	var bar atomic.Pointer[progress]
	cfg.OnResult = func(r *servingbench.Result) { bar.Load().add(r) }
	cfg.OnStart = func(t time.Time) { bar.Load().started(t) }
	o := p.o
	run := capacity.ConfigRunner(cfg, func(rate float64) servingbench.Arrival {
		return servingbench.Gamma{Rate: rate, Burstiness: o.burstiness, Seed: uint64(o.seed)}
	})
	return func(ctx context.Context, load capacity.Load) (*servingbench.Report, error) {
		n := load.Requests
		if n == 0 {
			n = len(p.reqs)
		}
		b := newProgress(stderr, n, !o.disableTqdm)
		bar.Store(b)
		b.start()
		rep, err := run(ctx, load)
		b.stop()
		if rep != nil {
			p.identify(rep)
		}
		return rep, err
	}
}
