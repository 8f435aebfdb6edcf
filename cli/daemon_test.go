package cli

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// daemon is an `actord start` (or other long-running command) process of
// a test: its stdout and stderr in out, killed at the test's end if it is
// still running.
type daemon struct {
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan error
}

// startDaemon runs the actord binary with args.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(actordBinary(t), args...), done: make(chan error, 1)}
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	return d
}

// stop sends SIGTERM and requires a clean exit (drain, commit, leave)
// within 30 s.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("actord exited with %v; output:\n%s", err, d.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("actord did not stop on SIGTERM; output:\n%s", d.out.String())
	}
}
