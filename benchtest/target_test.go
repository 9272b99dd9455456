package benchtest_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
)

func TestTargetFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want benchtest.Target
	}{
		{"none: simulated", nil, benchtest.Target{}},
		{"real server", map[string]string{
			"SERVINGBENCH_BASE_URL":  " http://10.0.0.5:8000 ",
			"SERVINGBENCH_BACKEND":   "openai-chat",
			"SERVINGBENCH_MODEL":     "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
			"SERVINGBENCH_TOKENIZER": "/models/r1-7b",
			"OPENAI_API_KEY":         "sk-test",
		}, benchtest.Target{
			BaseURL: "http://10.0.0.5:8000", Backend: "openai-chat",
			Model: "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", Tokenizer: "/models/r1-7b", APIKey: "sk-test",
		}},
		{"simulated profile and speed", map[string]string{"SERVINGBENCH_SIM": "w8a8", "SERVINGBENCH_SIM_SPEED": "10"},
			benchtest.Target{Sim: "w8a8", SimSpeed: 10}},
		{"unrelated variables", map[string]string{"SERVINGBENCH_URL": "http://x", "MODEL": "m"}, benchtest.Target{}},
		{"connection", map[string]string{
			"SERVINGBENCH_BASE_URL":    "https://10.0.0.5:1025",
			"SERVINGBENCH_HEADERS":     ` {"X-Api-Key": "k"} `,
			"SERVINGBENCH_EXTRA_BODY":  `{"top_k": 20}`,
			"SERVINGBENCH_CA_CERT":     "/certs/ca.pem",
			"SERVINGBENCH_CLIENT_CERT": "/certs/client.pem",
			"SERVINGBENCH_CLIENT_KEY":  "/certs/client-key.pem",
		}, benchtest.Target{BaseURL: "https://10.0.0.5:1025", Headers: `{"X-Api-Key": "k"}`, ExtraBody: `{"top_k": 20}`,
			CACert: "/certs/ca.pem", ClientCert: "/certs/client.pem", ClientKey: "/certs/client-key.pem"}},
		{"insecure", map[string]string{"SERVINGBENCH_INSECURE": "1"}, benchtest.Target{Insecure: true}},
		{"insecure false", map[string]string{"SERVINGBENCH_INSECURE": "false"}, benchtest.Target{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := benchtest.TargetFromEnv(func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.want, got, "TargetFromEnv(%v) = %+v, want %+v", tt.env, got, tt.want)
		})
	}
}

func TestTargetFromEnvBadSpeed(t *testing.T) {
	got := benchtest.TargetFromEnv(func(k string) string {
		if k == benchtest.EnvSimSpeed {
			return "fast"
		}
		return ""
	})
	assert.True(t, math.IsNaN(got.SimSpeed), "TargetFromEnv(SERVINGBENCH_SIM_SPEED=fast).SimSpeed = %v, want NaN", got.SimSpeed)
}

func TestTargetFromEnvOS(t *testing.T) {
	t.Setenv(benchtest.EnvBaseURL, "http://127.0.0.1:9")
	t.Setenv(benchtest.EnvModel, "m")
	got := benchtest.TargetFromEnv(nil)
	assert.Equal(t, benchtest.Target{BaseURL: "http://127.0.0.1:9", Model: "m"}, got)
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		target benchtest.Target
		want   string
	}{
		{benchtest.Target{}, "simulated fp16 at 10x speed"},
		{benchtest.Target{Sim: "w8a8", SimSpeed: 2, Model: "r1-7b-w8a8"}, "simulated w8a8 at 2x speed serving r1-7b-w8a8"},
		{benchtest.Target{BaseURL: "http://10.0.0.5:8000", Model: "r1-7b", APIKey: "sk-secret"}, "r1-7b (openai) at http://10.0.0.5:8000"},
		{benchtest.Target{BaseURL: "https://user:pw-secret@gw.example:443", Backend: "openai-chat", Model: "r1-7b"},
			"r1-7b (openai-chat) at https://gw.example:443"},
	}
	for _, tt := range tests {
		got := tt.target.String()
		assert.Equal(t, tt.want, got, "%#v.String() = %q, want %q", tt.target, got, tt.want)
		assert.NotContains(t, got, "secret")
	}
}

func TestTargetFormatsHideKey(t *testing.T) {
	tg := benchtest.Target{BaseURL: "https://u:pw-secret@gw.example", Model: "m", APIKey: "sk-secret",
		Headers: `{"X-Api-Key": "hk-secret", "x-tenant": "a"}`, CACert: "ca.pem"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(verb, tg)
		assert.NotContains(t, got, "secret", "Sprintf(%q, target) = %q", verb, got)
	}
	assert.Equal(t, `benchtest.Target{BaseURL:"https://gw.example", Backend:"", Model:"m", Tokenizer:"", APIKey:"(redacted)", Sim:"", SimSpeed:0, `+
		`Headers:"{\"X-Api-Key\":\"(redacted)\",\"X-Tenant\":\"a\"}", ExtraBody:"", CACert:"ca.pem", ClientCert:"", ClientKey:"", Insecure:false}`,
		fmt.Sprintf("%#v", tg))
	tg.Headers = `{"X-Api-Key": "hk-secret",}`
	assert.NotContains(t, fmt.Sprintf("%#v", tg), "secret", "headers that do not parse")
}

func TestSimProfile(t *testing.T) {
	for name, want := range map[string]string{"": "sim-7b-fp16", "fp16": "sim-7b-fp16", "w8a8": "sim-7b-w8a8", "zero": "sim-zero-cost"} {
		m, err := benchtest.SimProfile(name)
		require.NoError(t, err, "SimProfile(%q)", name)
		assert.Equal(t, want, m.Name, "SimProfile(%q).Name = %q, want %q", name, m.Name, want)
	}
	_, err := benchtest.SimProfile("int4")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Target.Sim: unknown simulated profile "int4"`)
}
