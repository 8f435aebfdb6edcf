//go:build linux

package handler_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// alive reports whether pid is a live process (a zombie, killed and not yet
// reaped by whoever adopted it, counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, so read after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// readPid waits for the script to write its background child's pid to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, 10*time.Second, "the script to start its child", func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) }) // never leave one behind, even when the test fails
	return pid
}

// An attempt whose script starts a child and waits for it: when the
// attempt's context ends (handler_timeout; the drain deadline cancels it the
// same way), the child ends with it instead of living on as an orphan.
func TestExecEndsTheAttemptsProcessGroup(t *testing.T) {
	for _, c := range []struct {
		name   string
		script string
		within time.Duration
	}{
		// The child ends on SIGTERM.
		{"child ends on SIGTERM", "sleep 1000 &\necho $! > \"$PIDFILE\"\nwait\n", 2 * time.Second},
		// Script and child ignore SIGTERM: SIGKILL after the 2s grace.
		{"child ignores SIGTERM", "trap '' TERM\nsleep 1000 &\necho $! > \"$PIDFILE\"\nwait\nwait\n", 5 * time.Second},
		// A pipeline in the background ($! is its last process).
		{"pipeline", "sleep 1000 | cat &\necho $! > \"$PIDFILE\"\nwait\n", 2 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "child.pid")
			t.Setenv("PIDFILE", pidfile)
			script := writeScript(t, dir, "spawn.sh", c.script)
			fn := newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- fn(ctx, message()) }()
			pid := readPid(t, pidfile)
			select {
			case err := <-done:
				if err == nil {
					t.Error("timed-out attempt succeeded")
				}
			case <-time.After(500*time.Millisecond + c.within + 5*time.Second):
				t.Fatal("attempt still running long after its context ended")
			}
			gone := time.Now().Add(c.within)
			for alive(pid) {
				if time.Now().After(gone) {
					t.Fatalf("the script's child %d is still running %v after the attempt ended", pid, c.within)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// A script that exits 0 leaving a child running (in the background, its
// output pipes still open): the attempt succeeds at once, not after the
// pipes' 5 s wait, and the child is ended with it, whatever the script
// printed reaching the output.
func TestExecEndsWhatASuccessfulScriptLeftBehind(t *testing.T) {
	for _, c := range []struct {
		name   string
		script string
	}{
		{"child holds stdout and stderr", "sleep 1000 &\necho $! > \"$PIDFILE\"\necho handled\n"},
		{"child ignores SIGTERM", "(trap '' TERM; sleep 1000) &\necho $! > \"$PIDFILE\"\necho handled\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "child.pid")
			t.Setenv("PIDFILE", pidfile)
			script := writeScript(t, dir, "leave.sh", c.script)
			var out bytes.Buffer
			fn, err := handler.New(config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, nil, &out)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := fn(context.Background(), message()); err != nil {
				t.Fatalf("attempt failed: %v", err)
			}
			took := time.Since(start)
			pid := readPid(t, pidfile)
			// The attempt returns once the group was sent SIGKILL; the
			// kernel ends the child a moment later (kill(2) does not wait
			// for the death), so give it a second, not the 2 s grace again.
			gone := time.Now().Add(time.Second)
			for alive(pid) {
				if time.Now().After(gone) {
					t.Errorf("the script's child %d still runs a second after the attempt returned", pid)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			// SIGTERM ends the first child at once; the second takes the
			// 2 s grace and SIGKILL. Either is under the 5 s pipe wait.
			if took > 4*time.Second {
				t.Errorf("attempt took %v", took)
			}
			if !strings.Contains(out.String(), "handled") {
				t.Errorf("output %q, want the script's line", out.String())
			}
		})
	}
}
