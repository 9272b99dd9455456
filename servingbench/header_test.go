package servingbench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// TestHeaderSent: OpenAIConfig.Header reaches the server on the
// streaming requests and the prewarm's GETs, replacing the client's own
// headers of the same name as vLLM's --header does, and a Host header
// sets the request's host.
func TestHeaderSent(t *testing.T) {
	type seen struct {
		method, host string
		header       http.Header
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.Host, r.Header.Clone()})
		mu.Unlock()
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, sseStream(2))
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		apiKey   string
		header   http.Header
		wantAuth string
	}{
		{"extra headers", "sk-1", http.Header{"X-Tenant": {"a"}, "x-priority": {"high"}}, "Bearer sk-1"},
		{"authorization replaces the API key's", "sk-1", http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}, "Basic dXNlcjpwdw=="},
		{"authorization without an API key", "", http.Header{"authorization": {"Bearer from-header"}}, "Bearer from-header"},
		{"several values", "", http.Header{"X-Tag": {"a", "b"}}, ""},
		{"content type replaced", "", http.Header{"Content-Type": {"application/json; charset=utf-8"}}, ""},
		{"host", "", http.Header{"Host": {"llm.internal:8000"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", APIKey: tt.apiKey, Header: tt.header})
			require.NoError(t, err)
			defer c.Close()
			rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: c, Requests: uniqueRequests(3, 2), Warmup: true})
			require.NoError(t, err)
			require.Equal(t, 3, rep.Completed)
			mu.Lock()
			defer mu.Unlock()
			methods := map[string]int{}
			for _, s := range got {
				methods[s.method]++
				assert.Equal(t, tt.wantAuth, s.header.Get("Authorization"), "%s Authorization", s.method)
				for k, vs := range tt.header {
					if http.CanonicalHeaderKey(k) == "Host" {
						assert.Equal(t, vs[0], s.host, "%s host", s.method)
						continue
					}
					assert.Equal(t, vs, s.header.Values(k), "%s header %s", s.method, k)
				}
				if s.method == http.MethodPost {
					assert.Equal(t, "text/event-stream", s.header.Get("Accept"), "the client's own headers stay")
				}
			}
			assert.Equal(t, 4, methods[http.MethodPost], "the warm-up and the run's requests")
			assert.Positive(t, methods[http.MethodGet], "the prewarm's requests")
		})
	}
}

// TestCheckHeader: what cannot be sent is refused, naming the header and
// never its value.
func TestCheckHeader(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string // "" for none
	}{
		{"none", nil, ""},
		{"ordinary", http.Header{"X-Api-Key": {"k"}, "User-Agent": {"servingbench"}, "Host": {"h:1"}}, ""},
		{"empty name", http.Header{"": {"v"}}, "a header name must not be empty"},
		{"space in name", http.Header{"X Api": {"v"}}, `header "X Api": the name holds ' ', which an HTTP header name cannot`},
		{"colon in name", http.Header{"Authorization:": {"v"}}, `header "Authorization:": the name holds ':'`},
		{"newline in value", http.Header{"X-Api-Key": {"sk-secret\r\nX-Evil: 1"}}, `header "X-Api-Key": the value holds the control character U+000D`},
		{"content length", http.Header{"content-length": {"3"}}, `header "content-length": the HTTP client sets it from the request`},
		{"transfer encoding", http.Header{"Transfer-Encoding": {"chunked"}}, `header "Transfer-Encoding": the HTTP client sets it`},
		{"two hosts", http.Header{"Host": {"a", "b"}}, `header "Host": the value must be one host[:port]`},
		{"host with a path", http.Header{"Host": {"a/b"}}, `header "Host": the value must be one host[:port]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := servingbench.CheckHeader(tt.header)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "sk-secret", "the value of a header")
			_, err = servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: "http://127.0.0.1:1", Model: "m", Header: tt.header})
			assert.ErrorContains(t, err, "OpenAIConfig.Header: "+tt.want)
		})
	}
}

func TestIsSecretHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "X-Api-Key": true, "api-key": true, "X-Auth-Token": true,
		"Cookie": true, "X-Client-Secret": true, "Ocp-Apim-Subscription-Key": true,
		"X-Request-Id": false, "User-Agent": false, "Content-Type": false, "X-Priority": false, "Accept": false,
	} {
		assert.Equal(t, want, servingbench.IsSecretHeader(name), "IsSecretHeader(%q)", name)
	}
}
