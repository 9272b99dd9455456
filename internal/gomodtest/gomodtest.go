// Package gomodtest builds, for a test, the Go module a user of servingbench
// writes: a go.mod that requires this repository through a replace
// directive, and runs go commands and benchstat in it offline (the module
// cache only, GOPROXY=off), so that tests exercise the workflow of the
// README (go test -bench, benchstat, servingbench compare) as a user runs
// it.
//
// A module missing from the cache skips the test, except under CI=true,
// where .ci/run has run go mod download first and a missing module is a
// failure.
package gomodtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Module is a temporary module directory.
type Module struct {
	// Dir is the module's directory, removed when the test ends.
	Dir string
	t   testing.TB
	goc string
}

// New writes a module named example.com/serving in a temporary directory,
// requiring github.com/servingbench/servingbench replaced by root (this
// repository's directory) with root's go.sum. It skips t when there is no
// go command.
func New(t testing.TB, root string) *Module {
	t.Helper()
	goc, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err = filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	m := &Module{Dir: t.TempDir(), t: t, goc: goc}
	m.Write("go.mod", "module example.com/serving\n\ngo 1.26\n\nrequire github.com/servingbench/servingbench v0.0.0\n\n"+
		"replace github.com/servingbench/servingbench => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m.Write("go.sum", string(sum))
	return m
}

// Write writes a file of the module.
func (m *Module) Write(name, text string) {
	m.t.Helper()
	if err := os.WriteFile(filepath.Join(m.Dir, name), []byte(text), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

// Path is the path of a file of the module.
func (m *Module) Path(name string) string { return filepath.Join(m.Dir, name) }

// Command returns the command name with args in the module's directory,
// with the test's environment without SERVINGBENCH_*, OPENAI_API_KEY and
// GOFLAGS, plus env and the offline settings, and its combined output
// going to out. For commands that run at the same time; Run runs one.
func (m *Module) Command(env []string, out *bytes.Buffer, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = m.Dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SERVINGBENCH_") && !strings.HasPrefix(kv, "OPENAI_API_KEY=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off", "GOSUMDB=off")...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// Run runs name with args (see Command) and returns its combined output.
// A non-zero exit fails the test, unless it is want's (Run then returns
// the output); want 0 means success.
func (m *Module) Run(env []string, want int, name string, args ...string) string {
	m.t.Helper()
	var out bytes.Buffer
	cmd := m.Command(env, &out, name, args...)
	m.Check(cmd, cmd.Run(), want, out.String())
	return out.String()
}

// Check fails the test when cmd's error err is not the exit status want
// (0: success), with its output; a module missing from the cache skips
// the test instead, except under CI=true.
func (m *Module) Check(cmd *exec.Cmd, err error, want int, out string) {
	m.t.Helper()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	if code == want {
		return
	}
	if strings.Contains(out, "GOPROXY=off") && !isCI() {
		m.t.Skipf("a module is missing from the module cache (run go mod download):\n%s", out)
	}
	m.t.Fatalf("%s: exit status %d, want %d (%v):\n%s", strings.Join(cmd.Args, " "), code, want, err, out)
}

// GoPath is the go command's path.
func (m *Module) GoPath() string { return m.goc }

// Go runs the go command (see Run; it must succeed).
func (m *Module) Go(env []string, args ...string) string {
	m.t.Helper()
	return m.Run(env, 0, m.goc, args...)
}

// Benchstat builds golang.org/x/perf/cmd/benchstat, the version
// servingbench requires, and returns the binary's path.
func (m *Module) Benchstat() string {
	m.t.Helper()
	bin := m.Path("benchstat")
	m.Go(nil, "build", "-o", bin, "golang.org/x/perf/cmd/benchstat")
	return bin
}

// BuildCLI builds servingbench's command and returns the binary's path.
func (m *Module) BuildCLI() string {
	m.t.Helper()
	bin := m.Path("servingbench")
	m.Go(nil, "build", "-o", bin, "github.com/servingbench/servingbench/cmd/servingbench")
	return bin
}

func isCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
