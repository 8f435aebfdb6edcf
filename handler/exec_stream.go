package handler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/mailbox"
)

// The stream protocol of exec's stream mode (config.ExecStream), between
// a handler actor and its one long-running child. actord writes one record
// a line on the child's stdin: a JSON object with, in this order, topic,
// partition, offset, key, headers, value, timestamp and attempt (1 on the
// first try), then traceparent and tracestate when tracing is on. Key,
// value and header values are as the log kind writes them (Record): a
// string when valid UTF-8, null when absent, {"base64": "..."} otherwise;
// the line holds no other newline. The next record is written only once
// this one is answered. The child answers with one line on stdout: the
// record's offset, a space, and one of four words, the last three
// optionally followed by a space and a reason:
//
//	17 ok                    done
//	17 retry [reason]        retried with backoff (actors.Retry)
//	17 fail <reason>         permanent: dead-lettered at once, the reason in
//	                         actord.dlq.error (actors.Permanent)
//	17 unavailable [reason]  the downstream is down: opens the circuit
//	                         (actors.Unavailable)
//
// Anything else on stdout (a line that does not parse, another offset, a
// line longer than maxStreamLine) is a failed attempt naming what came,
// and the child is killed and started again: it is out of step. Its
// stderr goes to actord's stderr, as per-record exec's does, and its tail
// explains failures.

const (
	// maxStreamLine bounds an answer line.
	maxStreamLine = 64 << 10
	// streamStopGrace is how long a child has, once its stdin is closed
	// (the handler actor stops: a drain, a revoke, actord's shutdown), to
	// exit by itself before its process group is ended (endGroup).
	streamStopGrace = 2 * time.Second
)

// NewStream builds the handler actors of an exec handler in stream mode:
// the props actors.ConsumeWith spawns, Concurrency of them per partition
// (one in partition mode). Each handler actor starts its own child, argv,
// at its first record, with ACTORD_TOPIC, ACTORD_PARTITION and
// ACTORD_EXEC_MODE=stream in its environment, and keeps it for the
// records that follow (see the stream protocol above); a child that dies
// is started again at the next record. The record in flight when a child
// dies, stops answering within the handler timeout (it is then killed with
// its process group, as per-record exec's commands are) or answers out of
// protocol is a failed attempt, retried like any other: never lost. The
// child ends with its handler actor: its stdin is closed, and its process
// group is ended if it has not exited streamStopGrace later. logger gets
// a line when a child that was idle is found dead; nil means
// slog.Default().
func NewStream(e *config.ExecHandler, logger *slog.Logger) (*actor.Props, error) {
	if e == nil || len(e.Command) == 0 || e.Command[0] == "" {
		return nil, errors.New("handler: exec needs a command: exec: {command: [\"./handle.py\"], mode: stream}")
	}
	if !e.Stream() {
		return nil, fmt.Errorf("handler: exec mode %q is not stream: build it with New", e.Mode)
	}
	if logger == nil {
		logger = slog.Default()
	}
	argv := slices.Clone(e.Command)
	// A handler actor takes one record at a time and goes idle until the
	// next: on protoactor's default dispatcher every record would start a
	// goroutine and grow its stack again (runtime.newstack was 10% of the
	// bench process's CPU in scenario 6), so each runs on a goroutine of
	// its own that waits for the next record.
	var pool *streamPool // nil: each handler actor has a child of its own
	if e.Pipeline > 1 {
		pool = newStreamPool(argv, e.Pipeline, logger)
	}
	return actor.PropsFromProducer(func() actor.Actor { return &streamActor{argv: argv, log: logger, pool: pool} }, actor.WithSpawnFunc(mailbox.Spawn)), nil
}

// streamActor is one handler actor's side of the stream protocol: it owns
// at most one child at a time.
type streamActor struct {
	argv []string
	log  *slog.Logger
	ch   *streamChild
	buf  []byte // the record line being written
	// pool, with a pipeline above 1, holds the children the partition's
	// handler actors share (exec_stream_pipe.go); shared is this actor's
	// slot, from its first record. ch and buf are then unused.
	pool   *streamPool
	shared *sharedStream
}

// streamChild is one running child and actord's ends of its pipes.
type streamChild struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	out    *bufio.Reader
	tail   *tailBuffer
	kill   context.CancelFunc // ends its process group (dieWithParent)
	exited chan struct{}      // closed once Wait has returned
	err    error              // Wait's, once exited is closed
}

// Receive implements actor.Actor.
func (a *streamActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actors.Delivery:
		if a.pool != nil {
			if a.shared == nil {
				a.shared = a.pool.attach(m.Record)
			}
			// Done comes with the answer, from the child's reader.
			a.shared.send(m.Ctx, m.Record, max(m.Attempt, 1), m.Done)
			return
		}
		m.Done(a.handle(m))
	case *actor.Stopping, *actor.Restarting:
		// A restart builds a new streamActor: this one's child must not
		// outlive it.
		if a.shared != nil {
			a.pool.detach(a.shared)
			a.shared = nil
		}
		a.stop()
	}
}

func (a *streamActor) name() string { return a.argv[0] }

func (a *streamActor) handle(d *actors.Delivery) error {
	r := d.Record
	if a.ch != nil {
		select {
		case <-a.ch.exited:
			// It died between records: no record was in it.
			a.log.Warn("exec stream child exited between records; starting it again",
				"command", a.name(), "topic", r.Topic, "partition", r.Partition, "status", exitStatus(a.ch), "stderr", a.ch.tail.lastLine())
			a.kill() // closes its pipes

		default:
		}
	}
	if a.ch == nil {
		ch, err := startStream(a.argv, r)
		if err != nil {
			return fmt.Errorf("exec stream %s: cannot start: %w", a.name(), err)
		}
		a.ch = ch
	}
	ch := a.ch
	a.buf = appendStreamRecord(a.buf[:0], d.Ctx, r, max(d.Attempt, 1))

	// The attempt's end (handler_timeout, the drain deadline) interrupts
	// the write and the read through the pipes' deadlines.
	interrupted := context.AfterFunc(d.Ctx, func() {
		now := time.Now()
		ch.stdin.SetWriteDeadline(now)
		ch.stdout.SetReadDeadline(now)
	})
	line, err := ch.exchange(a.buf)
	if !interrupted() {
		// The deadlines may be set: this child's pipes are spent.
		a.kill()
		if errors.Is(d.Ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("exec stream %s: no answer for offset %d in time: killed with its process group%s", a.name(), r.Offset, suffix(ch.tail.lastLine()))
		}
		return fmt.Errorf("exec stream %s: stopped before offset %d was answered: %w", a.name(), r.Offset, context.Cause(d.Ctx))
	}
	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		a.kill()
		return fmt.Errorf("exec stream %s: %w", a.name(), err)
	case err != nil:
		// It died, or closed its stdout: the record is unanswered.
		a.kill()
		return fmt.Errorf("exec stream %s: no answer for offset %d: %s%s", a.name(), r.Offset, exitStatus(ch), suffix(ch.tail.lastLine()))
	}
	verdict, err := parseAnswer(line, r.Offset)
	if err != nil {
		a.kill()
		return fmt.Errorf("exec stream %s: %w", a.name(), err)
	}
	return verdict.err(a.name(), r.Offset)
}

// exchange writes line and reads the answer, without its newline.
func (ch *streamChild) exchange(line []byte) ([]byte, error) {
	if _, err := ch.stdin.Write(line); err != nil {
		return nil, err
	}
	ans, err := ch.out.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &protocolError{what: fmt.Sprintf("answered a line longer than %d bytes (%q)", maxStreamLine, clip(ans))}
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(ans, "\r\n"), nil
}

// kill ends the child's process group and waits for it.
func (a *streamActor) kill() {
	if a.ch == nil {
		return
	}
	a.ch.kill()
	a.ch.wait()
	a.ch = nil
}

// stop closes the child's stdin, the sign to exit, and ends its group if
// it has not exited streamStopGrace later.
func (a *streamActor) stop() {
	if a.ch == nil {
		return
	}
	a.ch.stdin.Close()
	t := time.NewTimer(streamStopGrace)
	defer t.Stop()
	select {
	case <-a.ch.exited:
	case <-t.C:
	}
	a.kill()
}

// wait waits for Wait to return, and closes actord's ends of the pipes.
func (ch *streamChild) wait() {
	<-ch.exited
	ch.stdin.Close()
	ch.stdout.Close()
}

// startStream starts one child of argv for r's partition.
func startStream(argv []string, r *kgo.Record) (*streamChild, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	ctx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = execWaitDelay
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(),
		"ACTORD_TOPIC="+r.Topic,
		"ACTORD_PARTITION="+itoa(r.Partition),
		"ACTORD_EXEC_MODE="+config.ExecStream,
	)
	// The pipes are *os.File: the child gets them as they are, and Wait
	// does not close actord's ends under a read.
	cmd.Stdin, cmd.Stdout = inR, outW
	ch := &streamChild{cmd: cmd, stdin: inW, stdout: outR, out: bufio.NewReaderSize(outR, maxStreamLine),
		tail: &tailBuffer{max: stderrTail}, kill: kill, exited: make(chan struct{})}
	cmd.Stderr = io.MultiWriter(os.Stderr, ch.tail)
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		kill()
		inW.Close()
		outR.Close()
		return nil, err
	}
	go func() {
		ch.err = cmd.Wait()
		kill()
		close(ch.exited)
	}()
	return ch, nil
}

// exitStatus says how ch, which has exited, ended, for an error:
// "exited with exit status 3", "exited with signal: killed".
func exitStatus(ch *streamChild) string {
	if st := ch.cmd.ProcessState; st != nil {
		return "exited with " + st.String()
	}
	return "exited: " + ch.err.Error()
}

// verdict is a parsed answer.
type verdict struct {
	word   string
	reason string
}

// err is the attempt's outcome in actord's error classification.
func (v verdict) err(name string, offset int64) error {
	switch v.word {
	case "ok":
		return nil
	case "retry":
		return actors.Retry(fmt.Errorf("exec stream %s: offset %d: retry requested%s", name, offset, suffix(v.reason)))
	case "unavailable":
		return actors.Unavailable(fmt.Errorf("exec stream %s: offset %d: unavailable%s", name, offset, suffix(v.reason)))
	default:
		reason := v.reason
		if reason == "" {
			reason = "(no reason given)"
		}
		return actors.Permanent(fmt.Errorf("exec stream %s: offset %d: failed: %s", name, offset, reason))
	}
}

// protocolError is an answer out of protocol.
type protocolError struct{ what string }

func (e *protocolError) Error() string { return e.what }

const answerForms = `want "<offset> ok", "<offset> retry [reason]", "<offset> fail <reason>" or "<offset> unavailable [reason]"`

// parseAnswer parses line, the answer to the record at offset.
func parseAnswer(line []byte, offset int64) (verdict, error) {
	bad := func(why string) (verdict, error) {
		return verdict{}, &protocolError{what: fmt.Sprintf("answered %q for offset %d: %s", clip(line), offset, why)}
	}
	num, rest, _ := bytes.Cut(line, []byte{' '})
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return bad(answerForms)
	}
	if n != offset {
		return bad(fmt.Sprintf("another offset (%d); answer each record with its own offset", n))
	}
	word, reason, _ := bytes.Cut(rest, []byte{' '})
	v := verdict{word: string(word), reason: string(bytes.TrimSpace(reason))}
	switch v.word {
	case "ok":
		if v.reason != "" {
			return bad(`"ok" takes no reason`)
		}
	case "retry", "fail", "unavailable":
	default:
		return bad(answerForms)
	}
	if len(v.reason) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(v.reason[cut]) {
			cut--
		}
		v.reason = v.reason[:cut] + "..."
	}
	return v, nil
}

// clip is b cut to maxReason bytes, for a message.
func clip(b []byte) string {
	if len(b) > maxReason {
		return string(b[:maxReason]) + "..."
	}
	return string(b)
}

// appendStreamRecord appends r's line of the stream protocol to b.
func appendStreamRecord(b []byte, ctx context.Context, r *kgo.Record, attempt int) []byte {
	b = append(b, `{"topic":`...)
	b = appendJSONString(b, r.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"key":`...)
	b = appendJSONBytes(b, r.Key)
	b = append(b, `,"headers":{`...)
	for i, h := range r.Headers {
		// A name that repeats keeps its last value, as headersJSON does.
		if slices.ContainsFunc(r.Headers[i+1:], func(o kgo.RecordHeader) bool { return o.Key == h.Key }) {
			continue
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendJSONString(b, h.Key)
		b = append(b, ':')
		b = appendJSONBytes(b, h.Value)
	}
	b = append(b, `},"value":`...)
	b = appendJSONBytes(b, r.Value)
	b = append(b, `,"timestamp":"`...)
	b = r.Timestamp.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","attempt":`...)
	b = strconv.AppendInt(b, int64(attempt), 10)
	if tp, ts := actors.TraceContext(ctx); tp != "" {
		b = append(b, `,"traceparent":`...)
		b = appendJSONString(b, tp)
		if ts != "" {
			b = append(b, `,"tracestate":`...)
			b = appendJSONString(b, ts)
		}
	}
	return append(b, "}\n"...)
}
