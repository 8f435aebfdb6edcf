package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
	"github.com/actord/actord/internal/kafkatest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	kafkatest.RemoveBinaries()
	os.Exit(code)
}

// actordBinary builds cmd/actord once per test binary.
var actordBinary = kafkatest.ActordBinary

// lockedBuffer is a writer a test may read while it is written.
type lockedBuffer = kafkatest.LockedBuffer

// deadlineCtx bounds every wait of one test.
func deadlineCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startTestBroker runs an embedded broker on a free port for one test and
// returns its address.
func startTestBroker(t *testing.T) string {
	t.Helper()
	return actortest.Broker(t).Addr()
}

// cliResult is what one in-process `actord` invocation produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs actord in-process with args and stdin, and fails the test
// if it does not return before ctx ends.
func runCLI(t *testing.T, ctx context.Context, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(stdin), &stdout, &stderr) }()
	select {
	case code := <-done:
		return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	case <-ctx.Done():
		t.Fatalf("actord %s: still running at the deadline; stdout %q, stderr %q",
			strings.Join(args, " "), stdout.String(), stderr.String())
		return cliResult{}
	}
}

// mustRunCLI is runCLI that fails the test unless actord exits 0.
func mustRunCLI(t *testing.T, ctx context.Context, stdin string, args ...string) string {
	t.Helper()
	res := runCLI(t, ctx, stdin, args...)
	if res.code != 0 {
		t.Fatalf("actord %s: exit %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// assertOneLineError checks the contract for a failing command: non-zero
// exit, exactly one line on stderr containing each of want, no Go panic or
// stack trace.
func assertOneLineError(t *testing.T, code int, stderr string, want ...string) {
	t.Helper()
	if code == 0 {
		t.Errorf("exit 0, want non-zero")
	}
	if n := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); n != 0 || stderr == "" {
		t.Errorf("stderr %q: want exactly one line", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q: want it to contain %q", stderr, w)
		}
	}
	for _, bad := range []string{"goroutine ", "panic"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr %q contains %q", stderr, bad)
		}
	}
}
