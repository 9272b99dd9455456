//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package h1

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/servingbench/servingbench/internal/rxtime"
)

// TestMain holds the kernel's receive timestamping on for the whole run,
// as servingbench's client does, and waits until a read through a
// Transport carries a time: Linux turns stamping on from a deferred work
// item, so the first segments after it was asked for may have none.
func TestMain(m *testing.M) {
	release, err := rxtime.Hold()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := primeStamping(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	release()
	os.Exit(code)
}

// primeStamping sends requests through a Transport until a read carries
// a kernel timestamp (at most 10 s).
func primeStamping() error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tr, err := New(strings.TrimPrefix(srv.URL, "http://"), nil, 1, time.Minute)
	if err != nil {
		return err
	}
	defer tr.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		rec := &recorder{}
		if _, err := tr.Do(context.Background(), head("/", 0, false), nil, Pooled, rec); err != nil {
			return err
		}
		if len(rec.arrivals) > 0 && rec.arrivals[0] != 0 {
			return nil
		}
	}
	return fmt.Errorf("no read carried a kernel timestamp within 10 s")
}
