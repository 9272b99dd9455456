package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/scenarios/tokenizer"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// The one set of defaults of the CLI and benchtest.
const (
	// DefaultBackend is vLLM's default --backend: OpenAI completions.
	DefaultBackend = "vllm"
	// DefaultSim is the simulated profile when Spec.Sim is empty.
	DefaultSim = "fp16"
	// DefaultSimSpeed is the simulated server's time scale when
	// Spec.SimSpeed is 0: its steps run ten times faster than the profile
	// says.
	DefaultSimSpeed = 10
	// MaxSimSpeed bounds Spec.SimSpeed.
	MaxSimSpeed = 1e6
)

// Spec describes the server to benchmark. The zero value is the embedded
// simulated server (servingtest), profile DefaultSim at DefaultSimSpeed,
// with the built-in Qwen3 tokenizer (tokenizer.Default), which the
// simulated server counts prompt tokens with too.
type Spec struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8000". Empty
	// means the embedded simulated server.
	BaseURL string
	// Backend is a --backend name (servingbench.LookupBackend); empty
	// means DefaultBackend.
	Backend string
	// Endpoint is the request path; empty means the backend's
	// (/v1/completions, or /v1/chat/completions for openai-chat).
	Endpoint string
	// Model is sent as "model". Required with BaseURL; for the simulated
	// server it renames the profile's model (the profile's name by default).
	Model string
	// Tokenizer is a tokenizer.json path, model directory or ORG/NAME in
	// the HuggingFace cache; empty means Model's, else the built-in one
	// (tokenizer.Resolve).
	Tokenizer string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// Sim is the simulated profile when BaseURL is empty: fp16, w8a8 or
	// zero (servingtest.Profile). Empty means DefaultSim.
	Sim string
	// SimSpeed divides the simulated server's step times; 0 means
	// DefaultSimSpeed.
	SimSpeed float64
}

// Simulated reports whether s is the embedded simulated server.
func (s Spec) Simulated() bool { return s.BaseURL == "" }

// WithDefaults returns s with its empty fields that have a default set,
// and the fields that do not apply to it (Sim and SimSpeed with a
// BaseURL) cleared: specs with equal WithDefaults are the same target.
func (s Spec) WithDefaults() Spec {
	if s.Backend == "" {
		s.Backend = DefaultBackend
	}
	if !s.Simulated() {
		s.Sim, s.SimSpeed = "", 0
		return s
	}
	if s.Sim == "" {
		s.Sim = DefaultSim
	}
	if s.SimSpeed == 0 {
		s.SimSpeed = DefaultSimSpeed
	}
	return s
}

// Field names a Spec field in a *FieldError.
type Field string

// The fields Validate and Open check.
const (
	FieldBaseURL   Field = "BaseURL"
	FieldBackend   Field = "Backend"
	FieldEndpoint  Field = "Endpoint"
	FieldModel     Field = "Model"
	FieldTokenizer Field = "Tokenizer"
	FieldSim       Field = "Sim"
	FieldSimSpeed  Field = "SimSpeed"
)

// FieldError is a bad Spec field: which, the value given (URL
// credentials removed) and what is wrong. Callers word it in their own
// terms (a flag, an environment variable); Error uses the field's name.
type FieldError struct {
	Field Field
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("target: Spec.%s %q: %v", e.Field, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// ErrRequired is the Err of a *FieldError for a required field left empty.
var ErrRequired = errors.New("required with a BaseURL")

// Validate checks every field of s, without loading or starting anything:
// the backend, the endpoint, the base URL and model of a real server, the
// profile and speed of the simulated one. The error is a *FieldError.
func Validate(s Spec) error {
	s = s.WithDefaults()
	b, err := servingbench.LookupBackend(s.Backend)
	if err != nil {
		return &FieldError{FieldBackend, s.Backend, err}
	}
	if b.Chat() && s.Endpoint != "" && !strings.HasSuffix(s.Endpoint, "chat/completions") {
		return &FieldError{FieldEndpoint, s.Endpoint, fmt.Errorf("backend %s needs a path ending in chat/completions", s.Backend)}
	}
	if s.Simulated() {
		if _, err := servingtest.Profile(s.Sim); err != nil {
			return &FieldError{FieldSim, s.Sim, err}
		}
		if !(s.SimSpeed > 0) || s.SimSpeed > MaxSimSpeed {
			return &FieldError{FieldSimSpeed, fmt.Sprint(s.SimSpeed), errors.New("must be a number in (0, 1e6]")}
		}
		return nil
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &FieldError{FieldBaseURL, RedactURL(s.BaseURL), errors.New("must be an absolute http or https URL")}
	}
	if s.Model == "" {
		return &FieldError{FieldModel, "", ErrRequired}
	}
	return nil
}

// Target is an opened Spec: the URL to send to, the tokenizer, and the
// simulated server when it runs in this process. Its methods are safe for
// concurrent use; Close it when done.
type Target struct {
	// Spec is the spec opened, with its defaults (WithDefaults) and, for
	// the simulated server, Model set to the served model's name.
	Spec Spec
	// URL is the base URL requests go to (no trailing slash).
	URL string
	// Backend is what Spec.Backend names: the API, its default endpoint,
	// the client's constructor.
	Backend servingbench.Backend
	// Chat reports whether the backend speaks chat completions.
	Chat bool
	// Tokenizer is what tokenizer.Resolve found for Spec.Tokenizer and
	// Spec.Model.
	Tokenizer tokenizer.Resolution
	// Sim is the embedded simulated server, nil for a real one. Its
	// profile is Spec.Sim at Spec.SimSpeed; it counts prompt tokens with
	// Tokenizer, as a real server counts them with its model's.
	Sim *servingtest.Server
}

// Open validates s, resolves its tokenizer and, without a BaseURL, starts
// the simulated server (after everything else is checked). Errors of the
// spec are *FieldError; a tokenizer that cannot be loaded is a FieldError
// of FieldTokenizer wrapping tokenizer.Load's error (a
// *tokenizer.NotFoundError when nothing was found).
func Open(s Spec) (*Target, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	s = s.WithDefaults()
	b, _ := servingbench.LookupBackend(s.Backend)
	res, err := tokenizer.Resolve(s.Tokenizer, s.Model)
	if err != nil {
		return nil, &FieldError{FieldTokenizer, s.Tokenizer, err}
	}
	t := &Target{Spec: s, Backend: b, Chat: b.Chat(), Tokenizer: res}
	if !s.Simulated() {
		t.URL = strings.TrimRight(s.BaseURL, "/")
		return t, nil
	}
	m, _ := servingtest.Profile(s.Sim)
	m.Speed = s.SimSpeed
	m.Tokenizer = res.Tokenizer
	if s.Model != "" {
		m.Name = s.Model
	}
	t.Spec.Model = m.Name
	t.Sim = servingtest.NewServer(m)
	t.Sim.SetErrorLog(io.Discard) // accept errors are counted: Sim.AcceptErrors
	t.URL = t.Sim.URL
	return t, nil
}

// Close stops the simulated server, if any. It is idempotent.
func (t *Target) Close() {
	if t.Sim != nil {
		t.Sim.Close()
	}
}

// Simulated reports whether t is the embedded simulated server.
func (t *Target) Simulated() bool { return t.Sim != nil }

// FilesPerRequest is how many open files a request in flight holds in
// this process: its connection, and the server's end too when the
// simulated server runs here.
func (t *Target) FilesPerRequest() int {
	if t.Simulated() {
		return 2
	}
	return 1
}

// NewClient builds the client of t's backend for sc: the URL,
// endpoint, model, API key and tokenizer of t, the scenario's sampling
// options and MaxConcurrency (sc.ClientConfig), then edit, when not nil,
// for what the caller adds (timeouts, a served model name).
func (t *Target) NewClient(sc scenarios.Scenario, tok servingbench.Tokenizer, edit func(*servingbench.OpenAIConfig)) (*servingbench.StreamClient, error) {
	if tok == nil {
		tok = t.Tokenizer.Tokenizer
	}
	cfg := sc.ClientConfig(servingbench.OpenAIConfig{
		BaseURL: t.URL, Endpoint: t.Spec.Endpoint, Model: t.Spec.Model, APIKey: t.Spec.APIKey, Tokenizer: tok,
	})
	if edit != nil {
		edit(&cfg)
	}
	return t.Backend.New(cfg)
}

// Version asks GET URL/version for {"version": "..."}, as vLLM and
// servingtest answer, and returns it on one line; "" when the server does
// not say within 5 s.
func (t *Target) Version(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/version", nil)
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
	return OneLine(v.Version)
}

// OneLine makes s one trimmed line: control characters become spaces.
func OneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// RedactURL drops user information from a URL; an unparsable one is
// returned as given (it holds no credentials Go could find).
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
