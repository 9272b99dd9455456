package servingbench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
)

// TLSProblem is what went wrong in a TLS connection (see TLSError).
type TLSProblem uint8

// The TLS problems a request can meet before its response.
const (
	// TLSHandshakeFailed is any other failure of the handshake: no common
	// protocol version or cipher, or the server's handshake_failure alert
	// (which OpenSSL servers send before TLS 1.3 for a missing client
	// certificate too).
	TLSHandshakeFailed TLSProblem = iota
	// TLSUnknownAuthority: the server's certificate is not signed by a
	// trusted CA (a private CA, or a self-signed certificate).
	TLSUnknownAuthority
	// TLSHostnameMismatch: the certificate does not name the URL's host.
	TLSHostnameMismatch
	// TLSCertificateInvalid: the server's certificate is expired, not yet
	// valid, or not one for a server.
	TLSCertificateInvalid
	// TLSClientCertRequired: the server asked for a client certificate
	// and the client had none to send (mutual TLS).
	TLSClientCertRequired
	// TLSClientCertRejected: the server refused the client certificate
	// sent (its CA is not one the server trusts, or it expired).
	TLSClientCertRejected
	// TLSNotTLS: the server answered the handshake with something else,
	// typically plain HTTP (an https:// URL for an http:// server).
	TLSNotTLS
)

func (p TLSProblem) String() string {
	switch p {
	case TLSUnknownAuthority:
		return "certificate signed by unknown authority"
	case TLSHostnameMismatch:
		return "certificate not valid for the server's host name"
	case TLSCertificateInvalid:
		return "server certificate not valid"
	case TLSClientCertRequired:
		return "the server requires a client certificate"
	case TLSClientCertRejected:
		return "the server rejected the client certificate"
	case TLSNotTLS:
		return "the server does not speak TLS"
	}
	return "handshake failed"
}

// TLSError is a request that failed in its TLS connection before a
// response: the server's certificate did not verify, the server required
// or refused the client's certificate, or it does not speak TLS. Such a
// failure is one of configuration, the same for every request, so Run
// stops before the benchmark when the warm-up or the prewarm meets one,
// and WaitReady does not wait for it to pass.
type TLSError struct {
	Problem TLSProblem
	// Err is Go's error: a *tls.CertificateVerificationError, the
	// server's alert ("remote error: tls: certificate required"), ...
	Err error
}

func (e *TLSError) Error() string { return "TLS: " + e.Problem.String() + ": " + e.Err.Error() }

func (e *TLSError) Unwrap() error { return e.Err }

// Reason is "TLS: " and the problem: "TLS: certificate signed by unknown
// authority".
func (e *TLSError) Reason() string { return "TLS: " + e.Problem.String() }

// The alerts a TLS server sends about the client's certificate (RFC 8446
// section 6.2), as Go's crypto/tls words them.
var clientCertAlerts = []string{
	"tls: bad certificate", "tls: unsupported certificate", "tls: revoked certificate",
	"tls: expired certificate", "tls: unknown certificate", "tls: unknown certificate authority",
	"tls: access denied",
}

// tlsErrorOf returns the *TLSError err is, nil when err is no TLS
// failure. haveCert says whether the client had a certificate to send,
// asked whether a server asked the client for one (see
// StreamClient.certAsked): a server that asked for a certificate and then
// sent an alert, when the client had none, requires one, whatever alert
// it chose (TLS 1.3 servers send certificate_required; Go's TLS 1.2
// server and OpenSSL's send handshake_failure).
func tlsErrorOf(err error, haveCert, asked bool) *TLSError {
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*TLSError](err); ok {
		return te
	}
	if cve, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return &TLSError{Problem: verifyProblem(cve.Err), Err: cve}
	}
	if p, ok := x509Problem(err); ok { // a caller's VerifyPeerCertificate
		return &TLSError{Problem: p, Err: err}
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return &TLSError{Problem: TLSNotTLS, Err: err}
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") { // net/http's word for a RecordHeaderError
		return &TLSError{Problem: TLSNotTLS, Err: err}
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "remote error" && oe.Err != nil {
		switch alert := oe.Err.Error(); {
		case alert == "tls: certificate required", !haveCert && asked:
			return &TLSError{Problem: TLSClientCertRequired, Err: oe}
		case slices.Contains(clientCertAlerts, alert) && haveCert:
			return &TLSError{Problem: TLSClientCertRejected, Err: oe}
		case slices.Contains(clientCertAlerts, alert):
			return &TLSError{Problem: TLSClientCertRequired, Err: oe}
		case strings.HasPrefix(alert, "tls: "):
			return &TLSError{Problem: TLSHandshakeFailed, Err: oe}
		}
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), "tls: ") { // crypto/tls's own handshake errors
			return &TLSError{Problem: TLSHandshakeFailed, Err: err}
		}
	}
	return nil
}

// verifyProblem is the problem of a certificate verification error.
func verifyProblem(err error) TLSProblem {
	if p, ok := x509Problem(err); ok {
		return p
	}
	return TLSCertificateInvalid
}

func x509Problem(err error) (TLSProblem, bool) {
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return TLSUnknownAuthority, true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return TLSHostnameMismatch, true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return TLSCertificateInvalid, true
	}
	return 0, false
}
