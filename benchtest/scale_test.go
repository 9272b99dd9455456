package benchtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/benchtest"
	"github.com/servingbench/servingbench/scenarios"
	"github.com/servingbench/servingbench/servingbench/servingtest"
)

func TestScaleFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want scenarios.Scale
		errs []string // substrings of the error; nil: none
	}{
		{"none", nil, scenarios.Scale{}, nil},
		{"all", map[string]string{"SERVINGBENCH_NUM_PROMPTS": "16", "SERVINGBENCH_INPUT_LEN": " 64 ", "SERVINGBENCH_OUTPUT_LEN": "32"},
			scenarios.Scale{NumPrompts: 16, InputLen: 64, OutputLen: 32}, nil},
		{"empty keeps", map[string]string{"SERVINGBENCH_NUM_PROMPTS": "", "SERVINGBENCH_OUTPUT_LEN": "8"}, scenarios.Scale{OutputLen: 8}, nil},
		{"not a number", map[string]string{"SERVINGBENCH_NUM_PROMPTS": "ten"}, scenarios.Scale{},
			[]string{`benchtest: SERVINGBENCH_NUM_PROMPTS="ten": want a whole number >= 1 (unset keeps each scenario's)`}},
		{"zero", map[string]string{"SERVINGBENCH_INPUT_LEN": "0"}, scenarios.Scale{}, []string{`SERVINGBENCH_INPUT_LEN="0": want a whole number >= 1`}},
		{"negative and a float", map[string]string{"SERVINGBENCH_OUTPUT_LEN": "-3", "SERVINGBENCH_NUM_PROMPTS": "1e3", "SERVINGBENCH_INPUT_LEN": "64"},
			scenarios.Scale{InputLen: 64}, []string{`SERVINGBENCH_NUM_PROMPTS="1e3"`, `SERVINGBENCH_OUTPUT_LEN="-3"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := benchtest.ScaleFromEnv(func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.want, got, "ScaleFromEnv(%v)", tt.env)
			if tt.errs == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.errs {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestRunScaledByEnv: the scale variables resize the scenario of every
// Run, as the server sees it, and Main names them; a bad value fails the
// benchmark before any request.
func TestRunScaledByEnv(t *testing.T) {
	srv := servingtest.NewServer(servingtest.Model{Name: "m"})
	defer srv.Close()
	target := []string{benchtest.EnvBaseURL + "=" + srv.URL, benchtest.EnvModel + "=m"}
	out, err := goTestBench(t, append(target, benchtest.EnvNumPrompts+"=3", benchtest.EnvOutputLen+"=5"), "^BenchmarkHelperTiny$", "-test.count=2")
	require.NoError(t, err, "output:\n%s", out)
	assert.Contains(t, out, "\nSERVINGBENCH_NUM_PROMPTS=3 SERVINGBENCH_OUTPUT_LEN=5 resize every scenario (scenarios.Scale n=3/out=5)\n")
	truth := srv.Truth()
	require.Len(t, truth, 2*3, "requests of two runs of 3 prompts")
	for _, r := range truth {
		assert.Equal(t, 5, r.MaxTokens, "max_tokens of request %d", r.Index)
	}
	assert.Len(t, readBenchfmt(t, out), 2)

	srv.Reset()
	out, err = goTestBench(t, append(target, benchtest.EnvNumPrompts+"=ten"), "^BenchmarkHelperTiny$")
	require.Error(t, err, "a bad SERVINGBENCH_NUM_PROMPTS must fail the benchmark; output:\n%s", out)
	assert.Contains(t, out, `benchtest: SERVINGBENCH_NUM_PROMPTS="ten": want a whole number >= 1`)
	assert.Empty(t, srv.Truth(), "requests sent with a bad scale")
}
