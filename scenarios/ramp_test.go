package scenarios

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/servingbench"
)

// TestRampUp: a ramped scenario's arrival is servingbench.Ramp with the
// scenario's seed and burstiness, and its schedule is the Ramp's own.
func TestRampUp(t *testing.T) {
	sc := RampUp(SeedRandom256(WithNumPrompts(20)), servingbench.RampExponential, 1, 8)
	sc.Seed, sc.Burstiness = 7, 2
	assert.Equal(t, "scenario=seed-random256/dataset=random/in=256/out=128/n=20/rate=ramp-exponential-1-8/burstiness=2/seed=7/warmup=true", sc.String())
	reqs, arr, err := sc.Prepare(context.Background(), newFakeTok())
	require.NoError(t, err)
	assert.Len(t, reqs, 20)
	want := servingbench.Ramp{Strategy: servingbench.RampExponential, Start: 1, End: 8, Burstiness: 2, Seed: 7}
	assert.Equal(t, want, arr, "Prepare's arrival")
	assert.Equal(t, want.Offsets(20), arr.Offsets(20))

	// A ramp replaces a dataset's own schedule.
	b := RampUp(Scenario{Dataset: BurstGPT{Path: "x.csv"}, NumPrompts: 4}, servingbench.RampLinear, 1, 2)
	assert.False(t, b.usesTrace())
}

func TestRampUpValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Scenario)
		want string
	}{
		{"with a request rate", func(s *Scenario) { s.RequestRate = 4 }, "RequestRate must be 0 with a ramp-up (RampEndRPS 8), got 4"},
		{"start 0", func(s *Scenario) { s.RampStartRPS = 0 }, "Ramp.Start must be a finite rate > 0"},
		{"end below start", func(s *Scenario) { s.RampEndRPS = 0.5 }, "Ramp.End must be a rate >= Ramp.Start (1)"},
		{"start without end", func(s *Scenario) { s.RampEndRPS = 0 }, "RampStartRPS and RampStrategy need RampEndRPS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := RampUp(SeedRandom256(), servingbench.RampLinear, 1, 8)
			tc.edit(&sc)
			assert.ErrorContains(t, sc.Validate(), tc.want)
		})
	}
	sc := RampUp(SeedRandom256(), servingbench.RampLinear, 1, 8)
	sc.RequestRate = math.Inf(1)
	assert.NoError(t, sc.Validate(), "an infinite RequestRate is vLLM's default, allowed with a ramp")
}
