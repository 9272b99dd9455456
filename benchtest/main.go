package benchtest

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/servingbench/servingbench/scenarios"
)

// EnvLabel names the build a benchmark file measures (SERVINGBENCH_LABEL):
// Main prints it as the label configuration line, so that benchstat -col
// label puts two builds side by side whatever their servers call their
// models, and Run records it in the report's Metadata["label"].
// WithLabel, given to Main or Run, sets it in code instead.
const EnvLabel = "SERVINGBENCH_LABEL"

// Main runs m's tests and benchmarks after printing, when benchmarks are
// to run (-test.bench is set), the identity of the file's target as
// benchfmt configuration lines:
//
//	model: tiny-qwen3
//	backend: llama.cpp
//	server: llama.cpp b11669-Debian
//	label: q8_0
//	# server-id: 3fa9c2e1b7d0 llama.cpp b11669-Debian (model_path=/m/tiny-q8_0.gguf, model_ftype=Q8_0, total_slots=4) at http://127.0.0.1:18080
//
// model and backend are those requests use (the backend defaults to
// "openai", DefaultBackend); server is what the server says it is
// (target.Target.Identify: the Server header, GET /version, llama.cpp's
// GET /props, GET /v1/models), left out when it says nothing; label is
// the file's label (WithLabel, else SERVINGBENCH_LABEL), left out when
// there is none. A real server without a label gets the configuration
// line "server-id: ID" instead, the fingerprint of its address and
// identity, so that benchstat never pools the results of two servers that
// answer to the same model name; a label names the build, and then keeps
// the line out so that benchstat -col label compares the builds. The last
// line, always printed, is one benchfmt ignores and the regression gate
// (benchtest/gate, servingbench compare) reads: the server's ID and
// description, by which it refuses to pool results of several servers.
// The one-time notice that the simulated server is in use follows as
// another ignored line, and one more names the SERVINGBENCH_NUM_PROMPTS,
// SERVINGBENCH_INPUT_LEN and SERVINGBENCH_OUTPUT_LEN that resize every
// scenario (see ScaleFromEnv), when set. The API key is never printed.
//
// benchstat then keeps results of different targets apart and can
// compare them:
//
//	SERVINGBENCH_LABEL=f16 go test -run '^$' -bench . -benchtime=1x -count=6 > f16.txt
//	SERVINGBENCH_LABEL=q8_0 go test -run '^$' -bench . -benchtime=1x -count=6 > q8.txt
//	benchstat -col label f16.txt q8.txt
//
// Differing configuration splits benchstat's default tables, so a plain
// benchstat old.txt new.txt compares only runs of the same target
// (-ignore label, or -ignore server-id for unlabelled real servers, lifts
// that).
//
// The file's target is the environment's (TargetFromEnv) unless opts
// hold WithTarget, and its label SERVINGBENCH_LABEL's unless opts hold
// WithLabel: Run uses both whenever its own options give none. Main takes
// no other option: it panics, before running anything, on any other (give
// them to Run).
//
// Call it from TestMain; it returns m.Run's exit code, which TestMain may
// pass to os.Exit or ignore (go test then exits with it):
//
//	func TestMain(m *testing.M) { benchtest.Main(m) }
//
// Main stops the simulated servers benchmarks started before it returns.
func Main(m *testing.M, opts ...Option) int {
	f, err := mainSettings(opts)
	if err != nil {
		panic(err)
	}
	fileConfig.Store(&f)
	if !flag.Parsed() {
		flag.Parse()
	}
	if fl := flag.Lookup("test.bench"); fl != nil && fl.Value.String() != "" {
		writeConfig(os.Stdout, f)
		if sc, err := envScale(); err == nil && sc != (scenarios.Scale{}) {
			fmt.Println(ignoredLine(scaleNames(sc) + " resize every scenario (scenarios.Scale " + sc.String() + ")"))
		}
	}
	defer closeEndpoints()
	return m.Run()
}

// fileSettings is the target and label of a benchmark file: Main's, or
// the environment's.
type fileSettings struct {
	target Target
	label  string
}

// fileConfig holds Main's fileSettings; nil when Main was not called.
var fileConfig atomic.Pointer[fileSettings]

// envLabel is SERVINGBENCH_LABEL, read once per process.
var envLabel = sync.OnceValue(func() string { return configValue(os.Getenv(EnvLabel)) })

// currentFile returns the file's settings: Main's, else the environment's.
func currentFile() fileSettings {
	if f := fileConfig.Load(); f != nil {
		return *f
	}
	return fileSettings{target: envTarget(), label: envLabel()}
}

// mainSettings returns the file settings of Main's options, and an error
// naming the options Main does not take.
func mainSettings(opts []Option) (fileSettings, error) {
	s := newSettings(opts)
	var others []string
	for _, o := range []struct {
		name string
		set  bool
	}{
		{"WithSLA", s.hasSLA}, {"WithGoodput", !s.goodput.IsZero()}, {"WithTokenizer", s.tok != nil},
		{"WithClientConfig", len(s.client) > 0}, {"WithPinnedSeed", s.pinnedSeed}, {"WithFailureBudget", s.hasBudget},
		{"WithServer", s.hasServer}, {"WithSearch", s.hasSearch},
	} {
		if o.set {
			others = append(others, o.name)
		}
	}
	if len(others) > 0 {
		return fileSettings{}, fmt.Errorf("benchtest: Main takes only WithTarget and WithLabel, got %s: give them to Run or Capacity", strings.Join(others, ", "))
	}
	f := fileSettings{target: envTarget(), label: envLabel()}
	if s.hasTarget {
		f.target = s.target
	}
	if s.hasLabel {
		f.label = s.label
	}
	return f, nil
}

// writeConfig prints the identity of f's target and its label as benchfmt
// configuration lines, and the target's notices as lines benchfmt
// ignores. An invalid target prints nothing: Run reports its error.
func writeConfig(w io.Writer, f fileSettings) {
	e, err := resolve(f.target)
	if err != nil {
		return
	}
	printed.Store(&printedConfig{e: e, label: f.label})
	e.writeConfig(w, f.label)
}

// writeConfig prints e's configuration lines with label, its identity
// line and, the first time, its notices.
func (e *endpoint) writeConfig(w io.Writer, label string) {
	for _, kv := range e.config(label) {
		fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1])
	}
	fmt.Fprintln(w, ignoredLine(e.serverIDLine()))
	for _, line := range e.takeNotes() {
		fmt.Fprintln(w, ignoredLine(line))
	}
}

// printedConfig is the endpoint and label whose configuration Main
// printed.
type printedConfig struct {
	e     *endpoint
	label string
}

// printed is what Main printed, if anything.
var printed atomic.Pointer[printedConfig]

// labelWarned holds the endpoint and label pairs checkLabel has warned
// about.
var labelWarned sync.Map // labelKey -> struct{}

type labelKey struct {
	e     *endpoint
	label string
}

// checkLabel logs, once per endpoint and label, that the results of a Run
// of e with label, other than the target or label Main printed, carry the
// printed configuration unless the benchmark's name says otherwise: a
// key=value element label=LABEL or model=MODEL naming what differs.
func checkLabel(b *testing.B, e *endpoint, label string) {
	p := printed.Load()
	if p == nil || p.e == e && p.label == label {
		return
	}
	name := b.Name()
	if label != p.label && label != "" && namesPair(name, "label", label) ||
		e.target.Model != p.e.target.Model && namesPair(name, "model", e.target.Model) {
		return
	}
	if _, warned := labelWarned.LoadOrStore(labelKey{e, label}, struct{}{}); warned {
		return
	}
	var fix string
	switch {
	case label != p.label && label != "":
		fix = "label=" + label
	case e.target.Model != p.e.target.Model:
		fix = "model=" + e.target.Model
	default:
		fix = "label=NAME, with WithLabel(NAME),"
	}
	b.Logf("%s is not what the file configuration Main printed names (%s): its results carry that configuration; name the sub-benchmark %s so that benchstat tells their results apart",
		describe(e, label), describe(p.e, p.label), fix)
}

// describe names a target and label for checkLabel: "target simulated
// w8a8 at 1000x speed serving sim-7b-w8a8, server-id 3fa9c2e1b7d0, label
// q8_0".
func describe(e *endpoint, label string) string {
	s := "target " + e.target.String()
	if e.id.ID != "" {
		s += ", server-id " + e.id.ID
	}
	if label != "" {
		s += ", label " + label
	}
	return s
}

// namesPair reports whether the benchmark name holds key=value as a whole
// element: after the start or a "/", before the end, a "/" or the "#NN"
// go test adds to a repeated name. The value may hold "/" (model=org/name).
func namesPair(name, key, value string) bool {
	kv := key + "=" + strings.ReplaceAll(value, " ", "_")
	for i := 0; i <= len(name); {
		j := strings.Index(name[i:], kv)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(kv)
		if (j == 0 || name[j-1] == '/') && (end == len(name) || name[end] == '/' || name[end] == '#') {
			return true
		}
		i = j + 1
	}
	return false
}

// config returns the benchfmt configuration of e with label: model,
// backend, server (when the server says), label (when set) or, for a real
// server without a label, server-id.
func (e *endpoint) config(label string) [][2]string {
	kv := [][2]string{{"model", configValue(e.target.Model)}, {"backend", configValue(e.target.Backend)}}
	if e.id.Server != "" {
		kv = append(kv, [2]string{"server", configValue(e.id.Server)})
	}
	if label != "" {
		kv = append(kv, [2]string{"label", label})
	} else if e.sim == nil && e.id.ID != "" {
		kv = append(kv, [2]string{"server-id", e.id.ID})
	}
	return kv
}

// serverIDLine is "server-id: ID DESCRIPTION", the line Main prints as one
// benchfmt ignores and the regression gate reads: the description is the
// server's identity and its base URL without credentials.
func (e *endpoint) serverIDLine() string {
	return fmt.Sprintf("server-id: %s %s at %s", cmp.Or(e.id.ID, "unknown"), cmp.Or(e.id.String(), "unknown server"), redactURL(e.tg.URL))
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
