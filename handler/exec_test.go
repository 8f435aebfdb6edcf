package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/supervisor"
)

func TestExecPassesRecordOnStdinAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "handle.sh", `out='`+dir+`'
cat > "$out/stdin"
printf '%s' "$ACTORD_TOPIC" > "$out/ACTORD_TOPIC"
printf '%s' "$ACTORD_PARTITION" > "$out/ACTORD_PARTITION"
printf '%s' "$ACTORD_OFFSET" > "$out/ACTORD_OFFSET"
printf '%s' "$ACTORD_KEY" > "$out/ACTORD_KEY"
printf '%s' "$ACTORD_ATTEMPT" > "$out/ACTORD_ATTEMPT"
printf '%s' "$ACTORD_HEADERS" > "$out/ACTORD_HEADERS"
printf '%s' "$INHERITED" > "$out/INHERITED"
printf '%s' "$1" > "$out/arg"
echo "handled $ACTORD_OFFSET"
`)
	t.Setenv("INHERITED", "from-parent")
	var stdout bytes.Buffer
	fn, err := handler.New(config.Handler{Exec: &config.ExecHandler{Command: []string{script, "an arg"}}}, nil, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	m := message()
	m.Attempt = 3
	m.Headers = append(m.Headers,
		kgo.RecordHeader{Key: "dup", Value: []byte("1")},
		kgo.RecordHeader{Key: "dup", Value: []byte("2")},
		kgo.RecordHeader{Key: "bin", Value: []byte{0xff, 0x00}},
		kgo.RecordHeader{Key: "none"},
	)
	if err := fn(context.Background(), m); err != nil {
		t.Fatalf("exit 0 returned %v", err)
	}

	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, want := range map[string]string{
		"stdin":            `{"id":1}`,
		"ACTORD_TOPIC":     "orders",
		"ACTORD_PARTITION": "2",
		"ACTORD_OFFSET":    "42",
		"ACTORD_KEY":       "customer-7",
		"ACTORD_ATTEMPT":   "3",
		"INHERITED":        "from-parent",
		"arg":              "an arg",
	} {
		if got := read(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var headers map[string]any
	if err := json.Unmarshal([]byte(read("ACTORD_HEADERS")), &headers); err != nil {
		t.Fatalf("ACTORD_HEADERS is not a JSON object: %v", err)
	}
	wantHeaders := map[string]any{
		"trace": "abc", "source": "cli", "dup": "2",
		"bin": map[string]any{"base64": "/wA="}, "none": nil,
	}
	if !reflect.DeepEqual(headers, wantHeaders) {
		t.Errorf("ACTORD_HEADERS = %v, want %v", headers, wantHeaders)
	}
	if got := stdout.String(); got != "handled 42\n" {
		t.Errorf("command stdout reached the writer as %q", got)
	}
}

func TestExecFirstAttemptAndEmptyKey(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "handle.sh", `printf '%s|%s|%s' "$ACTORD_ATTEMPT" "$ACTORD_KEY" "$ACTORD_HEADERS" > '`+dir+`/env'`)
	fn := newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, nil)
	m := message()
	m.Attempt, m.Key, m.Headers = 1, nil, nil
	if err := fn(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "1||{}"; got != want {
		t.Errorf("ACTORD_ATTEMPT|ACTORD_KEY|ACTORD_HEADERS = %q, want %q", got, want)
	}
}

func TestExecExitCodes(t *testing.T) {
	dir := t.TempDir()
	marked := reflect.TypeOf(actors.Retry(errors.New("x")))
	long := strings.Repeat("x", 300)
	cases := []struct {
		name      string
		body      string
		want      supervisor.Directive
		markRetry bool
		// unavailable: marked the downstream's failure (the circuit opens).
		unavailable bool
		wantInErr   []string
		maxErrSize  int
	}{
		{name: "exit 0", body: "echo fine >&2\nexit 0", want: supervisor.Done},
		{name: "exit 75", body: "echo 'busy, later' >&2\nexit 75", want: supervisor.Retry, markRetry: true,
			wantInErr: []string{"exit code 75", "busy, later"}},
		{name: "exit 69", body: "echo 'queue down' >&2\nexit 69", want: supervisor.Retry, unavailable: true,
			wantInErr: []string{"exit code 69 (unavailable): queue down"}},
		{name: "exit 1", body: "echo first >&2\necho '  database is down  ' >&2\nexit 1", want: supervisor.Retry,
			wantInErr: []string{"exit code 1: database is down", "handle-exit-1.sh"}},
		{name: "exit 2 quiet", body: "exit 2", want: supervisor.Retry, wantInErr: []string{"exit code 2"}},
		{name: "long stderr line capped", body: "echo " + long + " >&2\nexit 3", want: supervisor.Retry,
			wantInErr: []string{"exit code 3: xxxx"}, maxErrSize: 400},
		{name: "killed by signal", body: "kill -KILL $$", want: supervisor.Retry, wantInErr: []string{"signal: killed"}},
	}
	fns := make([]handler.Func, len(cases))
	for i, c := range cases {
		script := writeScript(t, dir, "handle-"+strings.ReplaceAll(c.name, " ", "-")+".sh", c.body+"\n")
		fns[i] = newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, nil)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fns[i](context.Background(), message())
			if got := supervisor.Decide(err); got != c.want {
				t.Fatalf("Decide(%v) = %v, want %v", err, got, c.want)
			}
			if err == nil {
				return
			}
			if isMarked := reflect.TypeOf(err) == marked; isMarked != c.markRetry {
				t.Errorf("error %T marked with actors.Retry: %v, want %v", err, isMarked, c.markRetry)
			}
			if _, got := supervisor.IsUnavailable(err); got != c.unavailable {
				t.Errorf("error %v marked unavailable: %v, want %v", err, got, c.unavailable)
			}
			for _, s := range c.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if c.maxErrSize > 0 && len(err.Error()) > c.maxErrSize {
				t.Errorf("error is %d bytes long, want at most %d", len(err.Error()), c.maxErrSize)
			}
		})
	}
}

func TestExecMissingCommand(t *testing.T) {
	for _, cmd := range []string{"actord-test-no-such-command", filepath.Join(t.TempDir(), "missing.sh")} {
		fn := newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{cmd}}}, nil)
		err := fn(context.Background(), message())
		if err == nil {
			t.Fatalf("%s: missing command succeeded", cmd)
		}
		if !strings.Contains(err.Error(), cmd) {
			t.Errorf("error %q does not name the command %q", err, cmd)
		}
		if d := supervisor.Decide(err); d != supervisor.Retry {
			t.Errorf("missing command is %v, want a failure (retry)", d)
		}
	}
}

func TestExecKilledWhenContextCancelled(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	script := writeScript(t, dir, "slow.sh", "touch '"+started+"'\nexec sleep 60\n")
	fn := newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	begun := time.Now()
	go func() { done <- fn(ctx, message()) }()
	eventually(t, 10*time.Second, "the command to start", func() bool {
		_, err := os.Stat(started)
		return err == nil
	})
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled command returned %v, want context.Canceled", err)
		}
		if supervisor.Decide(err) != supervisor.Retry {
			t.Errorf("cancelled attempt is %v, want retry", supervisor.Decide(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("command still running %v after cancel", time.Since(begun))
	}
}

func TestExecRejectsKeyWithNUL(t *testing.T) {
	fn := newHandler(t, config.Handler{Exec: &config.ExecHandler{Command: []string{"true"}}}, nil)
	m := message()
	m.Key = []byte("a\x00b")
	if err := fn(context.Background(), m); supervisor.Decide(err) != supervisor.Permanent {
		t.Fatalf("key with NUL: %v (%v), want permanent", err, supervisor.Decide(err))
	}
}
