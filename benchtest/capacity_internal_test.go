package benchtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/capacity"
)

// TestJudgedSLA: a search's points are judged on failures too: failed<=0
// is added to an SLA that bounds none, failed<=n for a failure budget.
func TestJudgedSLA(t *testing.T) {
	tests := []struct {
		sla  string
		opts []Option
		want string
	}{
		{"ttft.p99<=500ms", nil, "ttft.p99<=500ms failed<=0"},
		{"ttft.p99<=500ms failed<=3", nil, "ttft.p99<=500ms failed<=3"},
		{"ttft.p99<=500ms failed_rate<=0.01", nil, "ttft.p99<=500ms failed_rate<=0.01"},
		{"ttft.p99<=500ms", []Option{WithFailureBudget(5)}, "ttft.p99<=500ms failed<=5"},
		{"ttft.p99<=500ms failed<=0", []Option{WithFailureBudget(5)}, "ttft.p99<=500ms failed<=0 failed<=5"},
	}
	for _, tt := range tests {
		sla := servingbench.MustParseSLA(tt.sla)
		got := judgedSLA(sla, newSettings(tt.opts)).String()
		assert.Equal(t, tt.want, got, "judgedSLA(%q) = %q, want %q", tt.sla, got, tt.want)
		assert.Equal(t, tt.sla, sla.String(), "judgedSLA changed its argument")
	}
}

func TestCheckSearch(t *testing.T) {
	require.NoError(t, checkSearch(capacity.SearchConfig{Dimension: capacity.MaxConcurrency, Start: 4, Max: 64, MaxPoints: 8}))
	err := checkSearch(capacity.SearchConfig{
		SLA:      servingbench.MustParseSLA("failed<=0"),
		Base:     capacity.Load{Concurrency: 8},
		Requests: 100,
	})
	require.Error(t, err)
	assert.Equal(t, "benchtest: WithSearch: Capacity sets SearchConfig.SLA (Capacity's sla argument), "+
		"SearchConfig.Base (set the scenario's MaxConcurrency for a request-rate search, its RequestRate for a max-concurrency search), "+
		"SearchConfig.Requests (the scenario's NumPrompts are the requests of every point); leave it zero", err.Error())
}

func TestCapacityUnit(t *testing.T) {
	assert.Equal(t, "capacity-req/s", CapacityUnit(capacity.RequestRate))
	assert.Equal(t, "capacity-concurrency", CapacityUnit(capacity.MaxConcurrency))
	for _, d := range []capacity.Dimension{capacity.RequestRate, capacity.MaxConcurrency} {
		assert.Equal(t, "capacity-"+d.Unit(), CapacityUnit(d), "the unit capacity.Dimension.Unit names")
	}
}
