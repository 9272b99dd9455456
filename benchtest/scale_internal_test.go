package benchtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios"
)

func TestScaledBy(t *testing.T) {
	seed := scenarios.SeedRandom256()
	got, err := scaledBy(seed, scenarios.Scale{NumPrompts: 16, InputLen: 64, OutputLen: 32}, nil)
	require.NoError(t, err)
	assert.Equal(t, 16, got.NumPrompts)
	assert.Equal(t, scenarios.Random{InputLen: 64, OutputLen: 32}, got.Dataset)
	assert.Contains(t, got.String(), "dataset=random/in=64/out=32/n=16")

	got, err = scaledBy(seed, scenarios.Scale{}, nil)
	require.NoError(t, err)
	assert.Equal(t, seed, got, "the zero scale keeps the scenario")

	_, err = scaledBy(scenarios.ShareGPTChat("sharegpt.json"), scenarios.Scale{InputLen: 64}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "benchtest: SERVINGBENCH_INPUT_LEN=64 cannot resize scenario scenario=sharegpt/")
	assert.Contains(t, err.Error(), "Scale.InputLen: dataset sharegpt has no input length")
}
