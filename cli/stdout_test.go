package cli

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// `actord start` with the log handler on stdout piped into a reader that
// goes after 5 lines (`| head -n 5`): actord does not die by SIGPIPE; it
// says once on stderr that stdout was closed, drains, commits what it
// wrote and exits 1.
func TestStartStopsCleanlyWhenStdoutIsClosed(t *testing.T) {
	addr := startTestBroker(t)
	b := actortest.At(addr)
	actortest.CreateTopic(t, b, "lines", 1)
	// More than a pipe buffer holds (64 KiB), so that writes after the
	// reader is gone do fail.
	const n = 2000
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = actortest.Value("record " + strconv.Itoa(i) + " " + strings.Repeat("x", 100))
	}
	actortest.Produce(t, b, "lines", recs...)

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka:
  bootstrap_servers: `+addr+`
log:
  level: error
http:
  listen: ""
runtime:
  commit_interval: 100ms
  drain_timeout: 1s
consumers:
  - topic: lines
    group: printer
    handler:
      log: {}
`), 0o644)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(actordBinary(t), "start", "--config", cfgFile)
	var stderr lockedBuffer
	cmd.Stdout = w
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	sc := bufio.NewScanner(r)
	for i := 0; i < 5; i++ {
		if !sc.Scan() {
			t.Fatalf("stdout ended after %d lines: %v; stderr:\n%s", i, sc.Err(), stderr.String())
		}
	}
	r.Close()

	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("actord still running 30s after its stdout was closed; stderr:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("actord exited with %v after its stdout was closed, want exit code 1; stderr:\n%s", err, stderr.String())
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("actord died by %v, want exit code 1; stderr:\n%s", ws.Signal(), stderr.String())
	}
	if code := ee.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "stdout was closed") {
		t.Errorf("stderr, want one line saying stdout was closed:\n%s", stderr.String())
	}
	c := actortest.Committed(t, b, "printer", "lines")[0]
	if c < 5 || c >= n {
		t.Errorf("committed %d, want at least the 5 lines read and not all %d records", c, n)
	}
	t.Logf("committed %d of %d; stderr: %s", c, n, stderr.String())
}
