package servingbench_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// leakSettle bounds the wait for goroutines to end: a closed connection's
// read loop ends when the kernel reports the close, which on a loaded
// machine can take a while.
const leakSettle = 5 * time.Second

// goroutines returns the stacks of all goroutines but the caller's, keyed
// by goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller
		}
		head, _, _ := bytes.Cut(g, []byte(" ["))
		out[string(head)] = string(g)
	}
	return out
}

// checkNoLeaks snapshots the goroutines and returns a function that fails
// the test if goroutines started since remain, after retries for up to
// leakSettle. Call it as defer checkNoLeaks(t)(), before the servers and
// clients are created, so that their Close runs first.
func checkNoLeaks(t *testing.T) func() {
	t.Helper()
	before := goroutines()
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(leakSettle)
		for {
			leaked = leaked[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !ignoredGoroutine(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines left behind:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

// checkNoClientGoroutines fails the test if a goroutine of the client side
// remains: the runner, the streaming clients and the HTTP transport's
// connection loops. Call it after Run returned and the client's idle
// connections were closed, while the server may still run.
func checkNoClientGoroutines(t *testing.T) {
	t.Helper()
	var leaked []string
	deadline := time.Now().Add(leakSettle)
	for {
		leaked = leaked[:0]
		for _, stack := range goroutines() {
			if clientGoroutine(stack) {
				leaked = append(leaked, stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(leaked) > 0 {
		t.Errorf("%d client goroutines left after Run returned and the client closed:\n\n%s",
			len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// clientGoroutine reports whether a stack belongs to the client side.
func clientGoroutine(stack string) bool {
	return strings.Contains(stack, "net/http.(*persistConn)") ||
		strings.Contains(stack, "net/http.(*Transport)") ||
		strings.Contains(stack, "/servingbench/servingbench.") ||
		strings.Contains(stack, "/internal/sse.")
}

// ignoredGoroutine reports goroutines that belong to the test framework or
// the runtime, not to the code under test.
func ignoredGoroutine(stack string) bool {
	return strings.Contains(stack, "testing.(*T).Run") ||
		strings.Contains(stack, "testing.tRunner") && strings.Contains(stack, "_test.Test") ||
		strings.Contains(stack, "runtime.goexit") && strings.Contains(stack, "created by runtime.gc")
}
