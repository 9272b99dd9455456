package llamacpp

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the server when the test binary
// dies, so that a crashed or killed test leaves no server behind.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
