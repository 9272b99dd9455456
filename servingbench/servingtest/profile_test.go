package servingtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfile(t *testing.T) {
	for name, want := range map[string]Model{"fp16": Sim7BFP16(), "w8a8": Sim7BW8A8(), "zero": ZeroCost()} {
		m, err := Profile(name)
		require.NoError(t, err, "Profile(%q)", name)
		assert.Equal(t, want.Name, m.Name, "Profile(%q).Name", name)
	}
	_, err := Profile("h100")
	assert.ErrorContains(t, err, `unknown simulated profile "h100"`)
}
