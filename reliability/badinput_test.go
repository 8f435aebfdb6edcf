package reliability

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

// badInput is one mistake: the command line, its environment and stdin,
// and what its one line of stderr must name.
type badInput struct {
	name  string
	args  []string
	env   []string
	stdin string
	want  []string
}

// TestBadInputOneLine: the mistakes users make at the command line, run
// against the real binary, each end with a non-zero exit and one clear
// line on stderr naming what is wrong: no stack trace, no retry storm.
// The cli package's own tests cover the rest (a --header without '=', a
// negative -n, an unknown -o, an unreachable broker, `actord broker` on a
// busy port or under a regular file, a record over the broker's
// message.max.bytes); these are the ones they do not.
func TestBadInputOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := actortest.Broker(t)

	// A port someone else holds.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// log.level warn: `actord start` logs its progress at info, and these
	// cases are about the one line that says why it stopped.
	okConfig := write("ok.yaml", "log: {level: warn}\nhttp: {listen: ''}\nconsumers:\n  - {topic: t, group: g, handler: {log: {}}}\n")
	notYAML := write("not-yaml.yaml", "kafka: [\n")
	regularFile := write("regular-file", "x")

	// A data dir whose state file is not what the broker wrote.
	corrupt := filepath.Join(dir, "corrupt-data")
	cb, err := broker.Start(broker.Config{DataDir: corrupt, SeedTopics: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	cb.Close()
	if err := os.WriteFile(filepath.Join(corrupt, "topics.json"), []byte("garbage{"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []badInput{
		{name: "missing config file", args: []string{"start", "--config", filepath.Join(dir, "nope.yaml")},
			want: []string{"nope.yaml", "does not exist"}},
		{name: "config file not YAML", args: []string{"start", "--config", notYAML},
			want: []string{"not-yaml.yaml", "line 1"}},
		{name: "data dir is a regular file", args: []string{"broker", "--listen", "127.0.0.1:0", "--data-dir", regularFile},
			want: []string{regularFile, "not a directory"}},
		{name: "data dir state unreadable", args: []string{"broker", "--listen", "127.0.0.1:0", "--data-dir", corrupt},
			want: []string{"topics.json"}},
		{name: "embedded broker port in use", args: []string{"start", "--embedded", "--config", okConfig},
			env: []string{"ACTORD_BROKER_LISTEN=" + busyAddr}, want: []string{busyAddr, "in use"}},
		{name: "metrics port in use", args: []string{"start", "--config", okConfig, "--brokers", b.Addr()},
			env: []string{"ACTORD_HTTP_LISTEN=" + busyAddr}, want: []string{"metrics", busyAddr, "in use"}},
		{name: "unknown flag", args: []string{"start", "--nope"}, want: []string{"--nope", "actord start --help"}},
		{name: "flag value not a number", args: []string{"topics", "create", "x", "--partitions", "abc"},
			want: []string{"--partitions", `"abc"`}},
		{name: "flag without its value", args: []string{"produce", "x", "--header"}, want: []string{"--header"}},
		{name: "unknown command", args: []string{"frobnicate"}, want: []string{`"frobnicate"`}},
		{name: "line over 64 MiB", args: []string{"produce", "big", "--brokers", b.Addr()},
			stdin: strings.Repeat("x", 64<<20+1) + "\n", want: []string{"line 1", "longer than 64 MiB"}},
	}
	if os.Geteuid() != 0 {
		// Permissions bind everyone but root; the corrupt state above is
		// the unreadable data dir root can meet.
		locked := filepath.Join(dir, "locked")
		if err := os.Mkdir(locked, 0o000); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, badInput{name: "data dir without permission", args: []string{"broker", "--listen", "127.0.0.1:0", "--data-dir", locked},
			want: []string{locked, "permission denied"}})
	}
	bin := actordBinary(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			cmd.Dir = dir // no ./actord.yaml here
			cmd.Env = append(os.Environ(), tt.env...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
				t.Fatalf("actord %s: %v, want a non-zero exit; stderr %q", strings.Join(tt.args, " "), err, stderr.String())
			}
			line := stderr.String()
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Errorf("stderr %q: want exactly one line", line)
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q: want it to name %q", line, w)
				}
			}
			for _, bad := range []string{"panic", "goroutine "} {
				if strings.Contains(line, bad) {
					t.Errorf("stderr %q contains %q", line, bad)
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
