package handler

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the command if actord itself dies
// (a forced exit on a second signal, a crash): its record was not
// committed and will be handled again, so the orphan must not go on.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
