package benchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
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
)

// Defaults of a Target's optional fields.
const (
	// DefaultBackend is vLLM's default --backend: OpenAI completions.
	DefaultBackend = "vllm"
	// DefaultSim is the simulated profile used when Target.Sim is empty.
	DefaultSim = "fp16"
	// DefaultSimSpeed is the simulated server's time scale when
	// Target.SimSpeed is 0: its steps run this many times faster than the
	// profile says, so the seed scenario takes about a second.
	DefaultSimSpeed = 50
)

// Target is the server a benchmark measures. The zero value is the
// embedded simulated server (servingtest) with the DefaultSim profile at
// DefaultSimSpeed, so that go test -bench works on any machine.
type Target struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000". Empty
	// means the embedded simulated server.
	BaseURL string
	// Backend is a vLLM --backend name: "vllm", "openai", "sglang",
	// "lmdeploy", "llama.cpp", "scalellm", "mindie" speak OpenAI completions,
	// "openai-chat" chat completions. Empty means DefaultBackend.
	Backend string
	// Model is sent as "model". Required with BaseURL; for the simulated
	// server it renames the profile's model (the profile's name by default).
	Model string
	// Tokenizer is a tokenizer.json path, model directory or HuggingFace
	// cache name (see scenarios.LoadTokenizer). Empty means the tokenizer of
	// Model, else the built-in Qwen3 tokenizer (scenarios.ResolveTokenizer);
	// for the simulated server it means the server's own word tokenizer,
	// which counts exactly what the server counts.
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
}

// TargetFromEnv returns the Target described by the environment:
// SERVINGBENCH_BASE_URL, SERVINGBENCH_BACKEND, SERVINGBENCH_MODEL,
// SERVINGBENCH_TOKENIZER and OPENAI_API_KEY, and, for the simulated server,
// SERVINGBENCH_SIM (fp16, w8a8, zero) and SERVINGBENCH_SIM_SPEED. getenv is
// os.Getenv in most uses; nil means os.Getenv. A SERVINGBENCH_SIM_SPEED
// that is not a number is kept as NaN so that resolving the target reports
// it.
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
	return t
}

// Simulated reports whether t is the embedded simulated server.
func (t Target) Simulated() bool { return t.BaseURL == "" }

// String describes t without its API key: "sim-7b-fp16 (vllm) at
// http://host:8000" or "simulated fp16 at 50x speed". Credentials in
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

// GoString is the Go syntax of t (fmt's %#v) with the API key and URL
// credentials replaced, so that no format verb prints them.
func (t Target) GoString() string {
	key := `""`
	if t.APIKey != "" {
		key = `"(redacted)"`
	}
	return fmt.Sprintf("benchtest.Target{BaseURL:%q, Backend:%q, Model:%q, Tokenizer:%q, APIKey:%s, Sim:%q, SimSpeed:%v}",
		redactURL(t.BaseURL), t.Backend, t.Model, t.Tokenizer, key, t.Sim, t.SimSpeed)
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

// chat reports whether the backend speaks chat completions.
func (t Target) chat() (bool, error) {
	chat, err := servingbench.BackendChat(t.backend())
	if err != nil {
		return false, fmt.Errorf("benchtest: Target.Backend: %w", err)
	}
	return chat, nil
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
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable URL)"
		}
		return s
	}
	u.User = nil
	return u.String()
}

// endpoint is a resolved Target: a base URL to send to, the tokenizer, the
// identity printed as benchfmt configuration. Endpoints are resolved once
// per process and Target and shared by every benchmark.
type endpoint struct {
	target  Target // Backend, Model filled in
	baseURL string
	chat    bool
	// tok is set at resolution for the simulated server, on first use
	// (tokenizer) for a real one.
	tok      servingbench.Tokenizer
	tokID    string
	tokOnce  sync.Once
	tokErr   error
	tokNote  string
	tokNoted atomic.Bool
	// notes are one-line messages about the target (the simulated server
	// in use), printed once (takeNotes).
	notes       []string
	noticeOnce  sync.Once
	labelWarned atomic.Bool
	version     string // GET /version, "" when unknown
	sim         *servingtest.Server
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
		if e.sim != nil {
			e.sim.Close()
		}
	}
	endpoints.m = nil
}

func newEndpoint(t Target) (*endpoint, error) {
	chat, err := t.chat()
	if err != nil {
		return nil, err
	}
	e := &endpoint{target: t, chat: chat}
	e.target.Backend = t.backend()
	if t.Simulated() {
		err = e.startSim()
	} else {
		err = e.connect()
	}
	if err != nil {
		return nil, err
	}
	e.version = serverVersion(e.baseURL)
	return e, nil
}

// startSim starts the simulated server of t.Sim.
func (e *endpoint) startSim() error {
	t := &e.target
	m, err := SimProfile(t.Sim)
	if err != nil {
		return err
	}
	speed := t.simSpeed()
	if !(speed > 0) || speed > 1e6 {
		return fmt.Errorf("benchtest: Target.SimSpeed (%s) must be a number in (0, 1e6], got %v", EnvSimSpeed, t.SimSpeed)
	}
	m.Speed = speed
	if t.Model != "" {
		m.Name = t.Model
	}
	t.Model = m.Name
	if t.Tokenizer != "" {
		tok, err := scenarios.LoadTokenizer(t.Tokenizer)
		if err != nil {
			return fmt.Errorf("benchtest: Target.Tokenizer: %w", err)
		}
		e.tok, e.tokID = tok, t.Tokenizer
		m.Tokenizer = tok
	} else {
		e.tok, e.tokID = servingtest.WordTokenizer{}, "servingtest-words"
	}
	e.sim = servingtest.NewServer(m)
	e.baseURL = e.sim.URL
	e.notes = append(e.notes, fmt.Sprintf("No %s: benchmarking the embedded simulated server, profile %s (%s) at %gx speed; its figures are simulated, not measured",
		EnvBaseURL, t.sim(), m.Name, speed))
	return nil
}

// connect checks a real target; its tokenizer is resolved on first use.
func (e *endpoint) connect() error {
	t := &e.target
	u, err := url.Parse(t.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("benchtest: Target.BaseURL (%s) must be an absolute http or https URL, got %q", EnvBaseURL, redactURL(t.BaseURL))
	}
	if t.Model == "" {
		return fmt.Errorf("benchtest: Target.Model (%s) is required with a BaseURL", EnvModel)
	}
	e.baseURL = strings.TrimRight(t.BaseURL, "/")
	return nil
}

// tokenizer returns the target's tokenizer and its id, resolving it on
// first use (scenarios.ResolveTokenizer), and, the first time the built-in
// tokenizer stands in for the model's, a one-line note saying so.
func (e *endpoint) tokenizer() (tok servingbench.Tokenizer, id, note string, err error) {
	e.tokOnce.Do(func() {
		if e.tok != nil {
			return
		}
		t := e.target
		tok, id, note, err := scenarios.ResolveTokenizer(t.Tokenizer, t.Model)
		if err != nil {
			e.tokErr = fmt.Errorf("benchtest: Target.Tokenizer (%s): %w", EnvTokenizer, err)
			return
		}
		e.tok, e.tokID = tok, id
		if note != "" {
			e.tokNote = fmt.Sprintf("Tokenizer: %s (set %s for exact prompt lengths)", note, EnvTokenizer)
		}
	})
	if e.tokErr != nil {
		return nil, "", "", e.tokErr
	}
	if e.tokNote != "" && e.tokNoted.CompareAndSwap(false, true) {
		note = e.tokNote
	}
	return e.tok, e.tokID, note, nil
}

// serverVersion asks GET baseURL/version for {"version": "..."}, as vLLM
// and servingtest answer; "" when the server does not say.
func serverVersion(baseURL string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/version", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	var v struct {
		Version string `json:"version"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&v) != nil {
		return ""
	}
	return configValue(v.Version)
}

// configValue makes s safe as the value of a benchfmt configuration line:
// one line, trimmed.
func configValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r < ' ' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// client builds the OpenAI-compatible client of e for sc.
func (e *endpoint) client(sc scenarios.Scenario, tok servingbench.Tokenizer, edit func(*servingbench.OpenAIConfig)) (*servingbench.StreamClient, error) {
	cfg := sc.ClientConfig(servingbench.OpenAIConfig{
		BaseURL:   e.baseURL,
		Model:     e.target.Model,
		APIKey:    e.target.APIKey,
		Tokenizer: tok,
	})
	if edit != nil {
		edit(&cfg)
	}
	if e.chat {
		return servingbench.NewChat(cfg)
	}
	return servingbench.NewCompletions(cfg)
}
