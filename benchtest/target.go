package benchtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
	"github.com/servingbench/servingbench/servingbench/target"
)

// Environment variables read by TargetFromEnv.
const (
	EnvBaseURL   = "SERVINGBENCH_BASE_URL"  // Target.BaseURL
	EnvBackend   = "SERVINGBENCH_BACKEND"   // Target.Backend
	EnvModel     = "SERVINGBENCH_MODEL"     // Target.Model
	EnvTokenizer = "SERVINGBENCH_TOKENIZER" // Target.Tokenizer
	EnvAPIKey    = "OPENAI_API_KEY"         // Target.APIKey
	EnvSim       = "SERVINGBENCH_SIM"       // Target.Sim
	EnvSimSpeed  = "SERVINGBENCH_SIM_SPEED" // Target.SimSpeed

	EnvHeaders    = "SERVINGBENCH_HEADERS"     // Target.Headers
	EnvExtraBody  = "SERVINGBENCH_EXTRA_BODY"  // Target.ExtraBody
	EnvCACert     = "SERVINGBENCH_CA_CERT"     // Target.CACert
	EnvClientCert = "SERVINGBENCH_CLIENT_CERT" // Target.ClientCert
	EnvClientKey  = "SERVINGBENCH_CLIENT_KEY"  // Target.ClientKey
	EnvInsecure   = "SERVINGBENCH_INSECURE"    // Target.Insecure
)

// Defaults of a Target's optional fields.
const (
	// DefaultBackend is the backend of a Target with none: "openai", the
	// generic OpenAI completions client (/v1/completions), the default of
	// current vLLM's "vllm bench serve" and the honest name for any
	// OpenAI-compatible server (llama.cpp, SGLang, TGI's routes, ...).
	// It speaks exactly as "vllm" does; Main prints the backend in use,
	// so a llama.cpp server is not reported as "backend: vllm".
	DefaultBackend = "openai"
	// DefaultSim is the simulated profile used when Target.Sim is empty.
	DefaultSim = target.DefaultSim
	// DefaultSimSpeed is the simulated server's time scale when
	// Target.SimSpeed is 0 (the CLI's --sim-speed default too): its steps
	// run ten times faster than the profile says.
	DefaultSimSpeed = target.DefaultSimSpeed
)

// Target is the server a benchmark measures, as the environment names it;
// it is resolved by servingbench/target, as the CLI's flags are, with the
// same defaults. The zero value is the embedded simulated server
// (servingtest) with the DefaultSim profile at DefaultSimSpeed and the
// built-in Qwen3 tokenizer, so that go test -bench works on any machine.
type Target struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000". Empty
	// means the embedded simulated server.
	BaseURL string
	// Backend is a vLLM --backend name: "openai", "vllm", "sglang",
	// "lmdeploy", "llama.cpp", "scalellm", "mindie" speak OpenAI completions,
	// "openai-chat" chat completions. Empty means DefaultBackend
	// ("openai").
	Backend string
	// Model is sent as "model". Required with BaseURL; for the simulated
	// server it renames the profile's model (the profile's name by default).
	Model string
	// Tokenizer is a tokenizer.json path, model directory or HuggingFace
	// cache name (see tokenizer.Load). Empty means the tokenizer of Model,
	// else the built-in Qwen3 tokenizer (tokenizer.Resolve). The simulated
	// server counts prompt tokens with it too.
	Tokenizer string
	// APIKey, when set, is sent as a bearer token. It is never printed,
	// logged or reported.
	APIKey string

	// Sim is the simulated profile when BaseURL is empty: "fp16"
	// (servingtest.Sim7BFP16), "w8a8" (servingtest.Sim7BW8A8) or "zero"
	// (servingtest.ZeroCost). Empty means DefaultSim.
	Sim string
	// SimSpeed divides the simulated server's step times; 0 means
	// DefaultSimSpeed. Latencies measured on it are 1/SimSpeed of the
	// profile's.
	SimSpeed float64

	// Headers is a JSON object of headers sent with every request, the
	// identity and metrics requests' too, as the CLI's --header: they
	// replace the client's own of the same name (Authorization included),
	// e.g. `{"X-Api-Key": "...", "X-Tenant": "bench"}`. Values of
	// credential headers (servingbench.IsSecretHeader) are never printed.
	Headers string
	// ExtraBody is a JSON object merged into every request body, its
	// members replacing the client's own and those of WithClientConfig's
	// ExtraBody, as the CLI's --extra-body, e.g.
	// `{"chat_template_kwargs": {"enable_thinking": false}}`.
	ExtraBody string
	// CACert, ClientCert and ClientKey are PEM files for an https
	// BaseURL: the CAs that verify the server in place of the system's,
	// and the client certificate and key for a server that requires one
	// (mutual TLS), as the CLI's --ca-cert, --client-cert and --client-key
	// (servingbench.TLSFiles). Insecure skips the verification of the
	// server's certificate, as --insecure.
	CACert, ClientCert, ClientKey string
	Insecure                      bool

	// insecureEnv is a SERVINGBENCH_INSECURE that is not a boolean, kept
	// so that resolving the target reports it.
	insecureEnv string
}

// TargetFromEnv returns the Target described by the environment:
// SERVINGBENCH_BASE_URL, SERVINGBENCH_BACKEND, SERVINGBENCH_MODEL,
// SERVINGBENCH_TOKENIZER and OPENAI_API_KEY; SERVINGBENCH_HEADERS,
// SERVINGBENCH_EXTRA_BODY, SERVINGBENCH_CA_CERT, SERVINGBENCH_CLIENT_CERT,
// SERVINGBENCH_CLIENT_KEY and SERVINGBENCH_INSECURE (1, true, 0, false,
// as strconv.ParseBool reads them); and, for the simulated server,
// SERVINGBENCH_SIM (fp16, w8a8, zero) and SERVINGBENCH_SIM_SPEED. getenv is
// os.Getenv in most uses; nil means os.Getenv. A SERVINGBENCH_SIM_SPEED
// that is not a number is kept as NaN, and a SERVINGBENCH_INSECURE that is
// not a boolean kept aside, so that resolving the target reports them.
func TargetFromEnv(getenv func(string) string) Target {
	if getenv == nil {
		getenv = os.Getenv
	}
	t := Target{
		BaseURL:   strings.TrimSpace(getenv(EnvBaseURL)),
		Backend:   strings.TrimSpace(getenv(EnvBackend)),
		Model:     strings.TrimSpace(getenv(EnvModel)),
		Tokenizer: strings.TrimSpace(getenv(EnvTokenizer)),
		APIKey:    strings.TrimSpace(getenv(EnvAPIKey)),
		Sim:       strings.TrimSpace(getenv(EnvSim)),
	}
	if s := strings.TrimSpace(getenv(EnvSimSpeed)); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			f = math.NaN()
		}
		t.SimSpeed = f
	}
	t.connFromEnv(getenv)
	return t
}

// Simulated reports whether t is the embedded simulated server.
func (t Target) Simulated() bool { return t.BaseURL == "" }

// String describes t without its API key: "sim-7b-fp16 (openai) at
// http://host:8000" or "simulated fp16 at 10x speed". Credentials in
// BaseURL are dropped too.
func (t Target) String() string {
	if t.Simulated() {
		s := fmt.Sprintf("simulated %s at %gx speed", t.sim(), t.simSpeed())
		if t.Model != "" {
			s += " serving " + t.Model
		}
		return s
	}
	return fmt.Sprintf("%s (%s) at %s", t.Model, t.backend(), redactURL(t.BaseURL))
}

// GoString is the Go syntax of t (fmt's %#v) with the API key, URL
// credentials and the values of credential headers replaced, so that no
// format verb prints them.
func (t Target) GoString() string {
	key := `""`
	if t.APIKey != "" {
		key = `"(redacted)"`
	}
	return fmt.Sprintf("benchtest.Target{BaseURL:%q, Backend:%q, Model:%q, Tokenizer:%q, APIKey:%s, Sim:%q, SimSpeed:%v, "+
		"Headers:%s, ExtraBody:%q, CACert:%q, ClientCert:%q, ClientKey:%q, Insecure:%v}",
		redactURL(t.BaseURL), t.Backend, t.Model, t.Tokenizer, key, t.Sim, t.SimSpeed,
		redactHeaders(t.Headers), t.ExtraBody, t.CACert, t.ClientCert, t.ClientKey, t.Insecure)
}

// key returns t with its defaults filled in and the fields that do not
// apply to it cleared: targets with equal keys share an endpoint.
func (t Target) key() Target {
	t.Backend = t.backend()
	if t.Simulated() {
		t.Sim, t.SimSpeed = t.sim(), t.simSpeed()
	} else {
		t.Sim, t.SimSpeed = "", 0
	}
	return t
}

func (t Target) backend() string {
	if t.Backend == "" {
		return DefaultBackend
	}
	return t.Backend
}

func (t Target) sim() string {
	if t.Sim == "" {
		return DefaultSim
	}
	return t.Sim
}

func (t Target) simSpeed() float64 {
	if t.SimSpeed == 0 {
		return DefaultSimSpeed
	}
	return t.SimSpeed
}

// SimProfile returns the simulated model of a Target.Sim name.
func SimProfile(name string) (servingtest.Model, error) {
	if name == "" {
		name = DefaultSim
	}
	m, err := servingtest.Profile(name)
	if err != nil {
		return m, fmt.Errorf("benchtest: Target.Sim: %w", err)
	}
	return m, nil
}

// redactURL drops user information from a URL.
func redactURL(s string) string {
	if _, err := url.Parse(s); err != nil {
		return "(unparsable URL)"
	}
	return target.RedactURL(s)
}

// spec is t in servingbench/target's terms, with benchtest's
// DefaultBackend filled in (servingbench/target's own default is the
// CLI's); Headers and ExtraBody that are not JSON objects are errors.
func (t Target) spec() (target.Spec, error) {
	s := target.Spec{BaseURL: t.BaseURL, Backend: t.backend(), Model: t.Model, Tokenizer: t.Tokenizer,
		APIKey: t.APIKey, Sim: t.Sim, SimSpeed: t.SimSpeed,
		TLS: servingbench.TLSFiles{CACert: t.CACert, ClientCert: t.ClientCert, ClientKey: t.ClientKey, Insecure: t.Insecure}}
	var err error
	if t.insecureEnv != "" {
		return s, fmt.Errorf("benchtest: Target.Insecure (%s) must be a boolean (1, true, 0, false), got %q", EnvInsecure, t.insecureEnv)
	}
	if s.Header, err = parseHeaders(t.Headers); err != nil {
		return s, err
	}
	if s.ExtraBody, err = parseExtraBody(t.ExtraBody); err != nil {
		return s, err
	}
	return s, nil
}

// targetEnv names the environment variable of each target field.
var targetEnv = map[target.Field]string{
	target.FieldBaseURL: EnvBaseURL, target.FieldBackend: EnvBackend, target.FieldModel: EnvModel,
	target.FieldTokenizer: EnvTokenizer, target.FieldSim: EnvSim, target.FieldSimSpeed: EnvSimSpeed,
	target.FieldHeader: EnvHeaders, target.FieldExtraBody: EnvExtraBody,
	target.FieldCACert: EnvCACert, target.FieldClientCert: EnvClientCert, target.FieldClientKey: EnvClientKey,
	target.FieldInsecure: EnvInsecure,
}

// targetFields names Target's field of each target field it spells
// otherwise.
var targetFields = map[target.Field]string{
	target.FieldHeader: "Headers", target.FieldCACert: "CACert", target.FieldClientCert: "ClientCert",
	target.FieldClientKey: "ClientKey", target.FieldInsecure: "Insecure",
}

// targetError words an error of servingbench/target with Target's fields
// and the environment variables that set them.
func targetError(err error) error {
	var fe *target.FieldError
	if !errors.As(err, &fe) {
		return fmt.Errorf("benchtest: %w", err)
	}
	field := string(fe.Field)
	if f, ok := targetFields[fe.Field]; ok {
		field = f
	}
	name := fmt.Sprintf("Target.%s (%s)", field, targetEnv[fe.Field])
	switch fe.Field {
	case target.FieldCACert, target.FieldClientCert, target.FieldClientKey:
		return fmt.Errorf("benchtest: %s %q: %v", name, fe.Value, fe.Err)
	case target.FieldHeader, target.FieldExtraBody:
		return fmt.Errorf("benchtest: %s: %q: %v", name, fe.Value, fe.Err)
	case target.FieldBaseURL:
		return fmt.Errorf("benchtest: %s %v, got %q", name, fe.Err, fe.Value)
	case target.FieldSimSpeed:
		return fmt.Errorf("benchtest: %s %v, got %s", name, fe.Err, fe.Value)
	case target.FieldModel:
		return fmt.Errorf("benchtest: %s is %v", name, fe.Err)
	}
	return fmt.Errorf("benchtest: %s: %w", name, fe.Err)
}

// endpoint is a resolved Target: the opened servingbench/target, the
// identity printed as benchfmt configuration. Endpoints are resolved once
// per process and Target and shared by every benchmark.
type endpoint struct {
	target Target // Backend, Model filled in
	tg     *target.Target
	// tokNote says, once, that the built-in tokenizer stands in for a real
	// server's.
	tokNote  string
	tokNoted atomic.Bool
	// notes are one-line messages about the target (the simulated server
	// in use), printed once (takeNotes).
	notes       []string
	noticeOnce  sync.Once
	labelWarned atomic.Bool
	prefixNoted atomic.Bool         // the note that /metrics has no prefix-cache counters
	id          target.Identity     // what the server says it is
	sim         *servingtest.Server // tg.Sim
	// ownsSim is set when the endpoint started sim (target.Open), and so
	// may drop its records before each run; not for WithServer's.
	ownsSim bool
	// tok and tokID are the tokenizer requests are made with by default.
	tok   servingbench.Tokenizer
	tokID string
	// httpClient, when set, reaches the server (WithServer's
	// servingtest.Server.Client, which dials an in-memory listener).
	httpClient *http.Client
}

var endpoints struct {
	mu sync.Mutex
	m  map[Target]*endpoint
}

// resolve returns the endpoint of t, starting the simulated server or
// loading the tokenizer on first use.
func resolve(t Target) (*endpoint, error) {
	t = t.key()
	endpoints.mu.Lock()
	defer endpoints.mu.Unlock()
	if e, ok := endpoints.m[t]; ok {
		return e, nil
	}
	e, err := newEndpoint(t)
	if err != nil {
		return nil, err
	}
	if endpoints.m == nil {
		endpoints.m = make(map[Target]*endpoint)
	}
	endpoints.m[t] = e
	return e, nil
}

// closeEndpoints stops every simulated server and forgets every endpoint.
func closeEndpoints() {
	endpoints.mu.Lock()
	defer endpoints.mu.Unlock()
	for _, e := range endpoints.m {
		e.tg.Close()
	}
	endpoints.m = nil
}

func newEndpoint(t Target) (*endpoint, error) {
	spec, err := t.spec()
	if err != nil {
		return nil, err
	}
	tg, err := target.Open(spec)
	if err != nil {
		return nil, targetError(err)
	}
	e := &endpoint{target: t, tg: tg, sim: tg.Sim, ownsSim: tg.Sim != nil, tok: tg.Tokenizer.Tokenizer, tokID: tg.Tokenizer.ID}
	e.target.Backend, e.target.Model = tg.Spec.Backend, tg.Spec.Model
	if tg.Simulated() {
		e.notes = append(e.notes, fmt.Sprintf("No %s: benchmarking the embedded simulated server, profile %s (%s) at %gx speed; its figures are simulated, not measured",
			EnvBaseURL, tg.Spec.Sim, tg.Spec.Model, tg.Spec.SimSpeed))
	} else if r := tg.Tokenizer; r.IsDefault() {
		why := "no " + EnvTokenizer
		if r.Model != "" {
			why = fmt.Sprintf("no tokenizer found for model %q", r.Model)
		}
		e.tokNote = fmt.Sprintf("Tokenizer: %s; using the built-in Qwen3 tokenizer (set %s for exact prompt lengths)", why, EnvTokenizer)
	}
	e.id = tg.Identify(context.Background())
	return e, nil
}

// metadata returns the report metadata of e's identity with label:
// "server" (Identity.Server) and "server_id" (Identity.ID) when known,
// "label" when set.
func (e *endpoint) metadata(label string) map[string]string {
	m := map[string]string{}
	if e.id.Server != "" {
		m["server"] = e.id.Server
	}
	if e.id.ID != "" {
		m["server_id"] = e.id.ID
	}
	if label != "" {
		m["label"] = label
	}
	return m
}

// tokenizer returns the target's tokenizer and its id and, the first time
// the built-in tokenizer stands in for a real server's, a one-line note
// saying so.
func (e *endpoint) tokenizer() (tok servingbench.Tokenizer, id, note string) {
	if e.tokNote != "" && e.tokNoted.CompareAndSwap(false, true) {
		note = e.tokNote
	}
	return e.tok, e.tokID, note
}

// configValue makes s safe as the value of a benchfmt configuration line:
// one line, trimmed.
func configValue(s string) string { return target.OneLine(s) }

// client builds the OpenAI-compatible client of e for sc.
// A WithServer endpoint's HTTP client is set before edit runs, which may
// replace it. The target's Headers and ExtraBody are merged over what
// edit leaves, so that the environment's win, as the CLI's --extra-body
// wins over its sampling flags.
func (e *endpoint) client(sc scenarios.Scenario, tok servingbench.Tokenizer, edit func(*servingbench.OpenAIConfig)) (*servingbench.StreamClient, error) {
	user := edit
	edit = func(cfg *servingbench.OpenAIConfig) {
		if e.httpClient != nil {
			cfg.HTTPClient = e.httpClient
		}
		if user != nil {
			user(cfg)
		}
		mergeConn(cfg, e.tg.Spec)
	}
	return e.tg.NewClient(sc, tok, edit)
}
