package servingbench_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/internal/testpki"
	"github.com/servingbench/servingbench/servingbench"
)

// TestTLSFilesConfig: good files give the configuration; each bad one is
// a *TLSFileError naming the field and the file, with what is wrong.
func TestTLSFilesConfig(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.NewMTLS(dir)
	require.NoError(t, err)
	other, err := testpki.NewCA("other CA")
	require.NoError(t, err)
	otherClient, err := other.Issue(testpki.Options{Client: true})
	require.NoError(t, err)
	expired, err := pki.CA.Issue(testpki.Options{Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	early, err := pki.CA.Issue(testpki.Options{Client: true, NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour)})
	require.NoError(t, err)
	write := func(name string, data ...[]byte) string {
		var all []byte
		for _, d := range data {
			all = append(all, d...)
		}
		path, err := testpki.Write(dir, name, all)
		require.NoError(t, err)
		return path
	}
	rsaKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("not a key")})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})
	garbage := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})
	var (
		combined   = write("combined.pem", pki.Client.CertPEM, pki.Client.KeyPEM)
		missing    = filepath.Join(dir, "missing.pem")
		empty      = write("empty.pem")
		text       = write("text.pem", []byte("just some text\n"))
		keyOnly    = write("key-only.pem", pki.Client.KeyPEM)
		badCert    = write("bad-cert.pem", garbage)
		otherKey   = write("other-key.pem", otherClient.KeyPEM)
		encKey     = write("encrypted-key.pem", encrypted)
		rsaGarbage = write("rsa-garbage.pem", rsaKey)
		expiredC   = write("expired.pem", expired.CertPEM)
		expiredK   = write("expired-key.pem", expired.KeyPEM)
		earlyC     = write("early.pem", early.CertPEM)
		earlyK     = write("early-key.pem", early.KeyPEM)
	)

	t.Run("good", func(t *testing.T) {
		cfg, err := servingbench.TLSFiles{}.Config()
		require.NoError(t, err)
		assert.Nil(t, cfg, "the zero TLSFiles: Go's defaults")

		cfg, err = servingbench.TLSFiles{CACert: pki.CAFile, ClientCert: pki.ClientCertFile, ClientKey: pki.ClientKeyFile}.Config()
		require.NoError(t, err)
		require.NotNil(t, cfg.RootCAs)
		_, err = pki.Server.Cert.Verify(x509.VerifyOptions{Roots: cfg.RootCAs})
		assert.NoError(t, err, "the server certificate verifies against RootCAs")
		require.Len(t, cfg.Certificates, 1)
		assert.Equal(t, pki.Client.Cert.Raw, cfg.Certificates[0].Certificate[0])
		assert.False(t, cfg.InsecureSkipVerify)

		cfg, err = servingbench.TLSFiles{ClientCert: combined}.Config()
		require.NoError(t, err, "a certificate file holding its key")
		require.Len(t, cfg.Certificates, 1)

		cfg, err = servingbench.TLSFiles{Insecure: true}.Config()
		require.NoError(t, err)
		assert.True(t, cfg.InsecureSkipVerify)
		assert.Nil(t, cfg.RootCAs)
	})

	tests := []struct {
		name  string
		files servingbench.TLSFiles
		field string
		file  string
		want  string
	}{
		{"missing CA", servingbench.TLSFiles{CACert: missing}, "CACert", missing, "no such file or directory"},
		{"empty CA", servingbench.TLSFiles{CACert: empty}, "CACert", empty, "empty"},
		{"CA not PEM", servingbench.TLSFiles{CACert: text}, "CACert", text, "not PEM: no -----BEGIN ...----- block"},
		{"a key as CA", servingbench.TLSFiles{CACert: keyOnly}, "CACert", keyOnly, "no CERTIFICATE block (the file holds PRIVATE KEY)"},
		{"CA not a certificate", servingbench.TLSFiles{CACert: badCert}, "CACert", badCert, "PEM block 1 (CERTIFICATE): x509: malformed certificate"},
		{"missing client cert", servingbench.TLSFiles{ClientCert: missing, ClientKey: pki.ClientKeyFile}, "ClientCert", missing, "no such file or directory"},
		{"client cert not PEM", servingbench.TLSFiles{ClientCert: text, ClientKey: pki.ClientKeyFile}, "ClientCert", text, "not PEM"},
		{"client cert is a key", servingbench.TLSFiles{ClientCert: keyOnly, ClientKey: pki.ClientKeyFile}, "ClientCert", keyOnly, "no CERTIFICATE block (the file holds PRIVATE KEY)"},
		{"client cert without key", servingbench.TLSFiles{ClientCert: pki.ClientCertFile}, "ClientCert", pki.ClientCertFile, "holds no PRIVATE KEY block: give ClientKey"},
		{"missing key", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: missing}, "ClientKey", missing, "no such file or directory"},
		{"key not PEM", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: text}, "ClientKey", text, "not PEM"},
		{"key is a certificate", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: pki.ClientCertFile}, "ClientKey", pki.ClientCertFile, "no PRIVATE KEY block (the file holds CERTIFICATE)"},
		{"key of another certificate", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: otherKey}, "ClientKey", otherKey, "the key does not match the certificate of ClientCert"},
		{"encrypted key", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: encKey}, "ClientKey", encKey, "the key is encrypted"},
		{"key not a key", servingbench.TLSFiles{ClientCert: pki.ClientCertFile, ClientKey: rsaGarbage}, "ClientKey", rsaGarbage, "tls: failed to parse private key"},
		{"key without certificate", servingbench.TLSFiles{ClientKey: pki.ClientKeyFile}, "ClientKey", pki.ClientKeyFile, "needs ClientCert"},
		{"expired client cert", servingbench.TLSFiles{ClientCert: expiredC, ClientKey: expiredK}, "ClientCert", expiredC, "the certificate expired on "},
		{"client cert not yet valid", servingbench.TLSFiles{ClientCert: earlyC, ClientKey: earlyK}, "ClientCert", earlyC, "the certificate is not valid before "},
		{"insecure with a CA", servingbench.TLSFiles{CACert: pki.CAFile, Insecure: true}, "Insecure", "", "skips the verification CACert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.files.Config()
			require.Error(t, err)
			assert.Nil(t, cfg)
			var fe *servingbench.TLSFileError
			require.True(t, errors.As(err, &fe), "Config() error %T %v, want *TLSFileError", err, err)
			assert.Equal(t, tt.field, fe.Field, "TLSFileError.Field")
			assert.Equal(t, tt.file, fe.File, "TLSFileError.File")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "TLSFiles."+tt.field)
		})
	}

	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		path := write("unreadable.pem", pki.CA.PEM)
		require.NoError(t, os.Chmod(path, 0))
		_, err := servingbench.TLSFiles{CACert: path}.Config()
		assert.ErrorContains(t, err, "permission denied")
	})
}
