package k8s

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoKubernetesDeps: the Kubernetes API modules are this package's test
// imports only: neither the servingbench binary nor this package's own
// build links them.
func TestNoKubernetesDeps(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH:", err)
	}
	for _, pkg := range []string{"../../cmd/servingbench", "."} {
		out, err := exec.Command(goCmd, "list", "-deps", pkg).Output()
		require.NoError(t, err, "go list -deps %s", pkg)
		deps := strings.Fields(string(out))
		require.NotEmpty(t, deps, "go list -deps %s", pkg)
		for _, dep := range deps {
			assert.False(t, strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/"),
				"%s depends on %s", pkg, dep)
		}
	}
}
