package servingbench_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

// newTLSServer starts the simulated server m behind a TLS listener on
// 127.0.0.1 with cfg, and returns it with its https:// URL.
func newTLSServer(t *testing.T, m servingtest.Model, cfg *tls.Config) (*servingtest.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := servingtest.NewUnstartedServer(m)
	srv.Listener = tls.NewListener(ln, cfg)
	srv.SetErrorLog(io.Discard) // the handshakes the tests fail on purpose
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, "https://" + ln.Addr().String()
}

// tlsConfig loads files as the CLI and benchtest do.
func tlsConfig(t *testing.T, files servingbench.TLSFiles) *tls.Config {
	t.Helper()
	cfg, err := files.Config()
	require.NoError(t, err)
	return cfg
}

// TestTLS runs the client against the simulated server over HTTPS with
// a certificate from a CA generated in the test, the server requiring a
// client certificate from that CA (mutual TLS, MindIE Server's default):
// the right files work end to end, and each wrong one fails at the
// warm-up, and at the prewarm without one, with its reason, before the
// benchmark's first request.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.NewMTLS(dir)
	require.NoError(t, err)
	other, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	named, err := pki.CA.Issue(testpki.Options{Hosts: []string{"llm.test"}})
	require.NoError(t, err)

	mutual := servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile}
	tls12 := pki.ServerConfig(true)
	tls12.MaxVersion = tls.VersionTLS12
	wrongName := pki.ServerConfig(true)
	wrongName.Certificates = []tls.Certificate{named.TLS}
	tests := []struct {
		name    string
		server  *tls.Config
		files   servingbench.TLSFiles
		problem servingbench.TLSProblem // when it fails
		want    string                  // in the error
		ok      bool
	}{
		{name: "mutual TLS", server: pki.ServerConfig(true), files: mutual, ok: true},
		{name: "mutual TLS 1.2", server: tls12, files: mutual, ok: true},
		{name: "server TLS only", server: pki.ServerConfig(false), files: servingbench.TLSFiles{CACert: pki.CAFile}, ok: true},
		{name: "insecure with a client certificate", server: pki.ServerConfig(true),
			files: servingbench.TLSFiles{Insecure: true, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile}, ok: true},
		{name: "system roots", server: pki.ServerConfig(true), files: servingbench.TLSFiles{},
			problem: servingbench.TLSUnknownAuthority, want: "TLS: certificate signed by unknown authority: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{name: "another CA", server: pki.ServerConfig(true), files: servingbench.TLSFiles{CACert: other.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile},
			problem: servingbench.TLSUnknownAuthority, want: "x509: certificate signed by unknown authority"},
		{name: "no client certificate", server: pki.ServerConfig(true), files: servingbench.TLSFiles{CACert: pki.CAFile},
			problem: servingbench.TLSClientCertRequired, want: "TLS: the server requires a client certificate: remote error: tls: certificate required"},
		{name: "no client certificate, TLS 1.2", server: tls12, files: servingbench.TLSFiles{CACert: pki.CAFile},
			problem: servingbench.TLSClientCertRequired, want: "TLS: the server requires a client certificate: remote error: tls: handshake failure"},
		{name: "insecure without a client certificate", server: pki.ServerConfig(true), files: servingbench.TLSFiles{Insecure: true},
			problem: servingbench.TLSClientCertRequired, want: "remote error: tls: certificate required"},
		{name: "client certificate of another CA", server: pki.ServerConfig(true),
			files:   servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: other.ClientCertFile, ClientKey: other.ClientKeyFile},
			problem: servingbench.TLSClientCertRejected, want: "TLS: the server rejected the client certificate: remote error: tls: "},
		{name: "certificate for another host", server: wrongName, files: mutual,
			problem: servingbench.TLSHostnameMismatch, want: "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := newTLSServer(t, servingtest.ZeroCost(), tt.server)
			for _, ck := range clientKinds {
				t.Run(ck.name, func(t *testing.T) {
					srv.Reset()
					newClient := func() *servingbench.StreamClient {
						c, err := ck.new(servingbench.OpenAIConfig{BaseURL: url, Model: srv.Model().Name, TLS: tlsConfig(t, tt.files)})
						require.NoError(t, err)
						t.Cleanup(c.Close)
						return c
					}
					reqs := uniqueRequests(8, 4)
					if tt.ok {
						rep, err := servingbench.Run(context.Background(), servingbench.Config{
							Client: newClient(), Requests: reqs, Warmup: true, MaxConcurrency: 4})
						require.NoError(t, err)
						assert.Equal(t, len(reqs), rep.Completed, "completed\n%v", rep.Errors)
						// A busy machine may read the events late: the client
						// lag's warning is the machine's, not the TLS set-up's.
						assert.Empty(t, slices.DeleteFunc(slices.Clone(rep.Warnings), func(w error) bool {
							var lag *servingbench.ClientLagWarning
							return errors.As(w, &lag)
						}))
						assert.Equal(t, len(reqs)*4, rep.TotalOutputTokens, "output tokens")
						assert.Len(t, srv.Truth(), len(reqs)+1, "requests the server received, the warm-up's too")
						return
					}
					// The warm-up meets it first.
					err := servingbench.Warmup(context.Background(), newClient(), &reqs[0])
					requireTLSError(t, err, tt.problem, tt.want)
					// Run stops before the benchmark: at the warm-up, and,
					// without one, at the prewarm.
					for _, warmup := range []bool{true, false} {
						rep, err := servingbench.Run(context.Background(), servingbench.Config{
							Client: newClient(), Requests: reqs, Warmup: warmup, MaxConcurrency: 4})
						assert.Nil(t, rep, "Run's report with Warmup %v", warmup)
						requireTLSError(t, err, tt.problem, tt.want)
					}
					assert.Empty(t, srv.Truth(), "no request reached the server")
				})
			}
		})
	}
}

func requireTLSError(t *testing.T, err error, problem servingbench.TLSProblem, want string) {
	t.Helper()
	require.Error(t, err)
	var te *servingbench.TLSError
	require.True(t, errors.As(err, &te), "error %T %q, want a *TLSError", err, err)
	assert.Equal(t, problem, te.Problem, "TLSError.Problem of %q", err)
	assert.Contains(t, err.Error(), want)
	assert.Equal(t, "TLS: "+problem.String(), servingbench.ErrorReason(err), "ErrorReason")
}

// TestTLSResendTwin: the connection the client opens afresh after the
// server closed a pooled one under a request (Result.Resent) has the
// same TLS configuration, client certificate included.
func TestTLSResendTwin(t *testing.T) {
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	m := servingtest.ZeroCost()
	m.DropReused = true
	srv, url := newTLSServer(t, m, pki.ServerConfig(true))
	c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: url, Model: m.Name,
		TLS: tlsConfig(t, servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile})})
	require.NoError(t, err)
	defer c.Close()
	rep, err := servingbench.Run(context.Background(), servingbench.Config{
		Client: c, Requests: uniqueRequests(6, 3), Warmup: true, MaxConcurrency: 1, NoPrewarm: true})
	require.NoError(t, err)
	assert.Equal(t, 6, rep.Completed, "completed: %v", rep.Errors)
	resent := 0
	for _, r := range rep.Results {
		if r.Resent {
			resent++
		}
	}
	assert.Equal(t, 1, resent, "the request that met the dropped connection was resent")
	assert.Equal(t, 1, srv.Dropped(), "requests dropped on a reused connection")
}

// TestTLSNotTLS: an https:// URL for a plain HTTP server.
func TestTLSNotTLS(t *testing.T) {
	srv := servingtest.NewServer(servingtest.ZeroCost())
	defer srv.Close()
	c, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: strings.Replace(srv.URL, "http://", "https://", 1), Model: "m"})
	require.NoError(t, err)
	defer c.Close()
	err = servingbench.Warmup(context.Background(), c, &servingbench.Request{Prompt: "p", MaxTokens: 2})
	requireTLSError(t, err, servingbench.TLSNotTLS, "TLS: the server does not speak TLS")
}

// TestTLSWithHTTPClient: a caller's HTTPClient has its own transport, so
// a TLS configuration beside it is an error, not ignored.
func TestTLSWithHTTPClient(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	_, err := servingbench.NewCompletions(servingbench.OpenAIConfig{BaseURL: srv.URL, Model: "m", TLS: &tls.Config{}, HTTPClient: srv.Client()})
	assert.ErrorContains(t, err, "OpenAIConfig.TLS must be nil with HTTPClient")
}
