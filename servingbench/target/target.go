package target

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
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
	// Header holds headers sent with every request, the identity and
	// metrics requests' too, replacing the client's own of the same name
	// (Authorization included), as vLLM's --header does
	// (servingbench.OpenAIConfig.Header, which says what is refused).
	Header http.Header
	// ExtraBody is merged into every request body, one level deep, its
	// members replacing the client's own (vLLM's --extra-body,
	// servingbench.OpenAIConfig.ExtraBody).
	ExtraBody map[string]any
	// TLS names the CA file, the client certificate and key, and whether
	// to skip verification, for a real server at an https BaseURL
	// (servingbench.TLSFiles); the files are read by Validate and Open.
	// The identity and metrics requests use them too. The zero value is
	// Go's defaults.
	TLS servingbench.TLSFiles
	// Sim is the simulated profile when BaseURL is empty: fp16, w8a8 or
	// zero (servingtest.Profile). Empty means DefaultSim.
	Sim string
	// SimSpeed divides the simulated server's step times; 0 means
	// DefaultSimSpeed.
	SimSpeed float64
	// SimPrefixCache, when positive, gives the simulated server a prefix
	// cache of that many tokens (servingtest.Model.PrefixCacheTokens);
	// 0 means none.
	SimPrefixCache int
	// HTTPClient, when set, sends every request of the target: the
	// benchmark's (servingbench.OpenAIConfig.HTTPClient), the identity's
	// and the metrics'. Its transport has its own TLS configuration, so
	// TLS must then be empty. For a transport of the caller's (a proxy
	// of its own, a dialer that reaches an in-memory listener in a
	// testing/synctest bubble); nil means servingbench's.
	HTTPClient *http.Client
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
		s.Sim, s.SimSpeed, s.SimPrefixCache = "", 0, 0
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

// FieldSimPrefixCache is Spec.SimPrefixCache, which Validate checks.
const FieldSimPrefixCache Field = "SimPrefixCache"

// The fields Validate and Open check.
const (
	FieldBaseURL   Field = "BaseURL"
	FieldBackend   Field = "Backend"
	FieldEndpoint  Field = "Endpoint"
	FieldModel     Field = "Model"
	FieldTokenizer Field = "Tokenizer"
	FieldSim       Field = "Sim"
	FieldSimSpeed  Field = "SimSpeed"
	FieldHeader    Field = "Header"
	FieldExtraBody Field = "ExtraBody"
	// The TLS files; a *FieldError of one has the file as Value.
	FieldCACert     Field = "TLS.CACert"
	FieldClientCert Field = "TLS.ClientCert"
	FieldClientKey  Field = "TLS.ClientKey"
	FieldInsecure   Field = "TLS.Insecure"
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

// Validate checks every field of s, without loading or starting anything
// but the TLS files, which it reads: the backend, the endpoint, the
// headers and extra body, the base URL, model and TLS files of a real
// server, the profile and speed of the simulated one. The error is a
// *FieldError; a header's names the header as Value, never its value.
func Validate(s Spec) error {
	_, err := validate(s)
	return err
}

// validate is Validate, returning the TLS configuration the files give.
func validate(s Spec) (*tls.Config, error) {
	if err := validateSpec(s); err != nil {
		return nil, err
	}
	return tlsConfig(s)
}

func validateSpec(s Spec) error {
	s = s.WithDefaults()
	b, err := servingbench.LookupBackend(s.Backend)
	if err != nil {
		return &FieldError{FieldBackend, s.Backend, err}
	}
	if b.Chat() && s.Endpoint != "" && !strings.HasSuffix(s.Endpoint, "chat/completions") {
		return &FieldError{FieldEndpoint, s.Endpoint, fmt.Errorf("backend %s needs a path ending in chat/completions", s.Backend)}
	}
	if err := servingbench.CheckHeader(s.Header); err != nil {
		var he *servingbench.HeaderError
		errors.As(err, &he)
		return &FieldError{FieldHeader, he.Name, he.Err}
	}
	for _, k := range slices.Sorted(maps.Keys(s.ExtraBody)) {
		if _, err := json.Marshal(s.ExtraBody[k]); err != nil {
			return &FieldError{FieldExtraBody, k, fmt.Errorf("cannot be encoded as JSON: %v", err)}
		}
	}
	if s.HTTPClient != nil {
		if f, v := tlsField(s.TLS); f != "" {
			return &FieldError{f, v, errors.New("cannot be used with Spec.HTTPClient, whose transport has its own TLS configuration")}
		}
	}
	if s.Simulated() {
		if f, v := tlsField(s.TLS); f != "" {
			return &FieldError{f, v, errors.New("applies to a real server at an https:// URL; the simulated server serves plain HTTP")}
		}
		if _, err := servingtest.Profile(s.Sim); err != nil {
			return &FieldError{FieldSim, s.Sim, err}
		}
		if s.SimPrefixCache < 0 {
			return &FieldError{FieldSimPrefixCache, fmt.Sprint(s.SimPrefixCache), errors.New("must be >= 0")}
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
	if f, v := tlsField(servingbench.TLSFiles{CACert: s.TLS.CACert, ClientCert: s.TLS.ClientCert, ClientKey: s.TLS.ClientKey}); f != "" && u.Scheme != "https" {
		// Insecure is accepted with http, as vLLM accepts it: it does nothing.
		return &FieldError{f, v, fmt.Errorf("applies to an https:// URL; the base URL is %s", RedactURL(s.BaseURL))}
	}
	return nil
}

// tlsField is the first field f sets, and its value.
func tlsField(f servingbench.TLSFiles) (Field, string) {
	switch {
	case f.CACert != "":
		return FieldCACert, f.CACert
	case f.ClientCert != "":
		return FieldClientCert, f.ClientCert
	case f.ClientKey != "":
		return FieldClientKey, f.ClientKey
	case f.Insecure:
		return FieldInsecure, "true"
	}
	return "", ""
}

// tlsFields maps servingbench.TLSFileError's fields to Spec's.
var tlsFields = map[string]Field{
	servingbench.TLSFieldCACert: FieldCACert, servingbench.TLSFieldClientCert: FieldClientCert,
	servingbench.TLSFieldClientKey: FieldClientKey, servingbench.TLSFieldInsecure: FieldInsecure,
}

// tlsConfig reads the TLS files of s.
func tlsConfig(s Spec) (*tls.Config, error) {
	cfg, err := s.TLS.Config()
	var fe *servingbench.TLSFileError
	if errors.As(err, &fe) {
		return nil, &FieldError{tlsFields[fe.Field], fe.File, fe.Err}
	}
	return cfg, err
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

	tls  *tls.Config  // Spec.TLS's files read; nil for Go's defaults
	http *http.Client // the identity and metrics requests' (see get)
}

// Open validates s, resolves its tokenizer and, without a BaseURL, starts
// the simulated server (after everything else is checked). Errors of the
// spec are *FieldError; a tokenizer that cannot be loaded is a FieldError
// of FieldTokenizer wrapping tokenizer.Load's error (a
// *tokenizer.NotFoundError when nothing was found).
func Open(s Spec) (*Target, error) {
	tlsCfg, err := validate(s)
	if err != nil {
		return nil, err
	}
	s = s.WithDefaults()
	b, _ := servingbench.LookupBackend(s.Backend)
	res, err := tokenizer.Resolve(s.Tokenizer, s.Model)
	if err != nil {
		return nil, &FieldError{FieldTokenizer, s.Tokenizer, err}
	}
	t := &Target{Spec: s, Backend: b, Chat: b.Chat(), Tokenizer: res, tls: tlsCfg, http: s.HTTPClient}
	if t.http == nil {
		t.http = newProbeClient(tlsCfg)
	}
	if !s.Simulated() {
		t.URL = strings.TrimRight(s.BaseURL, "/")
		return t, nil
	}
	m, _ := servingtest.Profile(s.Sim)
	m.Speed = s.SimSpeed
	m.PrefixCacheTokens = s.SimPrefixCache
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
	if t.http != nil && t.Spec.HTTPClient == nil { // the caller's is the caller's to close
		t.http.CloseIdleConnections()
	}
}

// newProbeClient is the client of the identity and metrics requests: a
// connection per request (they are few and far apart), proxies from the
// environment and the TLS configuration of the benchmark's requests.
func newProbeClient(tlsCfg *tls.Config) *http.Client {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true, TLSHandshakeTimeout: 10 * time.Second}
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg.Clone()
	}
	return &http.Client{Transport: tr}
}

// defaultProbe serves a Target not made by Open.
var defaultProbe = newProbeClient(nil)

// get is a GET of URL+path with the API key and Spec.Header, as the
// benchmark's requests carry them, and the client to send it with.
func (t *Target) get(ctx context.Context, path string) (*http.Request, *http.Client, error) {
	return t.getURL(ctx, t.URL+path)
}

// getURL is get of a whole URL.
func (t *Target) getURL(ctx context.Context, url string) (*http.Request, *http.Client, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if t.Spec.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.Spec.APIKey)
	}
	for k, vs := range t.Spec.Header {
		if k = http.CanonicalHeaderKey(k); k == "Host" {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	client := t.http
	if client == nil {
		client = defaultProbe
	}
	return req, client, nil
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
// endpoint, model, API key, headers, extra body, TLS configuration and
// tokenizer of t, the scenario's sampling options and MaxConcurrency
// (sc.ClientConfig), then edit, when not nil, for what the caller adds
// (timeouts, a served model name).
func (t *Target) NewClient(sc scenarios.Scenario, tok servingbench.Tokenizer, edit func(*servingbench.OpenAIConfig)) (*servingbench.StreamClient, error) {
	if tok == nil {
		tok = t.Tokenizer.Tokenizer
	}
	cfg := sc.ClientConfig(servingbench.OpenAIConfig{
		BaseURL: t.URL, Endpoint: t.Spec.Endpoint, Model: t.Spec.Model, APIKey: t.Spec.APIKey, Tokenizer: tok,
		Header: t.Spec.Header.Clone(), ExtraBody: maps.Clone(t.Spec.ExtraBody), TLS: t.tls, HTTPClient: t.Spec.HTTPClient,
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
	req, client, err := t.get(ctx, "/version")
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
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
