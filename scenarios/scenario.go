package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// Scenario is one benchmark: a dataset, a load (how many prompts, at what
// rate, how bursty, how many in flight) and sampling options. The zero
// value of every field but Dataset and NumPrompts is vLLM's default.
type Scenario struct {
	// Name, when set, leads String.
	Name string
	// Dataset makes the requests. Required unless Conversations is set.
	Dataset Dataset
	// Conversations, set in place of Dataset, makes a multi-turn
	// benchmark: NumPrompts conversations, whose starts arrive at
	// RequestRate conversations a second (see PrepareConversations).
	Conversations ConversationDataset
	// MaxActiveConversations bounds the conversations under way (vLLM's
	// multi-turn --max-active-conversations); 0 means no bound. Only with
	// Conversations.
	MaxActiveConversations int
	// NumPrompts is the number of requests, or of conversations. Required,
	// at least 1.
	NumPrompts int
	// RequestRate is in requests per second; 0 or +Inf sends every request
	// at once (vLLM's "inf"), except that 0 with a Scheduled dataset
	// (BurstGPT) replays the dataset's own arrival times.
	RequestRate float64
	// Burstiness is the shape of the Gamma inter-arrival distribution; 0
	// means 1 (Poisson).
	Burstiness float64
	// MaxConcurrency bounds the requests in flight; 0 means no bound.
	MaxConcurrency int
	// Seed seeds the dataset and the arrival process.
	Seed uint64
	// Warmup sends the first request once, untimed, before the run, as
	// vLLM v0.9.1 always does.
	Warmup bool

	// Ramp-up, as vllm bench serve's --ramp-up-strategy,
	// --ramp-up-start-rps and --ramp-up-end-rps: when RampEndRPS is set,
	// request i of N arrives at a rate going from RampStartRPS to
	// RampEndRPS (linearly or exponentially in i, servingbench.Ramp), gaps
	// drawn with Burstiness and seeded with Seed, in place of RequestRate,
	// which must then be 0 (vLLM: --request-rate stays inf).
	RampStrategy             servingbench.RampStrategy
	RampStartRPS, RampEndRPS float64

	// Sampling options. They are not part of servingbench.Config: whoever
	// builds the Client passes them on (ignore_eos, temperature, top_p,
	// top_k). Nil means the server's default.
	IgnoreEOS   bool
	Temperature *float64
	TopP        *float64
	TopK        *int

	// err is the error of a catalog function's option the scenario
	// cannot take (see Scaled); Validate reports it.
	err error
}

// String names the scenario with slash-separated key=value pairs, stable
// for a given value and usable as a sub-benchmark name (benchstat reads
// each pair as a key): "scenario=NAME" when Name is set, the dataset's
// (or conversation dataset's) String, "n=N", "rate=R" ("inf", "trace" for a replayed schedule, "ramp-linear-1-8" for a ramp-up),
// then, when set, "burstiness", "concurrency", "active" (MaxActiveConversations), "seed", "ignore-eos",
// "temperature", "top-p", "top-k" and "warmup".
func (s Scenario) String() string {
	var parts []string
	add := func(key, value string) { parts = append(parts, key+"="+value) }
	if s.Name != "" {
		add("scenario", s.Name)
	}
	switch {
	case s.Conversations != nil:
		parts = append(parts, s.Conversations.String())
	case s.Dataset == nil:
		add("dataset", "none")
	default:
		parts = append(parts, s.Dataset.String())
	}
	add("n", strconv.Itoa(s.NumPrompts))
	switch {
	case s.ramps():
		add("rate", fmt.Sprintf("ramp-%s-%s-%s", s.RampStrategy, formatFloat(s.RampStartRPS), formatFloat(s.RampEndRPS)))
		if s.Burstiness != 0 && s.Burstiness != 1 {
			add("burstiness", formatFloat(s.Burstiness))
		}
	case s.usesTrace():
		add("rate", "trace")
	case s.RequestRate == 0 || math.IsInf(s.RequestRate, 1):
		add("rate", "inf")
	default:
		add("rate", formatFloat(s.RequestRate))
		if s.Burstiness != 0 && s.Burstiness != 1 {
			add("burstiness", formatFloat(s.Burstiness))
		}
	}
	if s.MaxConcurrency != 0 {
		add("concurrency", strconv.Itoa(s.MaxConcurrency))
	}
	if s.MaxActiveConversations != 0 {
		add("active", strconv.Itoa(s.MaxActiveConversations))
	}
	if s.Seed != 0 {
		add("seed", strconv.FormatUint(s.Seed, 10))
	}
	if s.IgnoreEOS {
		add("ignore-eos", "true")
	}
	if s.Temperature != nil {
		add("temperature", formatFloat(*s.Temperature))
	}
	if s.TopP != nil {
		add("top-p", formatFloat(*s.TopP))
	}
	if s.TopK != nil {
		add("top-k", strconv.Itoa(*s.TopK))
	}
	if s.Warmup {
		add("warmup", "true")
	}
	return strings.Join(parts, "/")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// usesTrace reports whether the arrival times come from the dataset.
func (s Scenario) usesTrace() bool {
	_, ok := s.Dataset.(Scheduled)
	return ok && s.RequestRate == 0 && !s.ramps()
}

// ramps reports whether the scenario ramps its rate up.
func (s Scenario) ramps() bool { return s.RampEndRPS != 0 }

// ramp is the scenario's ramp-up arrival.
func (s Scenario) ramp() servingbench.Ramp {
	return servingbench.Ramp{Strategy: s.RampStrategy, Start: s.RampStartRPS, End: s.RampEndRPS, Burstiness: s.Burstiness, Seed: s.Seed}
}

// Validate reports every bad field, the dataset's own included, and the
// options of a catalog function the scenario could not take.
func (s Scenario) Validate() error {
	errs := []error{s.err}
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenarios: Scenario."+format, args...))
	}
	errs = append(errs, s.validateConversations())
	if s.Dataset == nil && s.Conversations == nil {
		bad("Dataset is nil")
	} else if v, ok := s.Dataset.(interface{ Validate() error }); ok {
		errs = append(errs, v.Validate())
	}
	if s.NumPrompts < 1 {
		bad("NumPrompts must be >= 1, got %d", s.NumPrompts)
	}
	if math.IsNaN(s.RequestRate) || s.RequestRate < 0 {
		bad("RequestRate must be >= 0 or +Inf, got %v", s.RequestRate)
	}
	if math.IsNaN(s.Burstiness) || math.IsInf(s.Burstiness, 0) || s.Burstiness < 0 {
		bad("Burstiness must be > 0 (0 means 1), got %v", s.Burstiness)
	}
	if s.MaxConcurrency < 0 {
		bad("MaxConcurrency must be >= 0, got %d", s.MaxConcurrency)
	}
	if s.ramps() {
		if s.RequestRate != 0 && !math.IsInf(s.RequestRate, 1) {
			bad("RequestRate must be 0 with a ramp-up (RampEndRPS %v), got %v: the ramp sets the rate", s.RampEndRPS, s.RequestRate)
		}
		if err := s.ramp().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("scenarios: Scenario ramp-up: %w", err))
		}
	} else if s.RampStartRPS != 0 || s.RampStrategy != servingbench.RampLinear {
		bad("RampStartRPS and RampStrategy need RampEndRPS, got start %v, strategy %v", s.RampStartRPS, s.RampStrategy)
	}
	if t := s.Temperature; t != nil && !(*t >= 0) {
		bad("Temperature must be >= 0, got %v", *t)
	}
	if p := s.TopP; p != nil && !(*p > 0 && *p <= 1) {
		bad("TopP must be in (0, 1], got %v", *p)
	}
	if k := s.TopK; k != nil && *k < -1 {
		bad("TopK must be >= -1 (-1 or 0: no limit), got %d", *k)
	}
	return errors.Join(errs...)
}

// Prepare validates the scenario and makes its requests with tok, and its
// arrival process: the ramp-up (servingbench.Ramp) when RampEndRPS is set,
// the dataset's own schedule (see RequestRate) or a servingbench.Gamma of
// RequestRate and Burstiness seeded with Seed.
//
// Prepare honours ctx: when it is done, the dataset stops within a few
// hundred prompts and Prepare returns an error wrapping ctx.Err()
// (context.Canceled after a cancel), with no requests.
func (s Scenario) Prepare(ctx context.Context, tok servingbench.Tokenizer) ([]servingbench.Request, servingbench.Arrival, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if s.Conversations != nil {
		return nil, nil, fmt.Errorf("scenarios: Scenario %q holds conversations (%s): use PrepareConversations", s.Name, s.Conversations)
	}
	reqs, err := s.Dataset.Requests(ctx, tok, s.NumPrompts, s.Seed)
	if err != nil {
		return nil, nil, err
	}
	if s.usesTrace() {
		arr, err := s.Dataset.(Scheduled).Arrival(s.NumPrompts, s.Seed)
		if err != nil {
			return nil, nil, err
		}
		return reqs, arr, nil
	}
	if s.ramps() {
		return reqs, s.ramp(), nil
	}
	return reqs, servingbench.Gamma{Rate: s.RequestRate, Burstiness: s.Burstiness, Seed: s.Seed}, nil
}

// Config returns a servingbench.Config holding the scenario's requests,
// arrival process (prepared with tok), MaxConcurrency and Warmup, and the
// scenario's String under the Metadata key "scenario". The caller sets
// Client (whose OpenAIConfig.Tokenizer counts tokens) and the target's
// identity.
func (s Scenario) Config(ctx context.Context, tok servingbench.Tokenizer) (servingbench.Config, error) {
	reqs, arr, err := s.Prepare(ctx, tok)
	if err != nil {
		return servingbench.Config{}, err
	}
	return servingbench.Config{
		Requests:       reqs,
		Arrival:        arr,
		MaxConcurrency: s.MaxConcurrency,
		Warmup:         s.Warmup,
		Metadata:       map[string]string{"scenario": s.String()},
	}, nil
}

// ClientConfig returns base with the scenario's options for the client
// applied: MaxConcurrency sizes the connection pool, and IgnoreEOS,
// Temperature, TopP and TopK are sent with every request.
func (s Scenario) ClientConfig(base servingbench.OpenAIConfig) servingbench.OpenAIConfig {
	base.MaxConcurrency = s.MaxConcurrency
	base.IgnoreEOS = s.IgnoreEOS
	base.Temperature, base.TopP, base.TopK = s.Temperature, s.TopP, s.TopK
	return base
}
