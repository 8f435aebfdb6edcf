// Package handler builds actord's built-in handler kinds, the handlers that
// `actord start` runs for consumers declared in config without any Go code:
//
//   - exec: runs a command once per record (value on stdin, coordinates in
//     ACTORD_* environment variables); exit 0 is done, 75 is retry, any
//     other exit a failure. In stream mode (NewStream) one long-running
//     command per handler actor reads a JSON record a line and answers a
//     line a record (exec_stream.go).
//   - http: POSTs the value to a URL with X-Actord-* headers; 2xx is done,
//     429 and 5xx are retry, any other status is permanent.
//   - log: writes one JSON object per record, in the shape of
//     `actord consume -o json`, to stdout or a file.
//   - forward: produces the record (key, value, headers) to another topic.
//
// Each kind returns its outcome in actord's one error classification:
// nil (done), actors.Retry or a plain error (retried with backoff up to the
// consumer's max retries, then dead-lettered) and actors.Permanent
// (dead-lettered at once).
package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// Func is the shape of every built-in handler: what actors.Consume[[]byte]
// takes.
type Func = func(context.Context, actors.Message[[]byte]) error

// New builds the handler of the one kind h selects. rt is the runtime the
// consumer runs on (forward produces with its client; the other kinds do
// not use it and accept nil). stdout receives the output of exec commands
// and of the log kind when it has no file; nil means os.Stdout. The
// returned func is safe for concurrent use.
//
// New fails, naming the problem, when h selects no kind or more than one,
// when the selected kind is incomplete (an empty command, a missing or
// malformed URL, a missing topic, a log file that cannot be opened), or
// when it is exec in stream mode, whose handler actors NewStream builds.
func New(h config.Handler, rt *actors.Runtime, stdout io.Writer) (Func, error) {
	if stdout == nil {
		stdout = os.Stdout
	}
	kinds := h.Kinds()
	switch len(kinds) {
	case 0:
		return nil, errors.New("handler: no kind set: want exactly one of exec, http, log, forward")
	case 1:
	default:
		return nil, fmt.Errorf("handler: %s are all set: want exactly one kind", strings.Join(kinds, ", "))
	}
	switch {
	case h.Exec.Stream():
		return nil, errors.New("handler: exec mode stream cannot run as a handler func: it keeps a child per handler actor, which NewStream builds for actors.ConsumeWith")
	case h.Exec != nil:
		return newExec(h.Exec.Command, stdout)
	case h.HTTP != nil:
		return newHTTP(*h.HTTP)
	case h.Log != nil:
		return newLog(*h.Log, stdout)
	default:
		return newForward(*h.Forward, rt)
	}
}
