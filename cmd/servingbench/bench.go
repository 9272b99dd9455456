package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	if o.help {
		fmt.Fprintf(stdout, "usage: servingbench [flags]\n       servingbench tokenize --tokenizer PATH [--decode]\n       servingbench compare [flags] OLD NEW\n\nflags (spelled as vLLM's benchmark_serving.py):\n%s", o.args.usage())
		return nil
	}
	chat, err := o.chatEndpoint()
	if err != nil {
		return err
	}
	textOpts, err := o.textOptions()
	if err != nil {
		return err
	}
	slo, err := o.slo()
	if err != nil {
		return err
	}
	meta, err := o.metadataMap()
	if err != nil {
		return err
	}
	if err := o.checkResultPath(); err != nil {
		return err
	}
	raiseFileLimit(stderr)

	tok, tokID, note, err := scenarios.ResolveTokenizer(o.tokenizer, o.model)
	if err != nil {
		return fmt.Errorf("flag --tokenizer: %w", err)
	}
	sc, err := o.scenario() // every flag is checked before the simulated server starts
	if err != nil {
		return err
	}
	baseURL, stopServer, err := o.target(stdout, tok)
	if err != nil {
		return err
	}
	defer stopServer()
	if note != "" {
		fmt.Fprintln(stdout, note)
	}
	reqs, arrival, err := sc.Prepare(tok)
	if err != nil {
		return err
	}

	if err := o.checkFileLimit(stderr, len(reqs)); err != nil {
		return err
	}
	client, err := o.client(baseURL, chat, sc, tok)
	if err != nil {
		return err
	}
	defer client.Close()

	cfg := servingbench.Config{
		Client: client, Requests: reqs, Arrival: arrival, MaxConcurrency: o.maxConcurrency,
		Tokenizer: tok, Goodput: slo, NoPrewarm: o.noPrewarm,
		Backend: o.backend, Model: o.model, TokenizerID: tokID, Metadata: meta,
	}
	if !o.noWarmup {
		fmt.Fprintln(stdout, "Starting initial single prompt test run...")
		if err := servingbench.Warmup(ctx, client, &reqs[0]); err != nil {
			return fmt.Errorf("%w; check --base-url, --model and --endpoint", err)
		}
		if ctx.Err() != nil {
			return notStarted(stderr, "the warm-up")
		}
		fmt.Fprintln(stdout, "Initial test run completed. Starting main benchmark run...")
	}
	printLoad(stdout, o)
	bar := newProgress(stderr, len(reqs), !o.disableTqdm)
	cfg.OnResult = bar.add
	bar.start()
	rep, err := servingbench.Run(ctx, cfg)
	bar.stop()
	client.Close() // idle connections hold descriptors the result file may need
	stopServer()
	if errors.Is(err, servingbench.ErrNotStarted) {
		return notStarted(stderr, "the set-up of the run")
	}
	if err != nil {
		return err
	}
	if err := servingbench.WriteText(stdout, rep, textOpts); err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	o.reportAcceptErrors(stderr)
	if o.saveResult {
		path, err := o.save(rep, textOpts.Percentiles)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Result saved to", path)
	}
	return rep.NoSuccess()
}

// notStarted says that an interrupt came before the benchmark's first
// request, so nothing was measured, printed or saved.
func notStarted(stderr io.Writer, phase string) error {
	fmt.Fprintf(stderr, "servingbench: interrupted during %s: the benchmark did not start; nothing was measured or saved\n", phase)
	return errInterrupted
}

// chatEndpoint reports whether the backend speaks chat completions and
// fixes up the default endpoint for it.
func (o *options) chatEndpoint() (bool, error) {
	chat, err := servingbench.BackendChat(o.backend)
	if err != nil {
		return false, usageError{fmt.Errorf("flag --backend: %w", err)}
	}
	if chat {
		if !o.args.given("endpoint") {
			o.endpoint = "/v1/chat/completions"
		} else if !strings.HasSuffix(o.endpoint, "chat/completions") {
			return false, usageError{fmt.Errorf("flag --endpoint: backend openai-chat needs a path ending in chat/completions, got %q", o.endpoint)}
		}
	}
	return chat, nil
}

func (o *options) textOptions() (servingbench.TextOptions, error) {
	ms, err := o.metrics()
	if err != nil {
		return servingbench.TextOptions{}, err
	}
	ps, err := o.percentiles()
	if err != nil {
		return servingbench.TextOptions{}, err
	}
	return servingbench.TextOptions{Metrics: ms, Percentiles: ps}, nil
}

func (o *options) slo() (servingbench.SLO, error) {
	if len(o.goodput) == 0 {
		return servingbench.SLO{}, nil
	}
	slo, err := servingbench.ParseSLOArgs(o.goodput)
	if err != nil {
		return slo, usageError{fmt.Errorf("flag --goodput: %w", err)}
	}
	return slo, nil
}

// target returns the server's base URL; with neither --base-url nor --host
// it starts the simulated server and says so in one line.
// The simulated server counts prompt tokens with tok, as a real server
// counts them with the model's own tokenizer.
func (o *options) target(stdout io.Writer, tok servingbench.Tokenizer) (string, func(), error) {
	if o.baseURL != "" {
		return strings.TrimRight(o.baseURL, "/"), func() {}, nil
	}
	if o.args.given("host") || o.args.given("port") {
		return "http://" + o.host + ":" + strconv.Itoa(o.port), func() {}, nil
	}
	m, err := servingtest.Profile(o.simProfile)
	if err != nil {
		return "", nil, usageError{fmt.Errorf("flag --sim-profile: %w", err)}
	}
	m.Speed = o.simSpeed
	m.Tokenizer = tok
	if o.model == "" {
		o.model = m.Name
	}
	m.Name = o.model
	srv := servingtest.NewServer(m)
	srv.SetErrorLog(io.Discard) // accept errors are counted and reported after the run
	o.sim = srv
	fmt.Fprintf(stdout, "No --base-url or --host: benchmarking the simulated server (profile %s, %gx speed) at %s\n", o.simProfile, o.simSpeed, srv.URL)
	return srv.URL, srv.Close, nil
}

// client builds the OpenAI-compatible client for the target.
func (o *options) client(baseURL string, chat bool, sc scenarios.Scenario, tok servingbench.Tokenizer) (interface {
	servingbench.Client
	Close()
}, error) {
	if o.model == "" {
		return nil, usageError{errors.New("flag --model is required when benchmarking a real server")}
	}
	model := o.model
	if o.servedModel != "" {
		model = o.servedModel
	}
	cc := sc.ClientConfig(servingbench.OpenAIConfig{
		BaseURL: baseURL, Endpoint: o.endpoint, Model: model, APIKey: os.Getenv("OPENAI_API_KEY"),
		RequestTimeout:    seconds(o.requestTimeout),
		StreamIdleTimeout: seconds(o.streamIdleTimeout),
		RequireDone:       o.requireDone,
		KeepText:          o.saveDetailed,
		Tokenizer:         tok,
	})
	if chat {
		return servingbench.NewChat(cc)
	}
	return servingbench.NewCompletions(cc)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// printLoad prints vLLM's lines about the load before the run.
func printLoad(w io.Writer, o *options) {
	rate := "inf"
	if !math.IsInf(o.requestRate, 1) {
		rate = strconv.FormatFloat(o.requestRate, 'f', -1, 64)
	}
	fmt.Fprintf(w, "Traffic request rate: %s\n", rate)
	kind := "Gamma distribution"
	if o.burstiness == 1 {
		kind = "Poisson process"
	}
	fmt.Fprintf(w, "Burstiness factor: %s (%s)\n", pyFloat(o.burstiness), kind)
	conc := "None"
	if o.maxConcurrency > 0 {
		conc = strconv.Itoa(o.maxConcurrency)
	}
	fmt.Fprintf(w, "Maximum request concurrency: %s\n", conc)
}

// pyFloat formats like Python's str(float): 1.0, 0.5, 8.0.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// save writes the result JSON atomically and returns its path
// (checkResultPath checked the directory before the run).
func (o *options) save(rep *servingbench.Report, percentiles []float64) (string, error) {
	path := o.resultPath(rep)
	err := servingbench.WriteJSONFile(path, rep, servingbench.JSONOptions{Percentiles: percentiles, Detailed: o.saveDetailed})
	if err != nil {
		return "", fmt.Errorf("saving the result: %w", err)
	}
	return path, nil
}
