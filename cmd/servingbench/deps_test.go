package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoTestingDeps: the binary links neither the testing package nor
// testify (issue 9): the gate lives in benchtest/gate, which imports
// neither, and benchtest's testing.B glue stays out of the CLI.
func TestNoTestingDeps(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH:", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").Output()
	require.NoError(t, err, "go list -deps .")
	for _, pkg := range strings.Fields(string(out)) {
		assert.False(t, pkg == "testing" || strings.Contains(pkg, "testify"), "cmd/servingbench depends on %s", pkg)
	}
	out, err = exec.Command(goCmd, "list", "-deps", "../../benchtest/gate").Output()
	require.NoError(t, err, "go list -deps ./benchtest/gate")
	for _, pkg := range strings.Fields(string(out)) {
		assert.False(t, pkg == "testing" || strings.Contains(pkg, "testify"), "benchtest/gate depends on %s", pkg)
	}
}
