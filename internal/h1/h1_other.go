//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le))

package h1

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Supported reports whether this platform has the poller client.
const Supported = false

// Transport is not available on this platform; New returns an error.
type Transport struct{}

// New returns an error on this platform.
func New(addr string, d *net.Dialer, maxIdle int, idleTimeout time.Duration) (*Transport, error) {
	return nil, errors.New("h1: the poller client runs on 64-bit Linux only")
}

// Do is never reached on this platform.
func (t *Transport) Do(ctx context.Context, head, body []byte, mode Mode, h Handler) (Info, error) {
	return Info{}, errors.New("h1: unsupported platform")
}

// Close does nothing on this platform.
func (t *Transport) Close() {}

var _ = http.StatusOK
