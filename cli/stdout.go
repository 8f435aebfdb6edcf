package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
)

// MainBinary is Main for the actord binary. For `actord start` (and
// `actord consumer start`) a closed stdout (the reader of a pipe gone, as
// with `actord start | head -n 5`) is an error, not a silent death by
// SIGPIPE: SIGPIPE is caught, so a write to stdout fails with EPIPE; the
// first such write is reported once on stderr and stops the runtime as a
// signal does (drain, commit what was written: the record whose line could
// not be written stays uncommitted), and the exit code is 1. Other commands
// keep the default, dying quietly by SIGPIPE as Unix filters do.
//
// SIGPIPE is caught (signal.Notify), not ignored: an ignored signal would
// stay ignored in the exec handler's commands.
func MainBinary(args []string) int {
	if !isStart(args) {
		return Main(args)
	}
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(StartGCPercent)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &stdoutGuard{w: os.Stdout, stderr: os.Stderr, stop: cancel}
	code := run(ctx, args, os.Stdin, out, os.Stderr)
	if out.isBroken() && code == 0 {
		code = 1
	}
	return code
}

// StartGCPercent is the garbage collector's target (GOGC) of `actord
// start` when the environment sets none. A consumer's live heap is small
// (the fetched records in flight, some megabytes) while it allocates a
// record's worth of garbage per record, so Go's default of 100 collects
// every few megabytes: a quarter of the forward handler's CPU went to the
// collector. At 400 the heap may grow to five times what is live (tens of
// megabytes for a busy partition set) and the collector costs a fifth of
// that. GOGC in the environment wins, as for any Go program.
const StartGCPercent = 400

// isStart reports whether args run `actord start`.
func isStart(args []string) bool {
	a := &app{flagKeys: map[string]any{}}
	cmd, _, err := a.rootCmd().Find(args)
	return err == nil && cmd.Name() == "start"
}

// stdoutGuard is stdout that stops the command on the first write the
// reader is no longer there for.
type stdoutGuard struct {
	w      io.Writer
	stderr io.Writer
	stop   func()

	once   sync.Once
	mu     sync.Mutex
	broken bool
}

func (g *stdoutGuard) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		g.once.Do(func() {
			g.mu.Lock()
			g.broken = true
			g.mu.Unlock()
			fmt.Fprintf(g.stderr, "actord: stdout was closed (%v): stopping; the records written so far are committed, the rest stay uncommitted\n", err)
			g.stop()
		})
		return n, closedStdout{err}
	}
	return n, err
}

func (g *stdoutGuard) isBroken() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.broken
}

// closedStdout is a write error on a closed stdout, reported once by
// stdoutGuard already (the log handler does not report it again).
type closedStdout struct{ err error }

func (e closedStdout) Error() string  { return "stdout closed: " + e.err.Error() }
func (e closedStdout) Unwrap() error  { return e.err }
func (e closedStdout) Reported() bool { return true }
