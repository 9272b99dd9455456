package benchtest

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchfmt"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		want   string
	}{
		{"native backend", Target{Backend: "deepspeed-mii"}, `Target.Backend (SERVINGBENCH_BACKEND): backend "deepspeed-mii" uses that server's native protocol`},
		{"unknown backend", Target{Backend: "nope"}, `Target.Backend (SERVINGBENCH_BACKEND): unknown backend "nope"`},
		{"unknown profile", Target{Sim: "int4"}, `Target.Sim (SERVINGBENCH_SIM): unknown simulated profile "int4"`},
		{"speed not a number", Target{SimSpeed: math.NaN()}, "Target.SimSpeed (SERVINGBENCH_SIM_SPEED) must be a number in (0, 1e6], got NaN"},
		{"negative speed", Target{SimSpeed: -1}, "Target.SimSpeed (SERVINGBENCH_SIM_SPEED) must be a number in (0, 1e6], got -1"},
		{"relative URL", Target{BaseURL: "localhost:8000", Model: "m"}, `Target.BaseURL (SERVINGBENCH_BASE_URL) must be an absolute http or https URL, got "localhost:8000"`},
		{"URL with credentials", Target{BaseURL: "ftp://u:secret@h", Model: "m"}, `got "ftp://h"`},
		{"no model", Target{BaseURL: "http://127.0.0.1:9"}, "Target.Model (SERVINGBENCH_MODEL) is required with a BaseURL"},
		{"missing simulated tokenizer", Target{Tokenizer: "/nonexistent/tokenizer.json"}, "Target.Tokenizer (SERVINGBENCH_TOKENIZER): tokenizer: no tokenizer for"},
		{"headers not JSON", Target{Headers: `{"X-Api-Key": "hk-secret",}`},
			`benchtest: Target.Headers (SERVINGBENCH_HEADERS) must be a JSON object of header names and string values, such as {"X-Api-Key": "..."}; it does not parse`},
		{"header not a string", Target{Headers: `{"X-Retries": 3}`}, `Target.Headers (SERVINGBENCH_HEADERS): header "X-Retries": the value must be a JSON string`},
		{"bad header name", Target{Headers: `{"X Key": "secret"}`}, `benchtest: Target.Headers (SERVINGBENCH_HEADERS): "X Key": the name holds ' '`},
		{"extra body an array", Target{ExtraBody: `[1]`}, "benchtest: Target.ExtraBody (SERVINGBENCH_EXTRA_BODY): want a JSON object: json: cannot unmarshal array"},
		{"extra body twice", Target{ExtraBody: `{} {}`}, "Target.ExtraBody (SERVINGBENCH_EXTRA_BODY): want one JSON object, got more"},
		{"missing CA", Target{BaseURL: "https://127.0.0.1:9", Model: "m", CACert: "/nonexistent/ca.pem"},
			`benchtest: Target.CACert (SERVINGBENCH_CA_CERT) "/nonexistent/ca.pem": no such file or directory`},
		{"key without certificate", Target{BaseURL: "https://127.0.0.1:9", Model: "m", ClientKey: "/nonexistent/key.pem"},
			`Target.ClientKey (SERVINGBENCH_CLIENT_KEY) "/nonexistent/key.pem": needs ClientCert`},
		{"CA for the simulated server", Target{CACert: "ca.pem"}, `Target.CACert (SERVINGBENCH_CA_CERT) "ca.pem": applies to a real server at an https:// URL`},
		{"insecure not a boolean", TargetFromEnv(func(k string) string { return map[string]string{EnvInsecure: "yes"}[k] }),
			`benchtest: Target.Insecure (SERVINGBENCH_INSECURE) must be a boolean (1, true, 0, false), got "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(tt.target)
			require.Error(t, err, "resolve(%+v)", tt.target)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestResolveSharesEndpoints(t *testing.T) {
	a, err := resolve(Target{Sim: "zero", SimSpeed: 1})
	require.NoError(t, err)
	b, err := resolve(Target{Sim: "zero", SimSpeed: 1, Backend: DefaultBackend})
	require.NoError(t, err)
	assert.Same(t, a, b, "resolve of two targets equal but for defaults gave two endpoints")
	c, err := resolve(Target{Sim: "zero", SimSpeed: 2})
	require.NoError(t, err)
	assert.NotSame(t, a, c)
	assert.Equal(t, servingtest.Version, a.id.Server, "server identity from GET /version")
	assert.Regexp(t, `^[0-9a-f]{12}$`, a.id.ID, "server fingerprint")
	assert.Equal(t, []string{"profile=zero", "speed=1"}, a.id.Facts)
	assert.NotEqual(t, a.id.ID, c.id.ID, "the simulated servers at speeds 1 and 2 have one fingerprint")
	assert.Equal(t, "sim-zero-cost", a.target.Model)

	e, err := newEndpoint(Target{Sim: "zero", SimSpeed: 1})
	require.NoError(t, err)
	defer e.sim.Close()
	assert.Equal(t, []string{"No SERVINGBENCH_BASE_URL: benchmarking the embedded simulated server, profile zero (sim-zero-cost) at 1x speed; its figures are simulated, not measured"},
		e.takeNotes(), "first takeNotes")
	assert.Empty(t, e.takeNotes(), "second takeNotes")
}

// TestWriteConfigIsBenchfmt checks that what Main prints before the
// benchmarks reads, with benchfmt, as exactly the target's configuration,
// and that the server-id line is one benchfmt ignores.
func TestWriteConfigIsBenchfmt(t *testing.T) {
	sim, err := newEndpoint(Target{Sim: "w8a8", SimSpeed: 3})
	require.NoError(t, err)
	defer sim.sim.Close()
	srv := servingtest.NewServer(servingtest.Model{Name: "served"})
	defer srv.Close()
	real, err := newEndpoint(Target{BaseURL: srv.URL, Model: "served", Backend: "llama.cpp"})
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{12}$`, real.id.ID)
	require.NotEqual(t, sim.id.ID, real.id.ID)
	assert.Contains(t, sim.id.String(), "profile=w8a8, speed=3")

	tests := []struct {
		name   string
		e      *endpoint
		label  string
		config map[string]string
		lines  []string // lines of the output, besides the configuration
	}{
		{"simulated", sim, "", map[string]string{"model": "sim-7b-w8a8", "backend": "openai", "server": servingtest.Version}, []string{
			"# server-id: " + sim.id.ID + " " + sim.id.String() + " at " + sim.tg.URL,
			"No SERVINGBENCH_BASE_URL: benchmarking the embedded simulated server, profile w8a8 (sim-7b-w8a8) at 3x speed; its figures are simulated, not measured",
		}},
		{"simulated, labelled", sim, "w8a8 build", map[string]string{"model": "sim-7b-w8a8", "backend": "openai", "server": servingtest.Version, "label": "w8a8 build"}, []string{
			"# server-id: " + sim.id.ID + " " + sim.id.String() + " at " + sim.tg.URL,
		}},
		{"real", real, "", map[string]string{"model": "served", "backend": "llama.cpp", "server": servingtest.Version, "server-id": real.id.ID}, []string{
			"# server-id: " + real.id.ID + " " + real.id.String() + " at " + srv.URL,
		}},
		{"real, labelled", real, "q8_0", map[string]string{"model": "served", "backend": "llama.cpp", "server": servingtest.Version, "label": "q8_0"}, []string{
			"# server-id: " + real.id.ID + " " + real.id.String() + " at " + srv.URL,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.e.writeConfig(&out, tt.label)
			text := out.String()
			for _, line := range tt.lines {
				assert.Contains(t, strings.Split(text, "\n"), line, "lines of\n%s", text)
			}
			out.WriteString("BenchmarkX-2 1 5 ttft-p99-ns\n")
			r := benchfmt.NewReader(strings.NewReader(out.String()), "out")
			require.True(t, r.Scan(), "benchfmt found no result in %q", text)
			res, ok := r.Result().(*benchfmt.Result)
			require.True(t, ok, "benchfmt: %v", r.Result())
			got := map[string]string{}
			for _, c := range res.Config {
				got[c.Key] = string(c.Value)
			}
			assert.Equal(t, tt.config, got, "benchfmt configuration of %q", text)
		})
	}
}

func TestIgnoredLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"No SERVINGBENCH_BASE_URL: x", "No SERVINGBENCH_BASE_URL: x"},
		{"no tokenizer: x", "# no tokenizer: x"},
		{"BenchmarkX 1 2 ns/op", "# BenchmarkX 1 2 ns/op"},
		{"über: x", "# über: x"},
		{"two\nlines: x", "# two lines: x"},
	}
	for _, tt := range tests {
		got := ignoredLine(tt.in)
		assert.Equal(t, tt.want, got, "ignoredLine(%q) = %q, want %q", tt.in, got, tt.want)
		_, _, isConfig := parseKeyValue(got)
		assert.False(t, isConfig, "ignoredLine(%q) = %q reads as configuration", tt.in, got)
	}
}

// parseKeyValue reports whether benchfmt reads line as configuration.
func parseKeyValue(line string) (key, value string, ok bool) {
	r := benchfmt.NewReader(strings.NewReader(line+"\nBenchmarkX 1 1 ns/op\n"), "")
	if !r.Scan() {
		return "", "", false
	}
	res, isRes := r.Result().(*benchfmt.Result)
	if !isRes || len(res.Config) == 0 {
		return "", "", false
	}
	return res.Config[0].Key, string(res.Config[0].Value), true
}

func TestNamesPair(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             bool
	}{
		{"BenchmarkSeed/label=q8_0", "label", "q8_0", true},
		{"BenchmarkSeed/label=q8_0#01", "label", "q8_0", true},
		{"BenchmarkSeed/label=q8_0/rate=4", "label", "q8_0", true},
		{"BenchmarkSeed/label=q8_0x", "label", "q8_0", false},
		{"BenchmarkSeed/xlabel=q8_0", "label", "q8_0", false},
		{"BenchmarkSeed/model=deepseek-ai/DeepSeek-R1", "model", "deepseek-ai/DeepSeek-R1", true},
		{"BenchmarkSeed/model=sim-7b-w8a8", "model", "sim-7b", false},
		{"BenchmarkSeed/model=sim-7b/model=sim-7b-w8a8", "model", "sim-7b-w8a8", true},
		{"BenchmarkSeed/label=my_build", "label", "my build", true},
		{"BenchmarkSeed", "label", "q8_0", false},
	}
	for _, tt := range tests {
		got := namesPair(tt.name, tt.key, tt.value)
		assert.Equal(t, tt.want, got, "namesPair(%q, %q, %q) = %v, want %v", tt.name, tt.key, tt.value, got, tt.want)
	}
}

func TestMainSettings(t *testing.T) {
	f, err := mainSettings([]Option{WithLabel(" f16 "), WithTarget(Target{Sim: "zero"})})
	require.NoError(t, err)
	assert.Equal(t, fileSettings{target: Target{Sim: "zero"}, label: "f16"}, f)
	_, err = mainSettings([]Option{WithLabel("x"), WithSLA(servingbench.MustParseSLA("failed<=0"), SLAReport), WithFailureBudget(1)})
	require.Error(t, err)
	assert.Equal(t, "benchtest: Main takes only WithTarget and WithLabel, got WithSLA, WithFailureBudget: give them to Run or Capacity", err.Error())
	_, err = mainSettings([]Option{WithSearch(capacity.SearchConfig{}), WithServer(nil)})
	require.Error(t, err)
	assert.Equal(t, "benchtest: Main takes only WithTarget and WithLabel, got WithServer, WithSearch: give them to Run or Capacity", err.Error())
}
