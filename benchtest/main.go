package benchtest

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// Main runs m's tests and benchmarks after printing, when benchmarks are
// to run (-test.bench is set), the identity of the environment's target
// (TargetFromEnv) as benchfmt configuration lines:
//
//	model: sim-7b-fp16
//	backend: openai
//	server-version: servingtest-0.1.0
//
// (server-version from GET /version, when the server answers it), and the
// one-time notice that the simulated server is in use as a line benchfmt
// ignores. benchstat then keeps results of different targets apart and
// can compare them: benchstat -col model fp16.txt w8a8.txt puts the two
// models side by side, as does benchstat -col model over the two files
// concatenated. Differing
// configuration splits benchstat's default tables, so a plain benchstat
// old.txt new.txt compares only runs of the same target (-ignore model
// lifts that). The API key is never printed.
//
// Call it from TestMain; it returns m.Run's exit code, which TestMain may
// pass to os.Exit or ignore (go test then exits with it):
//
//	func TestMain(m *testing.M) { benchtest.Main(m) }
//
// Main stops the simulated servers benchmarks started before it returns.
func Main(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		writeConfig(os.Stdout, envTarget())
	}
	defer closeEndpoints()
	return m.Run()
}

// writeConfig prints t's identity as benchfmt configuration lines and its
// notices as lines benchfmt ignores. An invalid target prints nothing:
// Run reports its error.
func writeConfig(w io.Writer, t Target) {
	e, err := resolve(t)
	if err != nil {
		return
	}
	printed.Store(e)
	e.writeConfig(w)
}

// writeConfig prints e's configuration lines and, the first time, its
// notices.
func (e *endpoint) writeConfig(w io.Writer) {
	for _, kv := range e.config() {
		fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1])
	}
	for _, line := range e.takeNotes() {
		fmt.Fprintln(w, ignoredLine(line))
	}
}

// printed is the endpoint whose configuration Main printed, if any.
var printed atomic.Pointer[endpoint]

// checkLabel logs, once per endpoint, that results of e, a target other
// than the one Main printed, are labelled with the printed model unless
// the benchmark's name says otherwise.
func checkLabel(b *testing.B, e *endpoint) {
	p := printed.Load()
	if p == nil || p == e || p.target.Model == e.target.Model || strings.Contains(b.Name(), "model="+e.target.Model) {
		return
	}
	if e.labelWarned.CompareAndSwap(false, true) {
		b.Logf("Target %s is not the target of the file configuration (model: %s): name the sub-benchmark model=%s so that benchstat tells their results apart",
			e.target, p.target.Model, e.target.Model)
	}
}

// config returns the benchfmt configuration of e: model, backend and,
// when known, server-version.
func (e *endpoint) config() [][2]string {
	kv := [][2]string{{"model", configValue(e.target.Model)}, {"backend", configValue(e.target.Backend)}}
	if e.version != "" {
		kv = append(kv, [2]string{"server-version", e.version})
	}
	return kv
}

// ignoredLine makes line one that benchfmt reads as neither a
// configuration nor a result line: one line, not starting with a lower
// case letter or "Benchmark".
func ignoredLine(line string) string {
	line = configValue(line)
	if line == "" || !startsLower(line) && !startsBenchmark(line) {
		return line
	}
	return "# " + line
}

func startsLower(s string) bool {
	for _, r := range s {
		return r >= 'a' && r <= 'z' || r > 0x7f
	}
	return false
}

func startsBenchmark(s string) bool {
	return len(s) >= 9 && s[:9] == "Benchmark"
}
