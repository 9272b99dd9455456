package benchtest_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func BenchmarkHelperTinyEdited(b *testing.B) {
	helper(b)
	benchtest.Run(b, tiny(), benchtest.WithClientConfig(func(c *servingbench.OpenAIConfig) {
		c.ExtraBody = map[string]any{"cache_prompt": false, "top_k": 1}
		c.Header = map[string][]string{"X-Edit": {"1"}, "X-Tenant": {"from-edit"}}
	}))
}

// tlsGateway is a gateway over mutual TLS in front of the simulated
// server: it requires a client certificate signed by the test's CA and
// records the headers and bodies of the completion requests.
type tlsGateway struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []map[string]any
	gets    []http.Header
}

func newTLSGateway(t *testing.T, pki *testpki.MTLS) *tlsGateway {
	t.Helper()
	sim := servingtest.NewServer(servingtest.ZeroCost())
	t.Cleanup(sim.Close)
	u, err := url.Parse(sim.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	g := &tlsGateway{}
	g.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(body, &m))
			g.headers, g.bodies = append(g.headers, r.Header.Clone()), append(g.bodies, m)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		} else {
			g.gets = append(g.gets, r.Header.Clone())
		}
		g.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	g.TLS = pki.ServerConfig(true)
	g.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes failed on purpose
	g.StartTLS()
	t.Cleanup(g.Close)
	return g
}

// TestTargetTLSFromEnv: a benchmark reaches a server over mutual TLS
// with the files the environment names, with its headers and extra body
// on every request (merged over WithClientConfig's), the identity's too;
// the secret header and the client key appear in no output; a missing
// client certificate fails the benchmark saying which variables mend it.
func TestTargetTLSFromEnv(t *testing.T) {
	const secret = "hk-planted-benchtest"
	pki, err := testpki.NewMTLS(t.TempDir())
	require.NoError(t, err)
	g := newTLSGateway(t, pki)
	base := []string{benchtest.EnvBaseURL + "=" + g.URL, benchtest.EnvModel + "=" + servingtest.ZeroCost().Name,
		benchtest.EnvCACert + "=" + pki.CAFile}
	conn := append(append([]string(nil), base...),
		benchtest.EnvClientCert+"="+pki.ClientCertFile, benchtest.EnvClientKey+"="+pki.ClientKeyFile,
		benchtest.EnvHeaders+`={"X-Api-Key": "`+secret+`", "X-Tenant": "from-env"}`,
		benchtest.EnvExtraBody+`={"top_k": 20, "chat_template_kwargs": {"enable_thinking": false}}`)

	out, err := goTestBench(t, conn, "^BenchmarkHelperTiny(Edited)?$", "-test.v")
	require.NoError(t, err, "go test -bench output:\n%s", out)
	results := readBenchfmt(t, out)
	require.Len(t, results, 2, "result lines in\n%s", out)
	for _, r := range results {
		assert.Equal(t, 0.0, valueOf(r, "failed"), "failed of %s", r.Name.Full())
		assert.Equal(t, servingtest.Version, configOf(r)["server"], "the identity, over mutual TLS")
	}
	assert.NotContains(t, out, secret)
	for _, line := range strings.Split(string(pki.Client.KeyPEM), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			assert.NotContains(t, out, line[:16], "the client key")
		}
	}
	g.mu.Lock()
	require.NotEmpty(t, g.bodies)
	edited := 0
	for i, h := range g.headers {
		assert.Equal(t, secret, h.Get("X-Api-Key"))
		assert.Equal(t, "from-env", h.Get("X-Tenant"), "the environment's header wins over WithClientConfig's")
		assert.EqualValues(t, 20, g.bodies[i]["top_k"], "the environment's extra body wins over WithClientConfig's")
		assert.Equal(t, map[string]any{"enable_thinking": false}, g.bodies[i]["chat_template_kwargs"])
		if h.Get("X-Edit") == "1" {
			edited++
			assert.Equal(t, false, g.bodies[i]["cache_prompt"], "WithClientConfig's own member stays")
		}
	}
	assert.Positive(t, edited, "requests of the benchmark with WithClientConfig")
	require.NotEmpty(t, g.gets)
	for _, h := range g.gets {
		assert.Equal(t, secret, h.Get("X-Api-Key"), "the identity and prewarm requests carry the headers")
	}
	g.mu.Unlock()

	out, err = goTestBench(t, base, "^BenchmarkHelperTiny$", "-test.v")
	require.Error(t, err, "without a client certificate; output:\n%s", out)
	assert.Contains(t, out, "benchtest: TLS: the server requires a client certificate (set SERVINGBENCH_CLIENT_CERT and SERVINGBENCH_CLIENT_KEY): remote error: tls: certificate required")
}
