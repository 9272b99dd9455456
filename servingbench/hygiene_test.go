package servingbench_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// TestTimeoutsAreSeparate: the request timeout bounds a whole request, the
// stream-idle timeout only the silence between bytes. A long generation
// with steady tokens is not a stall. It runs in a synctest bubble, so the
// timeouts fire at their exact times and never because the machine is
// slow.
func TestTimeoutsAreSeparate(t *testing.T) {
	const idle = 300 * time.Millisecond
	tests := []struct {
		name    string
		model   servingtest.Model
		maxTok  int
		timeout time.Duration
		reason  string // "" for success
		detail  string
	}{
		{
			// 30 tokens 60ms apart: 1.8s, six times the idle timeout.
			name:    "long-steady-generation",
			model:   servingtest.Model{DecodeBase: 60 * time.Millisecond},
			maxTok:  30,
			timeout: 10 * time.Second,
		},
		{
			name:    "stall-after-first-token",
			model:   servingtest.Model{DecodeBase: 5 * time.Millisecond, Faults: []servingtest.Fault{{Kind: servingtest.FaultStall, After: 1}}},
			maxTok:  30,
			timeout: 10 * time.Second,
			reason:  "stream idle timeout",
			detail:  "no data for 300ms after 1 token",
		},
		{
			// The idle timeout counts from the send: a first token later
			// than it is a stall too.
			name:    "slow-first-token",
			model:   servingtest.Model{PrefillPerToken: 200 * time.Millisecond},
			maxTok:  4,
			timeout: 10 * time.Second,
			reason:  "stream idle timeout",
			detail:  "no data for 300ms after 0 tokens",
		},
		{
			name:    "generation-longer-than-request-timeout",
			model:   servingtest.Model{DecodeBase: 60 * time.Millisecond},
			maxTok:  30,
			timeout: 700 * time.Millisecond,
			reason:  "request timeout",
			detail:  "timeout after 700ms (",
		},
	}
	for _, tt := range tests {
		for _, ck := range clientKinds {
			t.Run(tt.name+"/"+ck.name, func(t *testing.T) {
				defer checkNoLeaks(t)()
				synctest.Test(t, func(t *testing.T) {
					tt.model.Name = "sim-timeouts"
					srv := newBubbleServer(t, tt.model)
					cfg := bubbleConfig(srv)
					cfg.IgnoreEOS, cfg.RequestTimeout, cfg.StreamIdleTimeout = true, tt.timeout, idle
					client, err := ck.new(cfg)
					require.NoError(t, err)
					defer client.Close()

					start := time.Now()
					rep, err := servingbench.Run(context.Background(), servingbench.Config{
						Client: client, Requests: uniqueRequests(2, tt.maxTok)})
					took := time.Since(start)
					require.NoError(t, err)
					assert.LessOrEqual(t, took, tt.timeout, "Run took %v", took)
					for _, r := range rep.Results {
						if tt.reason == "" {
							require.NoError(t, r.Err, "request %d", r.Index)
							assert.Len(t, r.Events, tt.maxTok, "request %d: token events", r.Index)
							assert.Greater(t, r.E2EL(), 3*idle, "request %d: E2EL, want a generation far longer than the idle timeout", r.Index)
							continue
						}
						require.Error(t, r.Err, "request %d", r.Index)
						assert.Equal(t, tt.reason, servingbench.ErrorReason(r.Err), "request %d: ErrorReason(%v)", r.Index, r.Err)
						assert.Contains(t, r.Err.Error(), tt.detail, "request %d", r.Index)
						switch tt.reason {
						case "request timeout":
							assert.Equal(t, tt.timeout, r.Done.Sub(r.Sent), "request %d: Done-Sent", r.Index)
							assert.NotEmpty(t, r.Events, "request %d: tokens before the timeout", r.Index)
						case "stream idle timeout":
							last := r.Sent
							if len(r.Events) > 0 {
								last = r.LastEvent()
							}
							assert.Equal(t, idle, r.Done.Sub(last), "request %d: Done minus the last data", r.Index)
						}
					}
				})
			})
		}
	}
}

// TestPrewarmBounded: a server that accepts connections but never answers
// GET /v1/models costs Run a warning, not a hang before the run starts:
// in a synctest bubble, the run takes exactly the idle timeout that
// bounds the prewarm.
func TestPrewarmBounded(t *testing.T) {
	defer checkNoLeaks(t)()
	synctest.Test(t, func(t *testing.T) {
		srv := newBubbleHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"object":"list","data":[`)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, sseStream(2))
		}), nil)
		const idle = 300 * time.Millisecond
		client, err := servingbench.NewChat(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", StreamIdleTimeout: idle, HTTPClient: srv.Client})
		require.NoError(t, err)
		defer client.Close()
		start := time.Now()
		rep, err := servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: uniqueRequests(4, 2)})
		took := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, idle, took, "Run's duration: the prewarm's bound, then instant requests")
		assert.Equal(t, 4, rep.Completed, "Report.Completed")
		require.Len(t, rep.Warnings, 1, "Report.Warnings")
		assert.ErrorIs(t, rep.Warnings[0], context.DeadlineExceeded, "Report.Warnings[0]")
	})
}

// TestTextKeptOnlyWhenAsked: the generated text is stored only with
// KeepText, and a result's memory is bounded by its token count.
func TestTextKeptOnlyWhenAsked(t *testing.T) {
	m := servingtest.ZeroCost()
	srv := servingtest.NewServer(m)
	defer srv.Close()
	for _, keep := range []bool{false, true} {
		for _, ck := range clientKinds {
			t.Run(fmt.Sprintf("%s/KeepText=%v", ck.name, keep), func(t *testing.T) {
				client, err := ck.new(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: m.Name, IgnoreEOS: true,
					KeepText: keep, Tokenizer: servingtest.WordTokenizer{}})
				require.NoError(t, err)
				defer client.Close()
				const maxTok = 64
				rep, err := servingbench.Run(context.Background(), servingbench.Config{
					Client: client, Requests: uniqueRequests(16, maxTok)})
				require.NoError(t, err)
				require.Equal(t, 16, rep.Completed)
				for _, r := range rep.Results {
					assert.Equal(t, len(r.Events), cap(r.Events), "request %d: cap(Events), want no capacity beyond the events", r.Index)
					if keep {
						assert.Len(t, strings.Fields(r.Text), maxTok, "request %d: words in Text", r.Index)
					} else {
						assert.Empty(t, r.Text, "request %d: Text without KeepText", r.Index)
					}
				}
			})
		}
	}
}

// plantedKey is the API key the hygiene test greps every output for;
// plantedHeaderKey and plantedToken are the values of secret headers
// (OpenAIConfig.Header: X-Api-Key, and X-Auth-Token with a scheme).
const (
	plantedKey       = "sk-planted-XYZ"
	plantedHeaderKey = "hk-planted-QRS"
	plantedToken     = "tk-planted-UVW"
)

// TestAPIKeyNeverWritten plants an API key, two secret headers and a
// server that echoes the request headers back in every kind of error it
// can send; the key must reach the server's Authorization header, the
// headers theirs, and none of them any output. A header that is no
// secret is echoed as is.
func TestAPIKeyNeverWritten(t *testing.T) {
	var auth sync.Map // Authorization headers received
	var headerKeys atomic.Int64
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"), true)
		if r.Header.Get("X-Api-Key") == plantedHeaderKey && r.Header.Get("X-Auth-Token") == "Token "+plantedToken {
			headerKeys.Add(1)
		}
		echo := fmt.Sprintf("your headers: %q", r.Header)
		if r.Method == http.MethodGet { // Prewarm's GET /v1/models
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":%q}}`, echo)
			return
		}
		switch n.Add(1) % 6 {
		case 0:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, sseStream(3))
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"message":%q}}`, echo)
		case 2: // the key across the cut of the excerpt kept (509 bytes and "...")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":"%s%s %s"}}`, strings.Repeat(".", 503-len(`{"error":{"message":"Bearer `)),
				r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
		case 3:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"error":{"message":%q}}`, echo)
		case 4:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"error\":{\"message\":%q}}\n\n", echo)
		case 5:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"choices\":[{\"text\":%q,,}]}\n\n", echo)
		}
	}))
	defer srv.Close()

	for _, ck := range clientKinds {
		t.Run(ck.name, func(t *testing.T) {
			client, err := ck.new(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", APIKey: plantedKey, KeepText: true,
				Header: http.Header{"X-Api-Key": {plantedHeaderKey}, "X-Auth-Token": {"Token " + plantedToken}, "X-Request-Tag": {"visible-tag"}}})
			require.NoError(t, err)
			defer client.Close()
			rep, err := servingbench.Run(context.Background(), servingbench.Config{
				Client: client, Requests: uniqueRequests(12, 3), MaxConcurrency: 1})
			require.NoError(t, err)
			require.Equal(t, 2, rep.Completed, "Report.Completed")
			require.NotEmpty(t, rep.Warnings, "Report.Warnings: want Prewarm's failure")

			var out bytes.Buffer
			require.NoError(t, servingbench.WriteText(&out, rep, servingbench.TextOptions{}))
			require.NoError(t, servingbench.WriteJSON(&out, rep, servingbench.JSONOptions{Detailed: true}))
			for _, w := range rep.Warnings {
				fmt.Fprintf(&out, "%v\n%+v\n", w, w)
			}
			failures := 0
			for _, r := range rep.Results {
				if r.Err != nil {
					failures++
					fmt.Fprintf(&out, "%v\n%+v\n%#v\n", r.Err, r.Err, r.Err)
				}
				out.WriteString(r.Text)
			}
			assert.Equal(t, 10, failures)
			// Not even a part of them, where an excerpt is cut.
			for _, line := range strings.Split(out.String(), "\n") {
				for _, secret := range []string{plantedKey, plantedHeaderKey, plantedToken} {
					assert.NotContains(t, line, secret[:6], "output line")
				}
			}
			assert.Contains(t, out.String(), "your headers", "the outputs carry the echoed bodies, redacted")
			assert.Contains(t, out.String(), "visible-tag", "a header that is no secret is not masked")
		})
	}
	_, ok := auth.Load("Bearer " + plantedKey)
	assert.True(t, ok, "the server never received Authorization: Bearer %s", plantedKey)
	assert.Positive(t, headerKeys.Load(), "requests with the secret headers")
	auth.Range(func(k, _ any) bool {
		assert.Equal(t, "Bearer "+plantedKey, k, "Authorization header received")
		return true
	})
}

// shortArrival returns fewer offsets than asked for.
type shortArrival struct{}

func (shortArrival) Offsets(n int) []time.Duration { return make([]time.Duration, n/2) }
func (shortArrival) String() string                { return "short" }

// TestConfigValidatedBeforeAnyRequest: every bad configuration is
// reported, naming the bad field, before a single request (the warm-up
// and the connection prewarming included) reaches the server.
func TestConfigValidatedBeforeAnyRequest(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, sseStream(2))
	}))
	defer srv.Close()
	good := servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m"}

	clientTests := []struct {
		name  string
		edit  func(*servingbench.OpenAIConfig)
		field string
	}{
		{"no-base-url", func(c *servingbench.OpenAIConfig) { c.BaseURL = "" }, "BaseURL"},
		{"relative-base-url", func(c *servingbench.OpenAIConfig) { c.BaseURL = "127.0.0.1:8000" }, "BaseURL"},
		{"endpoint", func(c *servingbench.OpenAIConfig) { c.Endpoint = "v1/completions" }, "Endpoint"},
		{"no-model", func(c *servingbench.OpenAIConfig) { c.Model = "" }, "Model"},
		{"key-with-newline", func(c *servingbench.OpenAIConfig) { c.APIKey = plantedKey + "\r\nX-Evil: 1" }, "APIKey"},
		{"negative-request-timeout", func(c *servingbench.OpenAIConfig) { c.RequestTimeout = -time.Second }, "RequestTimeout"},
		{"negative-idle-timeout", func(c *servingbench.OpenAIConfig) { c.StreamIdleTimeout = -time.Second }, "StreamIdleTimeout"},
		{"negative-max-line", func(c *servingbench.OpenAIConfig) { c.MaxLineBytes = -1 }, "MaxLineBytes"},
		{"nan-temperature", func(c *servingbench.OpenAIConfig) { v := math.NaN(); c.Temperature = &v }, "Temperature"},
		{"extra-body", func(c *servingbench.OpenAIConfig) { c.ExtraBody = map[string]any{"f": func() {}} }, "ExtraBody"},
	}
	for _, tt := range clientTests {
		for _, ck := range clientKinds {
			t.Run("client/"+tt.name+"/"+ck.name, func(t *testing.T) {
				cfg := good
				tt.edit(&cfg)
				_, err := ck.new(cfg)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "OpenAIConfig."+tt.field)
				assert.NotContains(t, err.Error(), plantedKey, "the error must not echo the key")
			})
		}
	}

	client, err := servingbench.NewCompletions(good)
	require.NoError(t, err)
	defer client.Close()
	reqs := uniqueRequests(8, 2)
	runTests := []struct {
		name  string
		edit  func(*servingbench.Config)
		field string
	}{
		{"no-client", func(c *servingbench.Config) { c.Client = nil }, "Config.Client"},
		{"no-requests", func(c *servingbench.Config) { c.Requests = nil }, "Config.Requests"},
		{"negative-concurrency", func(c *servingbench.Config) { c.MaxConcurrency = -3 }, "Config.MaxConcurrency"},
		{"last-max-tokens", func(c *servingbench.Config) {
			c.Requests = append([]servingbench.Request(nil), reqs...)
			c.Requests[7].MaxTokens = -1
		}, "Config.Requests[7].MaxTokens"},
		{"prompt-tokens", func(c *servingbench.Config) {
			c.Requests = append([]servingbench.Request(nil), reqs...)
			c.Requests[3].PromptTokens = -1
		}, "Config.Requests[3].PromptTokens"},
		{"negative-slo", func(c *servingbench.Config) { c.Goodput.TTFT = -time.Millisecond }, "Config.Goodput"},
		{"negative-rate", func(c *servingbench.Config) { c.Arrival = servingbench.Poisson(-1, 0) }, "Config.Arrival"},
		{"nan-burstiness", func(c *servingbench.Config) { c.Arrival = servingbench.Gamma{Rate: 1, Burstiness: math.NaN()} }, "Config.Arrival"},
		{"short-arrival", func(c *servingbench.Config) { c.Arrival = shortArrival{} }, "Config.Arrival"},
	}
	for _, tt := range runTests {
		t.Run("run/"+tt.name, func(t *testing.T) {
			cfg := servingbench.Config{Client: client, Requests: reqs, Warmup: true}
			tt.edit(&cfg)
			rep, err := servingbench.Run(context.Background(), cfg)
			require.Error(t, err)
			assert.Nil(t, rep)
			assert.Contains(t, err.Error(), tt.field)
			assert.Zero(t, hits.Load(), "requests the server received before the error")
		})
	}
	// The good configuration does reach the server.
	_, err = servingbench.Run(context.Background(), servingbench.Config{Client: client, Requests: reqs})
	require.NoError(t, err)
	assert.Positive(t, hits.Load(), "requests the server received")
}
