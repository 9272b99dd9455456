package benchtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/target"
)

// connFromEnv reads the connection variables into t.
func (t *Target) connFromEnv(getenv func(string) string) {
	t.Headers = strings.TrimSpace(getenv(EnvHeaders))
	t.ExtraBody = strings.TrimSpace(getenv(EnvExtraBody))
	t.CACert = strings.TrimSpace(getenv(EnvCACert))
	t.ClientCert = strings.TrimSpace(getenv(EnvClientCert))
	t.ClientKey = strings.TrimSpace(getenv(EnvClientKey))
	if s := strings.TrimSpace(getenv(EnvInsecure)); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			t.insecureEnv = s
		}
		t.Insecure = b
	}
}

// jsonObject decodes s, one JSON object, keeping numbers as written.
func jsonObject(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("want a JSON object: %v", err)
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimSpace([]byte(s)))) {
		return nil, errors.New("want one JSON object, got more")
	}
	if m == nil {
		return nil, errors.New("want a JSON object, got null")
	}
	return m, nil
}

// parseHeaders reads Target.Headers: a JSON object of header names and
// string values. No error shows a value.
func parseHeaders(s string) (http.Header, error) {
	if s == "" {
		return nil, nil
	}
	m, err := jsonObject(s)
	if err != nil {
		// json's message may quote the text, a credential's too.
		return nil, fmt.Errorf("benchtest: Target.Headers (%s) must be a JSON object of header names and string values, such as "+
			`{"X-Api-Key": "..."}`+"; it does not parse", EnvHeaders)
	}
	h := http.Header{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, ok := m[k].(string)
		if !ok {
			return nil, fmt.Errorf("benchtest: Target.Headers (%s): header %q: the value must be a JSON string", EnvHeaders, k)
		}
		h.Set(k, v)
	}
	return h, nil
}

// parseExtraBody reads Target.ExtraBody.
func parseExtraBody(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	m, err := jsonObject(s)
	if err != nil {
		return nil, fmt.Errorf("benchtest: Target.ExtraBody (%s): %v", EnvExtraBody, err)
	}
	return m, nil
}

// redactHeaders is Target.Headers for GoString: the names, with the
// values of credential headers replaced.
func redactHeaders(s string) string {
	if s == "" {
		return `""`
	}
	h, err := parseHeaders(s)
	if err != nil {
		return `"(not a JSON object)"`
	}
	m := map[string]string{}
	for k := range h {
		m[k] = h.Get(k)
		if servingbench.IsSecretHeader(k) {
			m[k] = "(redacted)"
		}
	}
	b, _ := json.Marshal(m)
	return strconv.Quote(string(b))
}

// mergeConn merges the spec's headers and extra body over cfg's, as a
// WithClientConfig edit left them.
func mergeConn(cfg *servingbench.OpenAIConfig, s target.Spec) {
	if len(s.Header) > 0 {
		if cfg.Header == nil {
			cfg.Header = http.Header{}
		}
		for k, vs := range s.Header {
			cfg.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
		}
	}
	if len(s.ExtraBody) > 0 {
		if cfg.ExtraBody == nil {
			cfg.ExtraBody = map[string]any{}
		}
		maps.Copy(cfg.ExtraBody, s.ExtraBody)
	}
}

// connError words a TLS failure of a run with the variables that mend
// it.
func connError(err error, t Target) error {
	var te *servingbench.TLSError
	if !errors.As(err, &te) {
		return err
	}
	var hint string
	switch te.Problem {
	case servingbench.TLSUnknownAuthority:
		hint = fmt.Sprintf("set %s to the CA that signed the server's certificate, or %s=1", EnvCACert, EnvInsecure)
	case servingbench.TLSHostnameMismatch:
		hint = fmt.Sprintf("use in %s a host name the certificate is for, or %s=1", EnvBaseURL, EnvInsecure)
	case servingbench.TLSCertificateInvalid:
		hint = fmt.Sprintf("%s=1 skips the check", EnvInsecure)
	case servingbench.TLSClientCertRequired:
		hint = fmt.Sprintf("set %s and %s", EnvClientCert, EnvClientKey)
	case servingbench.TLSClientCertRejected:
		hint = fmt.Sprintf("%s %q: is it signed by a CA the server trusts, and valid?", EnvClientCert, t.ClientCert)
	case servingbench.TLSNotTLS:
		hint = fmt.Sprintf("use http:// in %s", EnvBaseURL)
	default:
		hint = fmt.Sprintf("if the server requires a client certificate: %s and %s", EnvClientCert, EnvClientKey)
	}
	return fmt.Errorf("benchtest: TLS: %s (%s): %w", te.Problem, hint, te.Err)
}
