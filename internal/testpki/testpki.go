// Package testpki makes throwaway X.509 certificate authorities and
// certificates for tests of HTTPS: a CA, server certificates for
// 127.0.0.1 or a host name, client certificates for mutual TLS, in PEM.
// Keys are ECDSA P-256, generated on every call: no key is checked in.
// It is for tests only, and imports no testing package so that any test
// helper may use it.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority: its self-signed certificate and key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is the certificate's PEM, the content of a CA file.
	PEM []byte
}

// Leaf is a certificate the CA issued, with its key.
type Leaf struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	// KeyPEM is the key as PKCS #8 "PRIVATE KEY".
	KeyPEM []byte
	// TLS is the pair for a tls.Config's Certificates.
	TLS tls.Certificate
}

// Options describe a leaf certificate.
type Options struct {
	// CommonName is the subject's; empty means "testpki leaf".
	CommonName string
	// Hosts are the server names: IP addresses become IP SANs, others DNS
	// SANs. A client certificate needs none.
	Hosts []string
	// Client makes a client certificate (ExtKeyUsageClientAuth); else a
	// server one.
	Client bool
	// NotBefore and NotAfter bound the validity; zero means an hour ago
	// and a day from now.
	NotBefore, NotAfter time.Time
}

// nextSerial is a random serial number, so that certificates of one CA
// differ.
func nextSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// NewCA makes a CA named name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"servingbench tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool is a pool holding the CA alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue makes a leaf certificate signed by ca.
func (ca *CA) Issue(o Options) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if o.CommonName == "" {
		o.CommonName = "testpki leaf"
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: o.CommonName},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	l := &Leaf{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	l.TLS, err = tls.X509KeyPair(l.CertPEM, l.KeyPEM)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Write writes data to dir/name with mode 0600 and returns the path.
func Write(dir, name string, data []byte) (string, error) {
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o600)
}

// MTLS is a PKI for mutual TLS against a server on 127.0.0.1: a CA
// that signed the server's certificate and the client's, and PEM files
// of the CA, the client certificate and the client key in a directory.
type MTLS struct {
	CA             *CA
	Server, Client *Leaf
	// CAFile, ClientCertFile and ClientKeyFile are the PEM files.
	CAFile, ClientCertFile, ClientKeyFile string
}

// NewMTLS makes an MTLS whose server certificate is for hosts (127.0.0.1
// when none are given), writing its files in dir.
func NewMTLS(dir string, hosts ...string) (*MTLS, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	ca, err := NewCA("servingbench test CA")
	if err != nil {
		return nil, err
	}
	m := &MTLS{CA: ca}
	if m.Server, err = ca.Issue(Options{CommonName: "llm server", Hosts: hosts}); err != nil {
		return nil, err
	}
	if m.Client, err = ca.Issue(Options{CommonName: "servingbench client", Client: true}); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path *string
		name string
		data []byte
	}{{&m.CAFile, "ca.pem", ca.PEM}, {&m.ClientCertFile, "client.pem", m.Client.CertPEM}, {&m.ClientKeyFile, "client-key.pem", m.Client.KeyPEM}} {
		if *f.path, err = Write(dir, f.name, f.data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ServerConfig is the server's TLS configuration: its certificate, and,
// when requireClientCert, a client certificate signed by the CA required
// (tls.RequireAndVerifyClientCert), as MindIE Server's mutual TLS does.
func (m *MTLS) ServerConfig(requireClientCert bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{m.Server.TLS}}
	if requireClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = m.CA.Pool()
	}
	return cfg
}
