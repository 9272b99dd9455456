package benchtest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
	"github.com/servingbench/servingbench/servingbench/target"
)

// TestCheckFileLimit runs more requests than this process's hard open-file
// limit can hold connections for.
func TestCheckFileLimit(t *testing.T) {
	l, err := servingbench.CurrentFileLimit()
	require.NoError(t, err)
	if l.Hard == 0 || l.Hard > 1<<20 {
		t.Skipf("open-file limit %v: unknown or too large to exceed", l)
	}
	reqs := make([]servingbench.Request, l.Hard+1)
	tests := []struct {
		name           string
		arrival        servingbench.Arrival
		maxConcurrency int
		err, note      string
	}{
		{name: "all at once is an error", arrival: servingbench.Gamma{Rate: math.Inf(1), Burstiness: 1},
			err: "benchtest: servingbench: "},
		{name: "no arrival is all at once", err: "raise ulimit -n or set Scenario.MaxConcurrency to "},
		{name: "a finite rate is a note", arrival: servingbench.Gamma{Rate: 10, Burstiness: 1},
			note: "warning: if the server falls behind, servingbench: "},
		{name: "a max concurrency that fits", arrival: servingbench.Gamma{Rate: math.Inf(1), Burstiness: 1}, maxConcurrency: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			note, err := checkFileLimit(&endpoint{tg: &target.Target{}}, reqs, tt.arrival, tt.maxConcurrency)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			if tt.note == "" {
				assert.Empty(t, note)
			} else {
				assert.Contains(t, note, tt.note)
			}
		})
	}
}
