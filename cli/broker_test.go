package cli

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// brokerProcess is `actord broker` running as a real process.
type brokerProcess struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has exited
	err    error         // its exit status, set before exited closes
}

// startBrokerProcess starts the built binary with args and waits for
// "broker listening on ADDR" on its stdout.
func startBrokerProcess(t *testing.T, ctx context.Context, args ...string) *brokerProcess {
	t.Helper()
	cmd := exec.Command(actordBinary(t), append([]string{"broker"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &brokerProcess{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start actord broker: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.err = cmd.Wait() // after stdout is drained, as Wait closes the pipe
		close(p.exited)
	}()
	select {
	case l, ok := <-lines:
		addr, found := strings.CutPrefix(l, "broker listening on ")
		if !ok || !found || addr == "" {
			t.Fatalf("actord broker printed %q (stderr %q), want \"broker listening on ADDR\"", l, p.stderr.String())
		}
		p.addr = addr
	case <-ctx.Done():
		t.Fatalf("actord broker did not print its address before the deadline; stderr %q", p.stderr.String())
	}
	go func() {
		for range lines { // nothing more is expected, but never block the process
		}
	}()
	return p
}

// stop sends sig and waits for the exit status within the deadline.
func (p *brokerProcess) stop(t *testing.T, ctx context.Context, sig os.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal actord broker: %v", err)
	}
	select {
	case <-p.exited:
		return p.err
	case <-ctx.Done():
		t.Fatalf("actord broker still running after %v", sig)
		return nil
	}
}

func TestBrokerCommandServesAndStopsOnSignal(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx := deadlineCtx(t, 60*time.Second)
			dir := filepath.Join(t.TempDir(), "data")
			p := startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0", "--data-dir", dir)
			if strings.HasSuffix(p.addr, ":0") {
				t.Fatalf("printed address %s, want the port chosen", p.addr)
			}
			mustRunCLI(t, ctx, "one\ntwo\n", "produce", "orders", "--brokers", p.addr)
			if err := p.stop(t, ctx, sig); err != nil {
				t.Fatalf("actord broker after %v: %v (stderr %q), want exit 0", sig, err, p.stderr.String())
			}

			// The data dir kept the records across the restart.
			p = startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0", "--data-dir", dir)
			out := mustRunCLI(t, ctx, "", "consume", "orders", "--brokers", p.addr, "--from-beginning", "-n", "2")
			if out != "one\ntwo\n" {
				t.Fatalf("after restart consumed %q, want one two", out)
			}
			if err := p.stop(t, ctx, sig); err != nil {
				t.Fatalf("actord broker after %v: %v, want exit 0", sig, err)
			}
		})
	}
}

func TestBrokerCommandPortInUse(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	first := startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0")

	cmd := exec.CommandContext(ctx, actordBinary(t), "broker", "--listen", first.addr)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("second actord broker on %s: %v (stdout %q), want a non-zero exit", first.addr, err, stdout.String())
	}
	assertOneLineError(t, exit.ExitCode(), stderr.String(), first.addr)
	if stdout.String() != "" {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	if err := first.stop(t, ctx, syscall.SIGTERM); err != nil {
		t.Fatalf("first broker: %v, want exit 0", err)
	}
}

func TestBrokerCommandUnusableDataDir(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	file := filepath.Join(t.TempDir(), "regular-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	res := runCLI(t, ctx, "", "broker", "--listen", "127.0.0.1:0", "--data-dir", dir)
	assertOneLineError(t, res.code, res.stderr, dir)
	if res.stdout != "" {
		t.Errorf("stdout %q, want nothing", res.stdout)
	}
}
