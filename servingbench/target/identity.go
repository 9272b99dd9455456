package target

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Identity is what a server says about itself: the software and version,
// and the details that tell one instance of it from another. It is what
// the benchmark's identity lines print (benchtest's server: and
// server-id: configuration lines, the CLI's Server: line and the result
// file's server and server_id keys).
type Identity struct {
	// Server names the server software and its version as the server
	// tells them: "llama.cpp b11669-Debian" (the Server header and
	// GET /props build_info), "vllm 0.9.1" (GET /v1/models owned_by and
	// GET /version), "text-generation-inference 3.0.1" (GET /info),
	// "servingtest-0.1.0". Empty when the server does not say.
	Server string
	// Facts tell one instance from another, as "key=value" in a fixed
	// order: llama.cpp's model_path, model_ftype and total_slots
	// (GET /props), vLLM's root and max_model_len of the served model
	// (GET /v1/models), TGI's model_id and model_sha (GET /info); for the
	// embedded simulated server its profile and speed.
	Facts []string
	// ID is a fingerprint, 12 hex digits, of the base URL (real servers
	// only: the simulated server's port changes every run), Server and
	// Facts. Two results with different IDs come from different servers,
	// or from one address serving another build; equal IDs from the same
	// build at the same address, as far as the server tells.
	ID string
}

// String is Server followed by the Facts in parentheses: "llama.cpp
// b11669-Debian (model_path=/m/tiny-f16.gguf, model_ftype=F16,
// total_slots=4)"; "unknown server" when Server is empty and there are
// facts, "" when the server said nothing.
func (id Identity) String() string {
	s := id.Server
	if len(id.Facts) > 0 {
		if s == "" {
			s = "unknown server"
		}
		s += " (" + strings.Join(id.Facts, ", ") + ")"
	}
	return s
}

// identifyTimeout bounds Identify as a whole.
const identifyTimeout = 5 * time.Second

// identityBodyLimit bounds each reply read: llama.cpp's /props carries
// the chat template, a few kilobytes to a few tens.
const identityBodyLimit = 1 << 20

// genericServers are Server header values of HTTP frameworks and proxies,
// which name no inference server.
var genericServers = []string{"uvicorn", "hypercorn", "gunicorn", "granian", "nginx", "envoy", "istio-envoy",
	"caddy", "apache", "openresty", "cloudflare", "werkzeug", "tornadoserver", "python", "axum", "hyper", "go"}

// Identify asks the server who it is, with the API key when the spec has
// one, the spec's headers and TLS files: GET /version ({"version": ...}: vLLM, SGLang, servingtest),
// GET /props (llama.cpp's build_info, model_path, model_ftype,
// total_slots), GET /v1/models (owned_by, and vLLM's root: the model's
// path), GET /info (TGI's model_id and version) and every reply's Server
// header. The requests run at once and are bounded by 5 s together; a
// route the server lacks, an error or a reply that is not the expected
// JSON contributes nothing. Identify never fails: a server that answers
// none of them has an Identity with only an ID (of its URL).
//
// Sources: llama.cpp tools/server/server.cpp (handle_props, Server
// header "llama.cpp"); vLLM vllm/entrypoints/openai/api_server.py
// (show_version) and serving_models.py (show_available_models: ModelCard
// root = the model path, owned_by "vllm"); TGI router/src/server.rs
// (get_model_info, the Info struct).
func (t *Target) Identify(ctx context.Context) Identity {
	if t.Simulated() {
		return t.simIdentity(ctx)
	}
	p := t.probe(ctx)
	id := p.identity(t.Spec.Model)
	id.ID = fingerprint(t.URL, id)
	return id
}

// simIdentity is the embedded simulated server's identity: what it
// answers, plus its profile and speed, without its URL.
func (t *Target) simIdentity(ctx context.Context) Identity {
	p := t.probe(ctx)
	id := p.identity(t.Spec.Model)
	id.Facts = append(id.Facts, "profile="+t.Spec.Sim, "speed="+strconv.FormatFloat(t.Spec.SimSpeed, 'g', -1, 64))
	id.ID = fingerprint("", id)
	return id
}

// fingerprint hashes url, id.Server and id.Facts.
func fingerprint(url string, id Identity) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", url, id.Server)
	for _, f := range id.Facts {
		fmt.Fprintf(h, "%s\n", f)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// The replies of the identity routes, as far as Identify reads them.
type (
	versionReply struct {
		Version string `json:"version"`
	}
	propsReply struct {
		BuildInfo  string `json:"build_info"`
		ModelPath  string `json:"model_path"`
		ModelFtype string `json:"model_ftype"`
		TotalSlots int    `json:"total_slots"`
	}
	modelsReply struct {
		Data []struct {
			ID          string `json:"id"`
			OwnedBy     string `json:"owned_by"`
			Root        string `json:"root"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	infoReply struct {
		ModelID  string `json:"model_id"`
		ModelSHA string `json:"model_sha"`
		Router   string `json:"router"`
		Version  string `json:"version"`
	}
)

// probed is what the identity routes answered.
type probed struct {
	header  string // first non-empty Server header, in route order
	version versionReply
	props   propsReply
	models  modelsReply
	info    infoReply
}

// probe sends the identity requests at once and keeps what they answer.
func (t *Target) probe(ctx context.Context) *probed {
	ctx, cancel := context.WithTimeout(ctx, identifyTimeout)
	defer cancel()
	p := &probed{}
	var headers [4]string
	var wg sync.WaitGroup
	wg.Go(func() { p.version, headers[0] = getJSON[versionReply](ctx, t, "/version") })
	wg.Go(func() { p.props, headers[1] = getJSON[propsReply](ctx, t, "/props") })
	wg.Go(func() { p.models, headers[2] = getJSON[modelsReply](ctx, t, "/v1/models") })
	wg.Go(func() { p.info, headers[3] = getJSON[infoReply](ctx, t, "/info") })
	wg.Wait()
	for _, h := range headers {
		if h != "" {
			p.header = h
			break
		}
	}
	return p
}

// getJSON returns the JSON reply of GET URL+path when the server answers
// 200 with a body that decodes as T (else T's zero value: a reply that is
// not this route's JSON says nothing), and the reply's Server header
// whatever the status. The request carries the API key and Spec.Header
// and goes through Spec.TLS and the environment's proxy (Target.get).
func getJSON[T any](ctx context.Context, t *Target, path string) (T, string) {
	var v T
	req, client, err := t.get(ctx, path)
	if err != nil {
		return v, ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return v, ""
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		var got T
		if json.NewDecoder(io.LimitReader(resp.Body, identityBodyLimit)).Decode(&got) == nil {
			v = got
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, identityBodyLimit))
	return v, OneLine(resp.Header.Get("Server"))
}

// identity composes the Identity from what p holds, for the served model
// name model.
func (p *probed) identity(model string) Identity {
	var id Identity
	name := p.header
	if isGenericServer(name) {
		name = ""
	}
	card := -1
	for i, c := range p.models.Data {
		if card < 0 || c.ID == model {
			card = i
		}
		if c.ID == model {
			break
		}
	}
	switch {
	case p.props.BuildInfo != "":
		// llama.cpp: its Server header says "llama.cpp", /v1/models
		// owned_by "llamacpp".
		id.Server = join(cmp.Or(name, "llama.cpp"), p.props.BuildInfo)
	case p.info.Version != "" && p.info.ModelID != "":
		// TGI: the name comes from /info, not /v1/models.
		id.Server = join(cmp.Or(name, p.info.Router, "text-generation-inference"), p.info.Version)
	default:
		if name == "" && card >= 0 {
			name = p.models.Data[card].OwnedBy
		}
		id.Server = join(name, p.version.Version)
	}
	id.Server = OneLine(id.Server)
	fact := func(k, v string) {
		if v = OneLine(v); v != "" {
			id.Facts = append(id.Facts, k+"="+v)
		}
	}
	fact("model_path", p.props.ModelPath)
	fact("model_ftype", p.props.ModelFtype)
	if p.props.TotalSlots > 0 {
		fact("total_slots", strconv.Itoa(p.props.TotalSlots))
	}
	if card >= 0 {
		c := p.models.Data[card]
		fact("root", c.Root)
		if c.MaxModelLen > 0 {
			fact("max_model_len", strconv.Itoa(c.MaxModelLen))
		}
	}
	fact("model_id", p.info.ModelID)
	fact("model_sha", p.info.ModelSHA)
	return id
}

// join is "name version", or version alone when it already starts with
// the name (servingtest's "servingtest-0.1.0") or there is no name.
func join(name, version string) string {
	switch {
	case name == "":
		return version
	case version == "":
		return name
	case strings.HasPrefix(strings.ToLower(version), strings.ToLower(name)):
		return version
	}
	return name + " " + version
}

// isGenericServer reports whether a Server header names a web framework
// or proxy ("uvicorn", "nginx/1.25.3") rather than an inference server.
func isGenericServer(h string) bool {
	h = strings.ToLower(h)
	if i := strings.IndexAny(h, "/ "); i >= 0 {
		h = h[:i]
	}
	for _, g := range genericServers {
		if h == g {
			return true
		}
	}
	return false
}
