//go:build !linux

package llamacpp

import "os/exec"

// killWithParent does nothing here: only Linux has a parent-death signal
// (and only Linux runs the sid build).
func killWithParent(*exec.Cmd) {}
