package servingbench

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// TLSFiles names the files of an HTTPS client the way curl's --cacert,
// --cert and --key do (MindIE Server's documentation passes those three
// for its mutual TLS), and vLLM's --insecure. The zero value is Go's
// default: the server's certificate verified against the system's roots,
// no client certificate.
type TLSFiles struct {
	// CACert is a PEM file of one or more CA certificates ("CERTIFICATE"
	// blocks) the server's certificate is verified against, in place of
	// the system's roots, as curl's --cacert. A self-signed server
	// certificate may be given as its own CA.
	CACert string
	// ClientCert is a PEM file of the client certificate, and any
	// intermediate certificates after it, sent when the server asks for
	// one (mutual TLS). It may hold the private key too; else ClientKey is
	// required.
	ClientCert string
	// ClientKey is the PEM file of ClientCert's private key (PKCS #1,
	// PKCS #8 or SEC 1, not encrypted).
	ClientKey string
	// Insecure skips the verification of the server's certificate (vLLM's
	// --insecure, curl's -k): any certificate is accepted, so the
	// connection is encrypted but the server is not authenticated. It
	// excludes CACert.
	Insecure bool
}

// The fields of TLSFiles, as TLSFileError.Field names them.
const (
	TLSFieldCACert     = "CACert"
	TLSFieldClientCert = "ClientCert"
	TLSFieldClientKey  = "ClientKey"
	TLSFieldInsecure   = "Insecure"
)

// IsZero reports whether f sets nothing.
func (f TLSFiles) IsZero() bool { return f == TLSFiles{} }

// TLSFileError is a TLSFiles field that cannot be used: its file cannot be
// read or holds no usable PEM data, a key does not match its certificate,
// a certificate is out of its validity period, or fields contradict each
// other. Field is one of the TLSField constants.
type TLSFileError struct {
	Field string
	// File is the field's file ("" for Insecure).
	File string
	Err  error
}

func (e *TLSFileError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("servingbench: TLSFiles.%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("servingbench: TLSFiles.%s %q: %v", e.Field, e.File, e.Err)
}

func (e *TLSFileError) Unwrap() error { return e.Err }

// Config reads the files of f and returns the client's TLS configuration
// (nil for the zero TLSFiles): RootCAs from CACert, Certificates from
// ClientCert and ClientKey, InsecureSkipVerify from Insecure. Every
// problem is a *TLSFileError naming the field and its file, found before
// any connection is made: a file missing or unreadable, one without PEM
// data or without the block it needs (a CERTIFICATE for CACert and
// ClientCert, a PRIVATE KEY for ClientKey), an encrypted key, a key that
// does not match the certificate, a client certificate expired or not yet
// valid, ClientKey without ClientCert, Insecure with CACert.
func (f TLSFiles) Config() (*tls.Config, error) {
	if f.IsZero() {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: f.Insecure}
	if f.Insecure && f.CACert != "" {
		return nil, &TLSFileError{Field: TLSFieldInsecure, Err: fmt.Errorf("skips the verification CACert %q is for; give one of them", f.CACert)}
	}
	if f.CACert != "" {
		pool, err := loadCAs(f.CACert)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.ClientCert != "":
		pair, err := loadPair(f.ClientCert, f.ClientKey)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	case f.ClientKey != "":
		return nil, &TLSFileError{Field: TLSFieldClientKey, File: f.ClientKey, Err: errors.New("needs ClientCert, the certificate of the key")}
	}
	return cfg, nil
}

// readPEM reads the PEM blocks of the file of field.
func readPEM(field, path string) ([]*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the TLSFileError already
		}
		return nil, &TLSFileError{Field: field, File: path, Err: err}
	}
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		what := "not PEM: no -----BEGIN ...----- block"
		if len(bytes.TrimSpace(data)) == 0 {
			what = "empty"
		}
		return nil, &TLSFileError{Field: field, File: path, Err: errors.New(what)}
	}
	return blocks, nil
}

// blockTypes lists the types of blocks, for messages: "RSA PRIVATE KEY,
// CERTIFICATE".
func blockTypes(blocks []*pem.Block) string {
	types := make([]string, len(blocks))
	for i, b := range blocks {
		types[i] = b.Type
	}
	return strings.Join(types, ", ")
}

// certificates parses the CERTIFICATE blocks of the file of field.
func certificates(field, path string, blocks []*pem.Block) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &TLSFileError{Field: field, File: path, Err: fmt.Errorf("PEM block %d (CERTIFICATE): %v", i+1, err)}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, &TLSFileError{Field: field, File: path, Err: fmt.Errorf("no CERTIFICATE block (the file holds %s)", blockTypes(blocks))}
	}
	return certs, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	blocks, err := readPEM(TLSFieldCACert, path)
	if err != nil {
		return nil, err
	}
	certs, err := certificates(TLSFieldCACert, path, blocks)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// isKey reports whether b is a private key block: PKCS #8 "PRIVATE KEY",
// PKCS #1 "RSA PRIVATE KEY", SEC 1 "EC PRIVATE KEY", and their encrypted
// forms.
func isKey(b *pem.Block) bool { return strings.HasSuffix(b.Type, "PRIVATE KEY") }

// loadPair loads the client certificate of certPath with the key of
// keyPath, or the key in certPath when keyPath is empty.
func loadPair(certPath, keyPath string) (tls.Certificate, error) {
	certBlocks, err := readPEM(TLSFieldClientCert, certPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	certs, err := certificates(TLSFieldClientCert, certPath, certBlocks)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyField, keyFile, keyBlocks := TLSFieldClientKey, keyPath, certBlocks
	if keyPath == "" {
		keyField, keyFile = TLSFieldClientCert, certPath
	} else if keyBlocks, err = readPEM(TLSFieldClientKey, keyPath); err != nil {
		return tls.Certificate{}, err
	}
	var key *pem.Block
	for _, b := range keyBlocks {
		if isKey(b) {
			key = b
			break
		}
	}
	switch {
	case key == nil && keyPath == "":
		return tls.Certificate{}, &TLSFileError{Field: TLSFieldClientCert, File: certPath, Err: errors.New("holds no PRIVATE KEY block: give ClientKey, the file of its key")}
	case key == nil:
		return tls.Certificate{}, &TLSFileError{Field: keyField, File: keyFile, Err: fmt.Errorf("no PRIVATE KEY block (the file holds %s)", blockTypes(keyBlocks))}
	case key.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(key.Headers["Proc-Type"], "ENCRYPTED"):
		return tls.Certificate{}, &TLSFileError{Field: keyField, File: keyFile, Err: errors.New("the key is encrypted; decrypt it first (openssl pkey -in KEY -out KEY.plain)")}
	}
	var chain []byte
	for _, b := range certBlocks {
		if b.Type == "CERTIFICATE" {
			chain = append(chain, pem.EncodeToMemory(b)...)
		}
	}
	pair, err := tls.X509KeyPair(chain, pem.EncodeToMemory(key))
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			err = fmt.Errorf("the key does not match the certificate of ClientCert %q", certPath)
		}
		return tls.Certificate{}, &TLSFileError{Field: keyField, File: keyFile, Err: err}
	}
	leaf := certs[0]
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		return tls.Certificate{}, &TLSFileError{Field: TLSFieldClientCert, File: certPath,
			Err: fmt.Errorf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))}
	case now.Before(leaf.NotBefore):
		return tls.Certificate{}, &TLSFileError{Field: TLSFieldClientCert, File: certPath,
			Err: fmt.Errorf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))}
	}
	return pair, nil
}
