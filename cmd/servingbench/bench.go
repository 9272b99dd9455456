package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/target"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	if o.help {
		fmt.Fprintf(stdout, "usage: servingbench [flags]\n       servingbench sweep [flags]\n       servingbench capacity --sla SLA [flags]\n"+
			"       servingbench tokenize --tokenizer PATH [--decode]\n       servingbench compare [flags] OLD NEW\n"+
			"       servingbench report [-o FILE] [--format html|png] RESULT.json...\n"+
			"       servingbench merge [-o FILE] SHARD.json...\n\n"+
			"flags (spelled as vLLM's benchmark_serving.py):\n%s", o.args.usage())
		return nil
	}
	c, err := o.check()
	if err != nil {
		return err
	}
	p, err := o.open(ctx, c, setup{load: o.benchLoad(), pool: o.maxConcurrency, next: "main benchmark run"}, stdout, stderr)
	if err != nil {
		return err
	}
	defer p.Close()

	cfg := p.config()
	printLoad(stdout, o)
	bar := newProgress(stderr, o.shard.Size(p.turns()), !o.disableTqdm)
	cfg.OnResult, cfg.OnStart = bar.add, bar.started
	bar.start()
	rep, err := servingbench.Run(ctx, cfg)
	bar.stop()
	p.Close() // idle connections hold descriptors the result file may need
	if errors.Is(err, servingbench.ErrNotStarted) {
		return notStarted(stderr, "the set-up of the run")
	}
	if err != nil {
		var te *servingbench.TLSError
		if errors.As(err, &te) { // met by the prewarm, without a warm-up
			return o.connError("prewarming connections", err)
		}
		return err
	}
	p.identify(rep)
	if err := servingbench.WriteText(stdout, rep, c.textOpts); err != nil {
		return err
	}
	if line := rep.ServerMetrics.NotScraped(); line != "" {
		fmt.Fprintln(stderr, line)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	o.reportAcceptErrors(stderr)
	if o.saveResult {
		path, err := o.save(rep, c.textOpts.Percentiles)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Result saved to", path)
	}
	if o.plot {
		path, err := o.plotReport(rep)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Report written to", path)
	}
	return rep.NoSuccess()
}

// tokenizerError words a --tokenizer that gave no tokenizer.
func tokenizerError(err error) error {
	if nf, ok := tokenizer.NotFound(err); ok {
		return fmt.Errorf("flag --tokenizer: no tokenizer for %q; tried %s", nf.Name, strings.Join(nf.Tried, ", "))
	}
	return fmt.Errorf("flag --tokenizer: %w", err)
}

// tokenizerNote is the line that says the built-in tokenizer stands in
// for the model's, "" when it does not.
func tokenizerNote(r tokenizer.Resolution) string {
	if !r.IsDefault() {
		return ""
	}
	why := "no --tokenizer or --model given"
	if r.Model != "" {
		if _, ok := tokenizer.NotFound(r.ModelErr); ok {
			why = fmt.Sprintf("no tokenizer found for --model %q", r.Model)
		} else {
			why = fmt.Sprintf("tokenizer for --model %q unusable (%v)", r.Model, r.ModelErr)
		}
	}
	return why + "; using the built-in Qwen3 tokenizer (pass --tokenizer PATH for exact counts)"
}

// notStarted says that an interrupt came before the benchmark's first
// request, so nothing was measured, printed or saved.
func notStarted(stderr io.Writer, phase string) error {
	fmt.Fprintf(stderr, "servingbench: interrupted during %s: the benchmark did not start; nothing was measured or saved\n", phase)
	return errInterrupted
}

// chatEndpoint checks --backend and fixes up the default endpoint for it:
// without --endpoint, the backend's own (/v1/chat/completions for
// openai-chat, a native protocol's route); it reports whether the backend
// speaks chat completions, whose path must end in chat/completions.
func (o *options) chatEndpoint() (bool, error) {
	b, err := servingbench.LookupBackend(o.backend)
	if err != nil {
		return false, usageError{fmt.Errorf("flag --backend: %w", err)}
	}
	if !o.args.given("endpoint") {
		o.endpoint = b.Endpoint
	} else if b.Chat() && !strings.HasSuffix(o.endpoint, "chat/completions") {
		return false, usageError{fmt.Errorf("flag --endpoint: backend %s needs a path ending in chat/completions, got %q", o.backend, o.endpoint)}
	}
	return b.Chat(), nil
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

// spec is the target the flags name: --base-url, else --host and --port,
// else the simulated server of --sim-profile and --sim-speed.
// testHTTPClient, set by tests only, sends every request of a run
// (target.Spec.HTTPClient): one that reaches an in-memory listener runs
// the CLI inside a testing/synctest bubble, on its fake clock. It is nil
// in the command.
var testHTTPClient *http.Client

func (o *options) spec() target.Spec {
	header, _ := o.header()          // checked by validate
	extraBody, _ := o.extraBodyMap() // checked by validate
	s := target.Spec{
		Backend: o.backend, Endpoint: o.endpoint, Model: o.model, Tokenizer: o.tokenizer,
		APIKey: os.Getenv("OPENAI_API_KEY"), Sim: o.simProfile, SimSpeed: o.simSpeed, SimPrefixCache: o.simPrefixCache,
		Header: header, ExtraBody: extraBody, TLS: o.tlsFiles(), HTTPClient: testHTTPClient,
	}
	switch {
	case o.baseURL != "":
		s.BaseURL = o.baseURL
	case o.args.given("host") || o.args.given("port"):
		s.BaseURL = "http://" + o.host + ":" + strconv.Itoa(o.port)
	}
	return s
}

// targetFlags names the flag of each target field.
var targetFlags = map[target.Field]string{
	target.FieldBaseURL: "--base-url", target.FieldBackend: "--backend", target.FieldEndpoint: "--endpoint",
	target.FieldModel: "--model", target.FieldTokenizer: "--tokenizer",
	target.FieldSim: "--sim-profile", target.FieldSimSpeed: "--sim-speed", target.FieldSimPrefixCache: "--sim-prefix-cache",
	target.FieldHeader: "--header", target.FieldExtraBody: "--extra-body",
	target.FieldCACert: "--ca-cert", target.FieldClientCert: "--client-cert", target.FieldClientKey: "--client-key",
	target.FieldInsecure: "--insecure",
}

// targetError words a target error in flags.
func (o *options) targetError(err error) error {
	var fe *target.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	flag := targetFlags[fe.Field]
	switch {
	case fe.Field == target.FieldTokenizer:
		return tokenizerError(fe.Err)
	case errors.Is(fe.Err, target.ErrRequired):
		return usageError{fmt.Errorf("flag %s is required when benchmarking a real server", flag)}
	case fe.Field == target.FieldBaseURL && !o.args.given("base-url"):
		return usageError{fmt.Errorf("flags --host %q and --port %d: %v", o.host, o.port, fe.Err)}
	case fe.Field == target.FieldInsecure:
		return usageError{fmt.Errorf("flag %s: %s", flag, tlsFlagWords.Replace(fe.Err.Error()))}
	case fe.Field == target.FieldCACert || fe.Field == target.FieldClientCert || fe.Field == target.FieldClientKey:
		return usageError{fmt.Errorf("flag %s %q: %s", flag, fe.Value, tlsFlagWords.Replace(fe.Err.Error()))}
	}
	return usageError{fmt.Errorf("flag %s: %v", flag, fe.Err)}
}

// editClient sets what the CLI adds to the target's client.
func (o *options) editClient(cc *servingbench.OpenAIConfig) {
	if o.servedModel != "" {
		cc.Model = o.servedModel
	}
	cc.RequestTimeout = seconds(o.requestTimeout)
	cc.StreamIdleTimeout = seconds(o.streamIdleTimeout)
	cc.RequireDone = o.requireDone
	cc.KeepText = o.saveDetailed || o.conversations() && !o.replayReplies // the history carries the generated text
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// printLoad prints vLLM's lines about the load before the run; for a
// ramp-up, vllm bench serve's two lines in place of the request rate.
func printLoad(w io.Writer, o *options) {
	if r := o.ramp; r != nil {
		fmt.Fprintf(w, "Traffic ramp-up strategy: %s.\n", r.Strategy)
		fmt.Fprintf(w, "Will increase RPS from %s to %s RPS over the duration of the benchmark.\n", pyInt(r.Start), pyInt(r.End))
	} else {
		rate := "inf"
		if !math.IsInf(o.requestRate, 1) {
			rate = strconv.FormatFloat(o.requestRate, 'f', -1, 64)
		}
		fmt.Fprintf(w, "Traffic request rate: %s\n", rate)
	}
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

// pyInt formats a ramp's rate as Python prints vLLM's integer flag, "8",
// and a fraction (which vLLM does not take) as Python prints a float.
func pyInt(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloat(f)
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
