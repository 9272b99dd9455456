package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Decision is what a test does about a missing or present install.
type Decision int

const (
	// Run: the server is installed.
	Run Decision = iota
	// Skip: not installed outside CI, or unavailable for an external reason.
	Skip
	// Fail: CI, and neither installed nor recorded as unavailable: the
	// install step was not run or is broken, which is the project's fault.
	Fail
)

// Decide applies the suite's skip rules to the result of Open and whether
// this is CI ($CI true). It returns the decision and the one-line message
// for Skip and Fail.
func Decide(openErr error, ci bool) (Decision, string) {
	var un *UnavailableError
	switch {
	case openErr == nil:
		return Run, ""
	case errors.As(openErr, &un):
		return Skip, "!!! SKIPPING the real-server conformance suite: " + un.Error() + " !!!"
	case ci:
		return Fail, fmt.Sprintf("CI is set but %v; .ci/run must run %s first", openErr, InstallCommand)
	default:
		return Skip, fmt.Sprintf("llama.cpp server not installed; run %s (then the tests use %s)", InstallCommand, homeHint())
	}
}

func homeHint() string {
	if h, err := DefaultHome(); err == nil {
		return h
	}
	return "$" + HomeEnv
}

// IsCI reports whether $CI is a true boolean ("true", "1", ...), as CI
// services set it.
func IsCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Require returns the install in DefaultHome, or skips or fails t by
// Decide's rules.
func Require(t testing.TB) *Install {
	t.Helper()
	home, err := DefaultHome()
	var in *Install
	if err == nil {
		in, err = Open(home)
	}
	switch d, msg := Decide(err, IsCI()); d {
	case Skip:
		t.Skip(msg)
	case Fail:
		t.Fatal(msg)
	}
	return in
}

// Serve starts a server for t and stops it in t.Cleanup; on failure the
// test fails. The log is kept in t's temporary directory and its path
// logged when the test fails.
func Serve(t testing.TB, in *Install, opt Options) *Server {
	t.Helper()
	if opt.LogDir == "" {
		opt.LogDir = t.TempDir()
	}
	s, err := in.Start(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("llama-server log %s ends:\n%s", s.Log, s.tail())
		}
	})
	return s
}
