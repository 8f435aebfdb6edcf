package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/actord/actord/actors"
)

const (
	// exitRetry is the exit code that asks for a retry: EX_TEMPFAIL from
	// sysexits.h, the code mail and job systems already read as "try again
	// later".
	exitRetry = 75
	// exitUnavailable says the command's downstream is unavailable, not
	// the record bad: EX_UNAVAILABLE from sysexits.h. It opens the
	// consumer's circuit (actors.Unavailable).
	exitUnavailable = 69
	// execWaitDelay bounds how long a finished or killed command may keep
	// its output pipes open (through a child it left behind) before they are
	// closed under it.
	execWaitDelay = 5 * time.Second
	// stderrTail is how much of the end of a command's stderr is kept to
	// explain a failure.
	stderrTail = 4 << 10
	// maxReason caps the stderr line quoted in an error, so that a runaway
	// line cannot bloat logs and dead-letter headers.
	maxReason = 200
)

// execHandler runs argv once per record.
type execHandler struct {
	argv   []string
	stdout io.Writer
}

func newExec(argv []string, stdout io.Writer) (Func, error) {
	h, err := buildExec(argv, stdout)
	if err != nil {
		return nil, err
	}
	return h.handle, nil
}

// buildExec checks argv names a command and builds its handler.
func buildExec(argv []string, stdout io.Writer) (*execHandler, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("handler: exec needs a command: exec: [\"./handle.sh\", \"arg\"...]")
	}
	return &execHandler{argv: append([]string(nil), argv...), stdout: lockedOut(stdout)}, nil
}

// lockedOut is stdout made safe for commands that run in parallel (key
// and unordered modes), each copying its output into it from its own
// goroutine; a file already is.
func lockedOut(stdout io.Writer) io.Writer {
	if _, ok := stdout.(*os.File); !ok {
		return &lockedWriter{w: stdout}
	}
	return stdout
}

// CheckCommand reports whether the command of an exec handler (argv[0])
// can be run, as exec.LookPath finds it: a path must name an executable
// file, a bare name must be found in $PATH. The error names the command
// and why, in one line: "/nonexistent/handler": no such file or
// directory. A command that cannot be run would fail (and dead-letter)
// every record, so `actord start` refuses it before it consumes. New does
// not check: a command that goes missing later fails its records, as
// retryable failures.
func CheckCommand(argv []string) error {
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("no command")
	}
	_, err := exec.LookPath(argv[0])
	if err == nil {
		return nil
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%q: not executable (permission denied)", argv[0])
	}
	return fmt.Errorf("%q: %v", argv[0], err)
}

func (h *execHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	name := h.argv[0]
	if bytes.IndexByte(m.Key, 0) >= 0 {
		return actors.Permanent(fmt.Errorf("exec %s: the record key holds a NUL byte, which no environment variable (ACTORD_KEY) can carry", name))
	}
	headers, err := json.Marshal(headersJSON(m.Headers))
	if err != nil {
		return actors.Permanent(fmt.Errorf("exec %s: encoding ACTORD_HEADERS: %w", name, err))
	}
	return h.run(ctx, m.Raw,
		"ACTORD_TOPIC="+m.Topic,
		"ACTORD_PARTITION="+itoa(m.Partition),
		"ACTORD_OFFSET="+itoa(m.Offset),
		"ACTORD_KEY="+string(m.Key),
		"ACTORD_ATTEMPT="+itoa(max(m.Attempt, 1)),
		"ACTORD_HEADERS="+string(headers),
	)
}

// run runs the command once with stdin and env added to actord's own
// environment, and classifies its end: exit 0 done, 75 a retry, 69 the
// downstream unavailable, anything else a failure naming the exit status
// and the last line of stderr.
func (h *execHandler) run(ctx context.Context, stdin []byte, env ...string) error {
	name := h.argv[0]
	cmd := exec.CommandContext(ctx, name, h.argv[1:]...)
	cmd.WaitDelay = execWaitDelay
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), env...)
	// With tracing on, the command continues the attempt's trace (the
	// variables OpenTelemetry's environment carrier reads).
	if tp, ts := actors.TraceContext(ctx); tp != "" {
		cmd.Env = append(cmd.Env, "TRACEPARENT="+tp)
		if ts != "" {
			cmd.Env = append(cmd.Env, "TRACESTATE="+ts)
		}
	}
	cmd.Stdin = bytes.NewReader(stdin)
	tail := &tailBuffer{max: stderrTail}
	out := &outputs{}
	var err error
	if cmd.Stdout, err = out.pipe(h.stdout); err == nil {
		cmd.Stderr, err = out.pipe(io.MultiWriter(os.Stderr, tail))
	}
	if err == nil {
		err = cmd.Start()
	}
	out.started()
	if err != nil {
		out.wait()
		return fmt.Errorf("exec %s: cannot start: %w", name, err)
	}
	err = cmd.Wait()
	// The command has exited. What it left running in its process group
	// is ended now (one left per record would pile up), and with it the
	// last holders of the output pipes, which are read to their end.
	endLeftovers(cmd)
	out.wait()
	st := cmd.ProcessState
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrWaitDelay) && st != nil && st.Success():
		// The command succeeded; only a child it left behind held on to its
		// output.
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("exec %s: stopped: %w", name, context.Cause(ctx))
	}
	reason := tail.lastLine()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("exec %s: %w", name, withReason(err.Error(), reason))
	}
	switch code := ee.ExitCode(); code {
	case exitRetry:
		return actors.Retry(fmt.Errorf("exec %s: exit code %d (retry requested)%s", name, code, suffix(reason)))
	case exitUnavailable:
		return actors.Unavailable(fmt.Errorf("exec %s: exit code %d (unavailable)%s", name, code, suffix(reason)))
	case -1:
		return fmt.Errorf("exec %s: %s%s", name, ee.String(), suffix(reason))
	default:
		return fmt.Errorf("exec %s: exit code %d%s", name, code, suffix(reason))
	}
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func withReason(msg, reason string) error { return errors.New(msg + suffix(reason)) }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// lastLine is the last non-blank line written, trimmed and capped at
// maxReason bytes (on a rune boundary).
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	s := strings.TrimSpace(string(t.buf))
	t.mu.Unlock()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outputs are a command's output pipes of its own: a writer that is not a
// file gets a pipe, copied into it by a goroutine of ours, so that Wait
// returns when the command exits rather than when the last process
// holding its output (a child it left behind) lets go.
type outputs struct {
	copies  sync.WaitGroup
	writers []*os.File // the pipes' write ends, closed once started
	readers []*os.File
}

func (o *outputs) pipe(w io.Writer) (io.Writer, error) {
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o.writers = append(o.writers, pw)
	o.readers = append(o.readers, pr)
	o.copies.Add(1)
	go func() {
		defer o.copies.Done()
		io.Copy(w, pr)
	}()
	return pw, nil
}

// started closes this process's copies of the write ends: the command has
// its own.
func (o *outputs) started() {
	for _, pw := range o.writers {
		pw.Close()
	}
}

// wait waits for the output to be copied to its end, at most
// execWaitDelay (a process that left the command's group may hold a pipe
// open): then the pipes are closed under the copies.
func (o *outputs) wait() {
	done := make(chan struct{})
	go func() { o.copies.Wait(); close(done) }()
	t := time.NewTimer(execWaitDelay)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	for _, pr := range o.readers {
		pr.Close()
	}
	<-done
}
