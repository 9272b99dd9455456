package servingbench

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// headersSetByClient are request headers Go's HTTP client writes itself
// from the request, ignoring the header map: giving one would do nothing
// or break the framing.
var headersSetByClient = []string{"Content-Length", "Transfer-Encoding", "Trailer"}

// HeaderError is a header CheckHeader refuses: its name (as given) and
// what is wrong, never its value.
type HeaderError struct {
	Name string
	Err  error
}

func (e *HeaderError) Error() string {
	if e.Name == "" {
		return "a header name must not be empty"
	}
	return fmt.Sprintf("header %q: %v", e.Name, e.Err)
}

func (e *HeaderError) Unwrap() error { return e.Err }

// CheckHeader reports the first header of h that cannot be sent as
// OpenAIConfig.Header: a name that is not an HTTP token (RFC 9110 section
// 5.1), a value with a control character (CR, LF, NUL, ...), or one of
// Content-Length, Transfer-Encoding and Trailer, which the HTTP client
// writes itself. A Host header is accepted: it becomes the request's
// host. The error, a *HeaderError, names the header, never its value,
// which may be a credential.
func CheckHeader(h http.Header) error {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names) // the first bad header, the same every time
	for _, k := range names {
		if err := checkHeaderName(k); err != nil {
			return &HeaderError{Name: k, Err: err}
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		if slices.Contains(headersSetByClient, canon) {
			return &HeaderError{Name: k, Err: errors.New("the HTTP client sets it from the request; it cannot be given")}
		}
		for _, v := range h[k] {
			for _, r := range v {
				if r < ' ' && r != '\t' || r == 0x7f {
					return &HeaderError{Name: k, Err: fmt.Errorf("the value holds the control character %U", r)}
				}
			}
		}
		if canon == "Host" && (len(h[k]) != 1 || strings.TrimSpace(h[k][0]) == "" || strings.ContainsAny(h[k][0], " \t/")) {
			return &HeaderError{Name: k, Err: errors.New("the value must be one host[:port]")}
		}
	}
	return nil
}

func checkHeaderName(k string) error {
	if k == "" {
		return errors.New("empty name")
	}
	for _, r := range k {
		if !isTokenRune(r) {
			return fmt.Errorf("the name holds %q, which an HTTP header name cannot", r)
		}
	}
	return nil
}

// isTokenRune reports whether r may appear in an HTTP token.
func isTokenRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// secretHeaderWords mark a header whose value is a credential: its value
// is masked in whatever server text the client keeps (see
// OpenAIConfig.Header).
var secretHeaderWords = []string{"auth", "key", "token", "secret", "password", "passwd", "credential", "cookie", "session", "signature"}

// IsSecretHeader reports whether the value of the header named name is
// treated as a credential: Authorization, Proxy-Authorization, Cookie and
// any name holding auth, key, token, secret, password, passwd,
// credential, cookie, session or signature (X-Api-Key, X-Auth-Token,
// ...), in any case. Such values are masked in server text kept in errors
// and results, as OpenAIConfig.APIKey is, and are never printed.
func IsSecretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// secrets returns the strings the client masks in server text: the API
// key and the values of the secret headers of h, with, for a value of
// the form "Scheme credentials" (Authorization: Bearer sk-...), the
// credentials alone too, longest first.
func secrets(apiKey string, h http.Header) [][]byte {
	var out []string
	if apiKey != "" {
		out = append(out, apiKey)
	}
	for k, vs := range h {
		if !IsSecretHeader(k) {
			continue
		}
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				if cred = strings.TrimSpace(cred); cred != "" {
					out = append(out, cred)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	out = slices.Compact(out)
	b := make([][]byte, len(out))
	for i, s := range out {
		b[i] = []byte(s)
	}
	return b
}
