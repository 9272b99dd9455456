package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
)

// The connection flags: vLLM's --header, --extra-body and --insecure,
// and curl's --cacert, --cert and --key as --ca-cert, --client-cert and
// --client-key (MindIE Server's mutual TLS); with vllm bench serve's
// start-up flags, --ready-check-timeout-sec and --num-warmups.
func (o *options) addConnFlags(a *argSet) {
	a.list(&o.headers, "header", "KEY=VALUE headers sent with every request, e.g. --header X-Api-Key=... x-tenant=a; they replace servingbench's own "+
		"of the same name (Authorization from OPENAI_API_KEY included), as vLLM's --header; values of credential headers are never printed")
	a.str(&o.extraBody, "extra-body", `JSON object merged into every request body, its members replacing servingbench's own, e.g. '{"chat_template_kwargs":{"enable_thinking":false}}'`)
	a.boolean(&o.insecure, "insecure", "skip the verification of the server's TLS certificate (vLLM's --insecure; the connection is encrypted but the server not authenticated)")
	a.str(&o.caCert, "ca-cert", "PEM file of the CA certificates that verify an https server, in place of the system's (curl's --cacert)")
	a.str(&o.clientCert, "client-cert", "PEM file of the client certificate for servers that require one, mutual TLS (curl's --cert; may hold the key too)")
	a.str(&o.clientKey, "client-key", "PEM file of --client-cert's private key, unencrypted (curl's --key)")
	a.integer(&o.readyCheckTimeout, "ready-check-timeout-sec", "wait up to this many seconds for the server to answer the initial test request, sent again every 5 s, "+
		"before the run (vllm bench serve's; default 0: no wait, the test request is sent once)")
	a.integer(&o.numWarmups, "num-warmups", "untimed warm-up requests sent after the initial test request, at most --max-concurrency at once (vllm bench serve's; default 0)")
}

// checkConn checks the connection flags that need no file: the counts,
// the flags that exclude each other, --header and --extra-body.
func (o *options) checkConn() error {
	switch {
	case o.readyCheckTimeout < 0:
		return fmt.Errorf("flag --ready-check-timeout-sec must be >= 0 seconds, got %d", o.readyCheckTimeout)
	case o.numWarmups < 0:
		return fmt.Errorf("flag --num-warmups must be >= 0, got %d", o.numWarmups)
	case o.readyCheckTimeout > 0 && o.noWarmup:
		return errors.New("flag --ready-check-timeout-sec waits for the server by sending the initial test request again and again, which --no-warmup turns off; give one of them")
	case o.insecure && o.caCert != "":
		return errors.New("flags --insecure and --ca-cert: --insecure skips the verification --ca-cert is for; give one of them")
	}
	if _, err := o.header(); err != nil {
		return err
	}
	_, err := o.extraBodyMap()
	return err
}

// header parses --header as vLLM does: each KEY=VALUE split at its first
// '=', the key and the value trimmed; a later value replaces an earlier
// one. No error shows a value, which may be a credential.
func (o *options) header() (http.Header, error) {
	if len(o.headers) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, item := range o.headers {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("flag --header: %s is not KEY=VALUE (vLLM's form, e.g. --header X-Api-Key=VALUE)", headerShown(item))
		}
		if i := strings.IndexFunc(k, func(r rune) bool { return !isTokenRune(r) }); i >= 0 {
			return nil, fmt.Errorf("flag --header: the name %s holds %q, which a header name cannot (curl's \"Name: value\" is written Name=value here)", headerShown(k), k[i])
		}
		h.Set(k, v)
	}
	if err := servingbench.CheckHeader(h); err != nil {
		return nil, fmt.Errorf("flag --header: %v", err)
	}
	return h, nil
}

// headerShown is an item of --header as an error may show it: up to the
// first character that cannot be in a header name, which the rest (a
// value, possibly a credential) follows.
func headerShown(item string) string {
	i := strings.IndexFunc(item, func(r rune) bool { return !isTokenRune(r) })
	if i < 0 {
		return fmt.Sprintf("%q", item)
	}
	if i == 0 {
		return "(an item that starts with " + fmt.Sprintf("%q", item[:1]) + ")"
	}
	return fmt.Sprintf("%q followed by %q...", item[:i], item[i])
}

// isTokenRune reports whether r may be in an HTTP header name.
func isTokenRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// extraBodyMap parses --extra-body: one JSON object, numbers kept as
// written.
func (o *options) extraBodyMap() (map[string]any, error) {
	if !o.args.given("extra-body") {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(o.extraBody))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("flag --extra-body: not JSON: %v", err)
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimSpace([]byte(o.extraBody)))) {
		return nil, errors.New("flag --extra-body: more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("flag --extra-body: want a JSON object such as '{\"top_k\": 20}', got %s", jsonKind(v))
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// tlsFiles are the TLS flags.
func (o *options) tlsFiles() servingbench.TLSFiles {
	return servingbench.TLSFiles{CACert: o.caCert, ClientCert: o.clientCert, ClientKey: o.clientKey, Insecure: o.insecure}
}

// tlsFlagWords word a servingbench.TLSFileError's message in flags.
var tlsFlagWords = strings.NewReplacer("ClientCert", "--client-cert", "ClientKey", "--client-key", "CACert", "--ca-cert")

// connError words a failure of the set-up's first contact with the
// server (phase: "warm-up request failed", "ready check", "prewarming
// connections") in flags: a TLS failure says its problem and the flags
// that mend it, then Go's error; a plain-HTTP request to an HTTPS server
// says to use https://.
func (o *options) connError(phase string, err error) error {
	var te *servingbench.TLSError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: TLS: %s (%s): %w", phase, te.Problem, o.tlsHint(te.Problem), te.Err)
	}
	var he *servingbench.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusBadRequest && strings.Contains(he.Body, "HTTP request to an HTTPS server") {
		return fmt.Errorf("%s: the server speaks HTTPS: use https:// in --base-url: %w", phase, err)
	}
	return fmt.Errorf("%s: %w; check --base-url, --model and --endpoint", phase, err)
}

// tlsHint names the flags that mend a TLS problem.
func (o *options) tlsHint(p servingbench.TLSProblem) string {
	switch p {
	case servingbench.TLSUnknownAuthority:
		if o.caCert != "" {
			return fmt.Sprintf("--ca-cert %q did not sign it; pass the CA that did, or --insecure", o.caCert)
		}
		return "pass --ca-cert or --insecure"
	case servingbench.TLSHostnameMismatch:
		return "use in --base-url a host name the certificate is for, or --insecure"
	case servingbench.TLSCertificateInvalid:
		return "expired, not yet valid or not a server's; --insecure skips the check"
	case servingbench.TLSClientCertRequired:
		return "--client-cert/--client-key"
	case servingbench.TLSClientCertRejected:
		return fmt.Sprintf("--client-cert %q: is it signed by a CA the server trusts, and valid?", o.clientCert)
	case servingbench.TLSNotTLS:
		return "use http:// in --base-url"
	}
	if o.clientCert == "" {
		return "if the server requires a client certificate: --client-cert/--client-key"
	}
	return "check the server's TLS versions and ciphers"
}
