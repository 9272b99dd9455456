package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servingbench/servingbench/scenarios"
)

// TestDatasetNames: --dataset-name takes our names and vllm bench serve's
// spelling of prefix_repetition (the command line in the PrefixCaching
// scenario's doc).
func TestDatasetNames(t *testing.T) {
	for _, name := range []string{"prefix-repetition", "prefix_repetition"} {
		o, err := parseOptions([]string{"--dataset-name", name})
		require.NoError(t, err, "parseOptions(--dataset-name %s)", name)
		d, err := o.dataset()
		require.NoError(t, err, "dataset() of --dataset-name %s", name)
		assert.IsType(t, scenarios.PrefixRepetition{}, d, "dataset of --dataset-name %s", name)
	}
	o, err := parseOptions([]string{"--dataset-name", "prefix repetition"})
	require.NoError(t, err)
	_, err = o.dataset()
	assert.ErrorContains(t, err, `flag --dataset-name: unknown dataset "prefix repetition"`)
}
