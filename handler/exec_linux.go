package handler

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// groupGrace is how long the processes of an attempt have, after SIGTERM,
// to end before the whole group is sent SIGKILL.
const groupGrace = 2 * time.Second

// dieWithParent runs the command in a process group of its own, so that
// what it starts (a pipeline, `sh -c 'sleep 1000'`, a script calling
// another program) ends with the attempt:
//
//   - when the attempt's context ends (handler_timeout, the drain deadline
//     on shutdown), the whole group is sent SIGTERM, then SIGKILL if any of
//     it is still there after groupGrace; the attempt returns only once the
//     group is gone or has been sent SIGKILL, so no child outlives it and a
//     shutdown waits at most groupGrace longer than the drain deadline;
//   - if actord itself dies (a forced exit on a second signal, a crash), the
//     kernel kills the command (its record was not committed and will be
//     handled again, so it must not go on). That parent-death signal reaches
//     the command only, not the children it started.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return endGroup(cmd.Process.Pid, groupGrace) }
}

// endGroup sends SIGTERM to the process group pgid, waits up to grace for
// it to be gone, then sends it SIGKILL. It returns os.ErrProcessDone when
// the group was gone already. The group's ID cannot be reused while any
// process of it remains, so signalling it until it is gone never reaches
// another process.
func endGroup(pgid int, grace time.Duration) error {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// endLeftovers ends what an exited command left in its process group
// (SIGTERM, SIGKILL after groupGrace). The group ID is not reused while
// any process of it remains, so this never reaches another process.
func endLeftovers(cmd *exec.Cmd) {
	if cmd.Process != nil {
		endGroup(cmd.Process.Pid, groupGrace)
	}
}
