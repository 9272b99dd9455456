package main

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// options holds the benchmark command line, spelled as vLLM's
// benchmark_serving.py spells it. Defaults are vLLM v0.9.1's.
type options struct {
	backend, baseURL, host, endpoint string
	port                             int
	model, tokenizer, servedModel    string
	apiKeyEnv                        string
	label                            string // trimmed; "" when not given
	convFlags                               // conversation.go
	shardOptions                            // shard.go

	datasetName, datasetPath                         string
	randomInputLen, randomOutputLen, randomPrefixLen int
	randomRangeRatio                                 float64
	randomExactLen                                   bool
	sharegptOutputLen                                int
	sonnetInputLen, sonnetOutputLen, sonnetPrefixLen int
	customOutputLen                                  int
	prefixRepNumPrefixes, prefixRepPrefixLen         int
	prefixRepSuffixLen, prefixRepOutputLen           int

	numPrompts     int
	requestRate    float64
	burstiness     float64
	maxConcurrency int
	seed           int
	noWarmup       bool
	noPrewarm      bool
	requireDone    bool

	// The ramp-up (vllm bench serve's --ramp-up-*): ramp is set by
	// validate when --ramp-up-strategy is given.
	rampStrategy             string
	rampStartRPS, rampEndRPS *float64
	ramp                     *servingbench.Ramp

	ignoreEOS         bool
	temperature, topP *float64
	topK              *int

	// The connection and start-up flags (conn.go).
	headers                       []string
	extraBody                     string
	insecure                      bool
	caCert, clientCert, clientKey string
	readyCheckTimeout             int
	numWarmups                    int

	// The server's Prometheus page (servermetrics.go).
	serverMetrics serverMetricsFlags

	percentileMetrics string
	metricPercentiles string
	goodput           []string

	saveResult, saveDetailed  bool
	plot                      bool // bench only: the HTML report beside the result file (report.go)
	resultDir, resultFilename string
	metadata                  []string

	disableTqdm       bool
	trustRemoteCode   bool
	requestTimeout    float64
	streamIdleTimeout float64
	simProfile        string
	simSpeed          float64
	sim               *servingtest.Server // the embedded server, when target started it

	sweep    sweepOptions    // servingbench sweep's own flags
	capacity capacityOptions // servingbench capacity's own flags

	cmd  string // the subcommand: "" (the benchmark), "sweep" or "capacity"
	help bool
	args *argSet
}

// parseOptions reads the benchmark's command line.
func parseOptions(args []string) (*options, error) { return parseCommand("", args) }

// parseCommand reads the command line of cmd: the benchmark's flags
// ("" for the benchmark itself), and for "sweep" and "capacity" their
// own too; every flag is checked before anything starts.
func parseCommand(cmd string, args []string) (*options, error) {
	o := &options{cmd: cmd,
		backend: "vllm", host: "127.0.0.1", port: 8000, endpoint: "/v1/completions",
		datasetName: "random", randomInputLen: 1024, randomOutputLen: 128,
		sonnetInputLen: 550, sonnetOutputLen: 150, sonnetPrefixLen: 200,
		customOutputLen:      256,
		prefixRepNumPrefixes: 10, prefixRepPrefixLen: 256, prefixRepSuffixLen: 256, prefixRepOutputLen: 128,
		numPrompts: 1000, requestRate: math.Inf(1), burstiness: 1,
		percentileMetrics: "ttft,tpot,itl", metricPercentiles: "99",
		requestTimeout: 6 * 3600, simProfile: "fp16", simSpeed: 10,
	}
	a := newArgSet()
	o.args = a
	a.str(&o.backend, "backend", "server kind, the API spoken: "+backendHelp())
	a.str(&o.baseURL, "base-url", "server base URL, e.g. http://127.0.0.1:8000 or https://... (overrides --host/--port; HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply, loopback addresses are never proxied)")
	a.str(&o.host, "host", "server host (default 127.0.0.1)")
	a.integer(&o.port, "port", "server port (default 8000)")
	a.str(&o.endpoint, "endpoint", "API path (default the backend's: /v1/completions; /v1/chat/completions for openai-chat); for tensorrt-llm, {model} is replaced by the path-escaped --model")
	a.str(&o.model, "model", "model name sent in requests (required for a real server)")
	a.str(&o.servedModel, "served-model-name", "model name sent in requests when it differs from --model")
	a.str(&o.tokenizer, "tokenizer", "tokenizer.json, model directory or HF cache name (default: --model, else the built-in Qwen tokenizer)")
	a.str(&o.datasetName, "dataset-name", "random, sharegpt, sonnet, custom, prefix-repetition, burstgpt or conversation (multi-turn conversations from --dataset-path; also sharegpt with --multi-turn) (default random, as in vllm bench serve; v0.9.1 defaulted to sharegpt)")
	a.str(&o.datasetPath, "dataset-path", "dataset file (sharegpt, sonnet, custom, burstgpt)")
	a.integer(&o.randomInputLen, "random-input-len", "random: input tokens per request (default 1024)")
	a.integer(&o.randomOutputLen, "random-output-len", "random: output tokens per request (default 128)")
	a.float(&o.randomRangeRatio, "random-range-ratio", "random: lengths drawn from [L(1-r), L(1+r)] (default 0)")
	a.integer(&o.randomPrefixLen, "random-prefix-len", "random: shared prefix tokens (default 0)")
	a.boolean(&o.randomExactLen, "random-exact-len", "random: adjust each prompt to exactly the drawn length (newer vLLM)")
	a.integer(&o.sharegptOutputLen, "sharegpt-output-len", "sharegpt: output length for every request (default: the reply's length)")
	a.integer(&o.sonnetInputLen, "sonnet-input-len", "sonnet: input tokens (default 550)")
	a.integer(&o.sonnetOutputLen, "sonnet-output-len", "sonnet: output tokens (default 150)")
	a.integer(&o.sonnetPrefixLen, "sonnet-prefix-len", "sonnet: shared prefix tokens (default 200)")
	a.integer(&o.customOutputLen, "custom-output-len", "custom: output tokens when a line has no output_tokens (default 256)")
	a.integer(&o.prefixRepNumPrefixes, "prefix-repetition-num-prefixes", "prefix-repetition: distinct prefixes (default 10)")
	a.integer(&o.prefixRepPrefixLen, "prefix-repetition-prefix-len", "prefix-repetition: prefix tokens (default 256)")
	a.integer(&o.prefixRepSuffixLen, "prefix-repetition-suffix-len", "prefix-repetition: suffix tokens (default 256)")
	a.integer(&o.prefixRepOutputLen, "prefix-repetition-output-len", "prefix-repetition: output tokens (default 128)")
	a.integer(&o.numPrompts, "num-prompts", "number of requests (default 1000)")
	a.add("request-rate", argValue, "requests per second, or inf (default inf)", func(v string) error {
		if strings.EqualFold(v, "inf") {
			o.requestRate = math.Inf(1)
			return nil
		}
		f, err := parseFloat(v)
		o.requestRate = f
		return err
	})
	a.float(&o.burstiness, "burstiness", "Gamma shape of inter-arrival gaps; 1 = Poisson (default 1)")
	a.str(&o.rampStrategy, "ramp-up-strategy", "linear or exponential: raise the request rate from --ramp-up-start-rps to --ramp-up-end-rps over the run, request by request, as vllm bench serve does (--request-rate stays inf)")
	a.optFloat(&o.rampStartRPS, "ramp-up-start-rps", "ramp-up: requests per second at the first request (> 0; vLLM takes whole numbers, fractions are accepted here)")
	a.optFloat(&o.rampEndRPS, "ramp-up-end-rps", "ramp-up: requests per second at the last request (>= --ramp-up-start-rps)")
	a.integer(&o.maxConcurrency, "max-concurrency", "maximum requests in flight (default: no limit)")
	a.integer(&o.seed, "seed", "random seed (default 0)")
	a.boolean(&o.noWarmup, "no-warmup", "skip the untimed initial test request vLLM v0.9.1 sends first (--num-warmups still sends its requests)")
	a.boolean(&o.noPrewarm, "no-prewarm", "open no connections before the run (default: one per request of its first second, at most --max-concurrency or 64)")
	a.boolean(&o.requireDone, "require-done", "fail streams that end without data: [DONE] even after their finish_reason or usage")
	a.boolean(&o.ignoreEOS, "ignore-eos", "send ignore_eos: generate exactly the requested output length")
	a.optFloat(&o.temperature, "temperature", "sampling temperature (sent only when given)")
	a.optFloat(&o.topP, "top-p", "top_p (sent only when given)")
	a.optInteger(&o.topK, "top-k", "top_k (sent only when given)")
	a.str(&o.percentileMetrics, "percentile-metrics", "comma-separated metrics to print: ttft,tpot,itl,e2el (default ttft,tpot,itl)")
	a.str(&o.metricPercentiles, "metric-percentiles", "comma-separated percentiles, e.g. 25,50,99.9 (default 99)")
	a.list(&o.goodput, "goodput", "SLOs in ms for goodput, e.g. ttft:100 tpot:50 e2el:3000")
	a.boolean(&o.saveResult, "save-result", "write the result JSON")
	a.boolean(&o.saveDetailed, "save-detailed", "with --save-result: add per-request arrays and errors")
	a.str(&o.resultDir, "result-dir", "directory for the result file (default .)")
	a.str(&o.resultFilename, "result-filename", "result file name (default {label}-{rate}qps[-concurrency{N}]-{model}-{date}.json, with --backend for {label} without --label)")
	a.str(&o.label, "label", `label (prefix) of the results, e.g. q8_0: the result file's "label" and its default name's prefix (default: none, --backend in the name; one line, no / \ : * ? " < > |)`)
	a.list(&o.metadata, "metadata", "KEY=VALUE pairs recorded in the result file")
	a.boolean(&o.disableTqdm, "disable-tqdm", "no progress bar")
	a.boolean(&o.trustRemoteCode, "trust-remote-code", "accepted for compatibility; servingbench runs no remote code")
	a.float(&o.requestTimeout, "request-timeout", "seconds before a request fails (default 21600, vLLM's 6 h)")
	a.float(&o.streamIdleTimeout, "stream-idle-timeout", "seconds without a byte before a stream fails (default: off)")
	a.str(&o.simProfile, "sim-profile", "simulated server profile when no server is given: fp16, w8a8 or zero (default fp16)")
	a.float(&o.simSpeed, "sim-speed", "simulated server time scale, 10 = ten times faster than real (default 10)")
	o.addConnFlags(a)
	o.serverMetrics.add(a)
	o.addConversationFlags(a)
	o.addShardFlags(a)
	a.boolean(&o.help, "help", "show this help (also -h)")
	switch cmd {
	case "":
		a.boolean(&o.plot, "plot", "also write the HTML report of the run beside the result file, named as it with .report.html for .json (see servingbench report)")
	case "sweep":
		o.addSweepFlags(a)
	case "capacity":
		o.addCapacityFlags(a)
	}
	if err := a.parse(args); err != nil {
		return nil, usageError{err}
	}
	if o.help {
		return o, nil
	}
	if err := o.validate(); err != nil {
		return nil, usageError{err}
	}
	switch cmd {
	case "sweep":
		if err := o.validateSweep(); err != nil {
			return nil, usageError{err}
		}
	case "capacity":
		if err := o.validateCapacity(); err != nil {
			return nil, usageError{err}
		}
	}
	return o, nil
}

func (o *options) validate() error {
	checks := []struct {
		bad  bool
		flag string
		want string
		got  any
	}{
		{o.numPrompts < 1, "num-prompts", ">= 1", o.numPrompts},
		{o.maxConcurrency < 0, "max-concurrency", ">= 0", o.maxConcurrency},
		// Written as !(x > 0) so that NaN fails too.
		{!(o.requestRate > 0), "request-rate", "> 0 or inf", o.requestRate},
		{!(o.burstiness > 0) || math.IsInf(o.burstiness, 0), "burstiness", "> 0", o.burstiness},
		{o.randomInputLen < 1, "random-input-len", ">= 1", o.randomInputLen},
		{o.randomOutputLen < 1, "random-output-len", ">= 1", o.randomOutputLen},
		{o.randomPrefixLen < 0, "random-prefix-len", ">= 0", o.randomPrefixLen},
		{!(o.randomRangeRatio >= 0 && o.randomRangeRatio < 1), "random-range-ratio", "in [0, 1)", o.randomRangeRatio},
		{!(o.requestTimeout > 0) || math.IsInf(o.requestTimeout, 0), "request-timeout", "> 0 seconds", o.requestTimeout},
		{!(o.streamIdleTimeout >= 0) || math.IsInf(o.streamIdleTimeout, 0), "stream-idle-timeout", ">= 0 seconds", o.streamIdleTimeout},
		{!(o.simSpeed > 0) || math.IsInf(o.simSpeed, 0), "sim-speed", "> 0", o.simSpeed},
		{o.port < 1 || o.port > 65535, "port", "in 1..65535", o.port},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("flag --%s must be %s, got %v", c.flag, c.want, c.got)
		}
	}
	if o.baseURL != "" {
		if u, err := url.Parse(o.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("flag --base-url must be an absolute http or https URL such as http://127.0.0.1:8000, got %q", o.baseURL)
		}
	}
	if o.args.given("label") {
		label := strings.TrimSpace(o.label)
		if err := servingbench.CheckLabel(label); err != nil {
			return fmt.Errorf("flag --label %q: %v", o.label, err)
		}
		o.label = label
	}
	if o.saveDetailed && !o.saveResult {
		o.saveResult = true // vLLM writes the file too when only --save-detailed is given
	}
	if err := o.checkConn(); err != nil {
		return err
	}
	if err := o.serverMetrics.check(o.args); err != nil {
		return err
	}
	if err := o.validateShard(); err != nil {
		return err
	}
	if err := o.validateConversations(); err != nil {
		return err
	}
	return o.rampUp()
}

// maxRampRPS is the highest rate servingbench.Ramp takes.
const maxRampRPS = 1e9

// rampUp checks the ramp-up flags as vllm bench serve's main_async does,
// and one more rule (a linear ramp must start above 0), and sets o.ramp.
func (o *options) rampUp() error {
	given := ""
	for _, name := range []string{"ramp-up-strategy", "ramp-up-start-rps", "ramp-up-end-rps"} {
		if o.args.given(name) {
			given = name
			break
		}
	}
	switch {
	case given == "":
		return nil
	case o.cmd != "":
		return fmt.Errorf("flag --%s: servingbench %s sets the load of each run itself; a ramp-up is a benchmark of its own (servingbench --ramp-up-strategy ...)", given, o.cmd)
	case !o.args.given("ramp-up-strategy"):
		// vLLM ignores them; a run meant to ramp would run at --request-rate.
		return fmt.Errorf("flag --%s needs --ramp-up-strategy linear or exponential", given)
	}
	strategy, err := servingbench.ParseRampStrategy(o.rampStrategy)
	if err != nil {
		return fmt.Errorf("flag --ramp-up-strategy: invalid choice %q (want linear or exponential)", o.rampStrategy)
	}
	if o.args.given("request-rate") && !math.IsInf(o.requestRate, 1) {
		return fmt.Errorf("flag --request-rate %s: with --ramp-up-strategy the ramp sets the request rate; remove --request-rate (vLLM: \"When using ramp-up, do not specify --request-rate.\")",
			strconv.FormatFloat(o.requestRate, 'f', -1, 64))
	}
	if o.rampStartRPS == nil || o.rampEndRPS == nil {
		return errors.New("flags --ramp-up-start-rps and --ramp-up-end-rps are both required with --ramp-up-strategy")
	}
	start, end := *o.rampStartRPS, *o.rampEndRPS
	for _, f := range []struct {
		name string
		v    float64
	}{{"ramp-up-start-rps", start}, {"ramp-up-end-rps", end}} {
		switch {
		case math.IsInf(f.v, 0):
			return fmt.Errorf("flag --%s must be a number of requests per second, got %v", f.name, f.v)
		case f.v < 0:
			return fmt.Errorf("flag --%s must be >= 0 (vLLM: \"Ramp-up start and end RPS must be non-negative\"), got %v", f.name, f.v)
		case f.v > maxRampRPS:
			return fmt.Errorf("flag --%s must be <= %g requests per second, got %v", f.name, float64(maxRampRPS), f.v)
		}
	}
	switch {
	case start > end:
		return fmt.Errorf("flag --ramp-up-start-rps %v must be <= --ramp-up-end-rps %v", start, end)
	case start == 0 && strategy == servingbench.RampExponential:
		return errors.New("flag --ramp-up-start-rps must be > 0 for --ramp-up-strategy exponential, got 0 (vLLM: \"For exponential ramp-up, the start RPS cannot be 0.\")")
	case start == 0:
		// vLLM accepts it, then fails on the first request: its rate is 0.
		return errors.New("flag --ramp-up-start-rps must be > 0, got 0: the first request of a linear ramp runs at the start rate, and at 0 no request is ever due " +
			"(vLLM accepts the flag, then its get_request asserts \"Obtained non-positive request rate 0.0.\" as the run starts); start at 1")
	}
	r := servingbench.Ramp{Strategy: strategy, Start: start, End: end, Burstiness: o.burstiness, Seed: uint64(o.seed)}
	if err := r.Validate(); err != nil { // checked above, flag by flag
		return fmt.Errorf("flags --ramp-up-*: %v", strings.TrimPrefix(err.Error(), "servingbench: "))
	}
	o.ramp = &r
	return nil
}

// percentiles parses --metric-percentiles.
func (o *options) percentiles() ([]float64, error) {
	var ps []float64
	for _, s := range strings.Split(o.metricPercentiles, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(p >= 0 && p <= 100) { // vLLM passes them to numpy.percentile: [0, 100]
			return nil, usageError{fmt.Errorf("flag --metric-percentiles: %q is not a percentile in [0, 100]", s)}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// metrics parses --percentile-metrics: vLLM's metrics of
// servingbench.LatencyMetrics.
func (o *options) metrics() ([]string, error) {
	var known []string
	for _, m := range servingbench.LatencyMetrics() {
		if m.VLLM {
			known = append(known, m.Key)
		}
	}
	var ms []string
	for _, s := range strings.Split(o.percentileMetrics, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(known, s) {
			return nil, usageError{fmt.Errorf("flag --percentile-metrics: unknown metric %q (want %s)", s, strings.Join(known, ", "))}
		}
		ms = append(ms, s)
	}
	return ms, nil
}

// metadataMap parses --metadata KEY=VALUE pairs.
func (o *options) metadataMap() (map[string]string, error) {
	if len(o.metadata) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(o.metadata))
	for _, kv := range o.metadata {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("flag --metadata: %q is not KEY=VALUE", kv)}
		}
		if k == "label" && o.label != "" {
			// vLLM would save the one and name the file after the other.
			return nil, usageError{fmt.Errorf("flag --metadata %q and flag --label %q both give the label: give it once, with --label", kv, o.label)}
		}
		m[k] = v
	}
	return m, nil
}

// backendHelp lists the backends by API: "vllm, openai, ... (OpenAI
// completions); openai-chat (OpenAI chat completions)".
func backendHelp() string {
	var apis []string
	names := map[string][]string{}
	for _, b := range servingbench.Backends() {
		if names[b.API] == nil {
			apis = append(apis, b.API)
		}
		names[b.API] = append(names[b.API], b.Name)
	}
	parts := make([]string, len(apis))
	for i, api := range apis {
		parts[i] = strings.Join(names[api], ", ") + " (" + api + ", default endpoint " + endpointOf(names[api][0]) + ")"
	}
	return strings.Join(parts, "; ")
}

func endpointOf(name string) string {
	b, _ := servingbench.LookupBackend(name)
	return b.Endpoint
}
