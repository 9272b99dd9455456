package servingbench

import (
	"crypto/tls"
	"net/http"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportTwins: the client's one transport and its twin without
// keep-alives (the resend's, see StreamClient.do) both take proxies from
// the environment and carry the TLS configuration given, cloned, with
// the client certificate; the caller's configuration is not changed.
func TestTransportTwins(t *testing.T) {
	cert := tls.Certificate{Certificate: [][]byte{{1}}}
	given := &tls.Config{ServerName: "llm.internal", Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	for _, tc := range []struct {
		name     string
		tls      *tls.Config
		haveCert bool
	}{{"TLS given", given, true}, {"no TLS", nil, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCompletions(OpenAIConfig{BaseURL: "https://127.0.0.1:1", Model: "m", TLS: tc.tls})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.haveCert, c.haveCert)
			own := c.client.Transport.(*http.Transport)
			fresh := c.fresh.Transport.(*http.Transport)
			require.NotSame(t, own, fresh)
			assert.True(t, fresh.DisableKeepAlives, "the twin keeps no connection")
			assert.False(t, own.DisableKeepAlives)
			for name, tr := range map[string]*http.Transport{"own": own, "fresh": fresh} {
				assert.Equal(t, reflect.ValueOf(http.ProxyFromEnvironment).Pointer(), reflect.ValueOf(tr.Proxy).Pointer(),
					"%s transport: Proxy is http.ProxyFromEnvironment", name)
				require.NotNil(t, tr.TLSClientConfig, "%s transport: TLSClientConfig", name)
				assert.NotSame(t, given, tr.TLSClientConfig, "%s transport: the configuration is cloned", name)
				if tc.tls != nil {
					assert.Equal(t, "llm.internal", tr.TLSClientConfig.ServerName, name)
					assert.Equal(t, uint16(tls.VersionTLS13), tr.TLSClientConfig.MinVersion, name)
					assert.Len(t, tr.TLSClientConfig.Certificates, 1, name)
					assert.Nil(t, tr.TLSClientConfig.GetClientCertificate, "%s: the client's certificate is sent as given", name)
				} else {
					assert.NotNil(t, tr.TLSClientConfig.GetClientCertificate, "%s: a server's request for a certificate is noted", name)
				}
			}
			assert.Nil(t, given.GetClientCertificate, "the caller's configuration is not changed")
		})
	}
}
