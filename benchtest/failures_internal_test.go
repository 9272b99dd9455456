package benchtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

func failedReport(groups int) *servingbench.Report {
	r := &servingbench.Report{Completed: 100}
	for i := range groups {
		r.Errors = append(r.Errors, servingbench.ErrorCount{Reason: fmt.Sprintf("reason %d", i), Count: groups - i})
		r.Failed += groups - i
	}
	return r
}

func TestFailureCheck(t *testing.T) {
	r := failedReport(2) // 2 x reason 0, 1 x reason 1
	sla := servingbench.MustParseSLA("failed<=1")
	tests := []struct {
		name string
		s    settings
		want []string // substrings of the error; nil: none
	}{
		{"default", settings{}, []string{
			"benchtest: 3 of 103 requests failed in the run with seed 9:\n\t2 x reason 0\n\t1 x reason 1\n",
			"accept some with benchtest.WithFailureBudget(n) or an SLA limit failed<=N or failed_rate<=F",
		}},
		{"within the budget", settings{failureBudget: 3, hasBudget: true}, nil},
		{"over the budget", settings{failureBudget: 2, hasBudget: true}, []string{
			"benchtest: 3 of 103 requests failed, more than the failure budget of 2 (WithFailureBudget) in the run with seed 9:\n\t2 x reason 0\n\t1 x reason 1",
		}},
		{"SLA with a failure limit decides", settings{sla: sla, hasSLA: true}, nil},
		{"SLA without a failure limit", settings{sla: servingbench.MustParseSLA("ttft.p99<=1s"), hasSLA: true}, []string{"3 of 103 requests failed"}},
		{"budget and SLA", settings{sla: sla, hasSLA: true, failureBudget: 2, hasBudget: true}, []string{"more than the failure budget of 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.failureCheck().check(r, 9)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	assert.NoError(t, settings{}.failureCheck().check(&servingbench.Report{Completed: 5}, 0), "no failures")
}

func TestFailureReasonsExamples(t *testing.T) {
	long := "HTTP 400: {\"error\": {\"message\": \"request (4200 tokens) exceeds the available context size (2048 tokens)\",\n \"code\": 400" + strings.Repeat(" x", 200) + "}}"
	r := &servingbench.Report{Failed: 5, Errors: []servingbench.ErrorCount{
		{Reason: "HTTP 400: 4", Count: 4, Example: long},
		{Reason: "connection reset after 2 tokens", Count: 1, Example: "connection reset after 2 tokens"},
	}}
	got := failureReasons(r)
	lines := strings.Split(strings.TrimPrefix(got, "\n\t"), "\n\t")
	require.Len(t, lines, 2, "failureReasons:\n%s", got)
	assert.True(t, strings.HasPrefix(lines[0], `4 x HTTP 400: 4 (first: HTTP 400: {"error": {"message": "request (4200 tokens) exceeds the available context size (2048 tokens)", "code": 400 x x`), lines[0])
	assert.True(t, strings.HasSuffix(lines[0], "...)"), "a long example is cut: %q", lines[0])
	assert.Equal(t, 300, len([]rune(strings.TrimSuffix(strings.TrimPrefix(lines[0], "4 x HTTP 400: 4 (first: "), ")"))), "runes of the example")
	assert.Equal(t, "1 x connection reset after 2 tokens", lines[1], "an example equal to its reason is not repeated")

	err := noSuccess(&servingbench.Report{Failed: 5, Errors: r.Errors}, 3)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "benchtest: all 5 requests failed in the run with seed 3:\n\t4 x HTTP 400: 4 (first: "), err.Error())
	err = noSuccess(&servingbench.Report{NumPrompts: 4}, 3)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no request of 4 was sent")
	assert.NoError(t, noSuccess(&servingbench.Report{Completed: 1, Failed: 3}, 3))
}

func TestFailureReasonsBounded(t *testing.T) {
	got := failureReasons(failedReport(12))
	lines := strings.Split(strings.TrimPrefix(got, "\n\t"), "\n\t")
	require.Len(t, lines, maxReasons, "failureReasons of 12 groups:\n%s", got)
	assert.Equal(t, "12 x reason 0", lines[0])
	assert.Equal(t, "4 x reason 8", lines[8])
	assert.Equal(t, "6 x (3 other reasons)", lines[9], "the last line sums groups 9-11 (3+2+1)")
}

func TestUnjudgedFailures(t *testing.T) {
	assert.Empty(t, unjudgedFailures(&servingbench.Report{Completed: 3}, 1))
	assert.Equal(t, "warning: 3 of 103 requests failed in the run with seed 1, a run before the one reported (the SLA judges only that one):\n\t2 x reason 0\n\t1 x reason 1",
		unjudgedFailures(failedReport(2), 1))
}
