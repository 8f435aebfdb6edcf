package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests for issue 21, finding 5, through the command line.

// unreachableConfig is a config file whose broker cannot be reached, so
// that a command that gets as far as connecting fails within 2s.
func writeFindingsConfig(t *testing.T, consumers string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "actord.yaml")
	body := "kafka: {bootstrap_servers: \"127.0.0.1:1\", request_timeout: 2s}\nhttp: {listen: \"\"}\nconsumers:\n" + consumers
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartRefusesExecCommandThatCannotRun(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "handle.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, cmd, why string }{
		{"missing", "/nonexistent/handler", `"/nonexistent/handler": no such file or directory`},
		{"not executable", notExec, `"` + notExec + `": not executable (permission denied)`},
		{"not in PATH", "actord-test-no-such-command", `"actord-test-no-such-command": executable file not found in $PATH`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeFindingsConfig(t, `  - {topic: ok, group: fine, handler: {log: {}}}
  - {topic: orders, group: processor, handler: {exec: ["`+c.cmd+`", "arg"]}}
`)
			res := runCLI(t, deadlineCtx(t, 10*time.Second), "", "start", "--config", cfg)
			assertOneLineError(t, res.code, res.stderr, cfg+": consumers[1].handler.exec: "+c.why)
		})
	}
	// A consumer that --group leaves out is not checked: this start gets
	// as far as the (unreachable) broker.
	cfg := writeFindingsConfig(t, `  - {topic: ok, group: fine, handler: {log: {}}}
  - {topic: orders, group: processor, handler: {exec: ["/nonexistent/handler"]}}
`)
	res := runCLI(t, deadlineCtx(t, 10*time.Second), "", "start", "--config", cfg, "--group", "fine")
	if res.code == 0 || strings.Contains(res.stderr, "handler.exec") || !strings.Contains(res.stderr, "cannot reach Kafka") {
		t.Errorf("start --group fine: exit %d, stderr %q: want the unreachable broker, not the other group's command", res.code, res.stderr)
	}
	// Other commands do not run handlers and do not check them.
	res = runCLI(t, deadlineCtx(t, 10*time.Second), "", "topics", "list", "--config", cfg)
	if strings.Contains(res.stderr, "handler.exec") {
		t.Errorf("topics list: stderr %q names the exec handler", res.stderr)
	}
}

func TestConfigFlagRefusesFIFOAndDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "actord.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{fifo, "actord: config file " + fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", "actord: config file /dev/zero: not a regular file (a character device)"},
		{dir, "actord: config file " + dir + ": is a directory"},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			// runCLI fails the test if actord is still running at the
			// deadline (a FIFO without a writer blocked it forever).
			res := runCLI(t, deadlineCtx(t, 10*time.Second), "", "start", "--config", c.path)
			assertOneLineError(t, res.code, res.stderr, c.want)
		})
	}
}

func TestLongBrokersValueIsCut(t *testing.T) {
	long := strings.Repeat("a", 10000)
	// Not host:port: the config problem quotes it cut.
	res := runCLI(t, deadlineCtx(t, 10*time.Second), "", "topics", "list", "--config", writeFindingsConfig(t, ""), "--brokers", long)
	assertOneLineError(t, res.code, res.stderr, `"`+long[:200]+`"... (10000 characters) is not host:port`)
	if len(res.stderr) > 400 {
		t.Errorf("stderr is %d bytes, want the value cut", len(res.stderr))
	}
	// host:port but no such host: the unreachable line cuts the list and
	// the host name.
	res = runCLI(t, deadlineCtx(t, 20*time.Second), "", "topics", "list", "--config", writeFindingsConfig(t, ""), "--brokers", long+":9092")
	assertOneLineError(t, res.code, res.stderr, "cannot reach Kafka at "+long[:200]+"... (10005 characters): ", "unknown host "+long[:200]+"... (10000 characters)")
	if len(res.stderr) > 800 {
		t.Errorf("stderr is %d bytes, want the value cut", len(res.stderr))
	}
}
