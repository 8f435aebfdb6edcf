package handler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Pipelined stream children (config.ExecHandler.Pipeline above 1).
//
// A handler actor has one record at a time: the partition's handler waits
// for its answer before it hands the actor the next (partition/worker.go),
// so a child of its own never has more than one record to read, and each
// record costs a round trip of wakeups between actord and the child. With
// a pipeline of n, up to n handler actors of one partition share one
// child: each writes its record as it comes, without waiting for the
// others' answers, so the child has up to n records in flight, reads them
// in one go and answers in any order, each answer matched to its record
// by offset (offsets are unique within a partition, and a record is in
// flight at most once). The order per key of key mode holds: one key's
// records go to one handler actor, which still sends the next only once
// the last is answered. Writes of records that arrive while another is
// being written are coalesced into one write; a reader goroutine per
// child reads the answers through a bufio.Reader.
//
// A record is done only when its answer has come. A child that dies,
// closes its stdout, answers out of protocol or an offset not in flight,
// or leaves a record unanswered past the handler timeout, is killed with
// its process group, and every record in flight in it fails its attempt
// (retried like any other: never lost); the next record starts a new
// child.

// streamPool is the shared children of one exec stream handler (one
// consumer): per partition, children each shared by up to n handler
// actors.
type streamPool struct {
	argv []string
	n    int
	log  *slog.Logger

	mu    sync.Mutex
	parts map[streamPart][]*sharedStream
}

type streamPart struct {
	topic     string
	partition int32
}

// sharedStream is one shared child slot: the handler actors attached to
// it and the child running for them, started at the first record that
// finds none.
type sharedStream struct {
	pool  *streamPool
	part  streamPart
	users int // attached handler actors (pool.mu)

	mu sync.Mutex
	ch *pipedChild // nil: none running
}

// pipedChild is one running child of a sharedStream and its records in
// flight (sharedStream.mu guards all but ch).
type pipedChild struct {
	ch      *streamChild
	pending map[int64]*pendingRecord
	// queue is the records handed over and not yet written; the writer
	// goroutine, woken through wake, takes them all at once.
	queue, spareQ []queuedRecord
	wake          chan struct{}
	wbuf, spare   []byte
	writing       bool // the writer is awake or woken
	dead          bool // killed or gone: no new records
	closing       bool // its handler actors have stopped: stdin closed
}

// queuedRecord is a record handed to send.
type queuedRecord struct {
	ctx     context.Context
	r       *kgo.Record
	attempt int
	done    func(error)
}

// pendingRecord is one record in flight.
type pendingRecord struct {
	offset int64
	done   func(error)
	stop   func() bool // deregisters the context's AfterFunc
	ctx    context.Context
}

func newStreamPool(argv []string, n int, log *slog.Logger) *streamPool {
	return &streamPool{argv: argv, n: n, log: log, parts: map[streamPart][]*sharedStream{}}
}

func (p *streamPool) name() string { return p.argv[0] }

// attach gives a handler actor of r's partition its slot: one with fewer
// than n actors, or a new one.
func (p *streamPool) attach(r *kgo.Record) *sharedStream {
	part := streamPart{r.Topic, r.Partition}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.parts[part] {
		if s.users < p.n {
			s.users++
			return s
		}
	}
	s := &sharedStream{pool: p, part: part, users: 1}
	p.parts[part] = append(p.parts[part], s)
	return s
}

// detach is a handler actor's stop: the last one of a slot stops its
// child as a handler actor's own child is stopped (stdin closed, the
// process group ended streamStopGrace later).
func (p *streamPool) detach(s *sharedStream) {
	part := s.part
	p.mu.Lock()
	s.users--
	last := s.users == 0
	if last {
		list := p.parts[part]
		for i, o := range list {
			if o == s {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(p.parts, part)
		} else {
			p.parts[part] = list
		}
	}
	p.mu.Unlock()
	if last {
		s.stop()
	}
}

// send hands r to the slot's child, starting one if none runs; done gets
// the attempt's outcome once the answer has come or the attempt has
// failed. It does not wait for the answer, nor for the write: the
// child's writer goroutine writes (so the handler actor's own goroutine,
// new for each message, stays shallow).
func (s *sharedStream) send(ctx context.Context, r *kgo.Record, attempt int, done func(error)) {
	s.mu.Lock()
	pc := s.ch
	if pc == nil {
		ch, err := startStream(s.pool.argv, r)
		if err != nil {
			s.mu.Unlock()
			done(fmt.Errorf("exec stream %s: cannot start: %w", s.pool.name(), err))
			return
		}
		pc = &pipedChild{ch: ch, pending: map[int64]*pendingRecord{}, wake: make(chan struct{}, 1)}
		s.ch = pc
		go s.read(pc)
		go s.write(pc)
	}
	pc.queue = append(pc.queue, queuedRecord{ctx, r, attempt, done})
	if !pc.writing {
		pc.writing = true
		pc.wake <- struct{}{}
	}
	s.mu.Unlock()
}

// write writes the records handed to pc, as many as are there in one
// write, until pc is dead.
func (s *sharedStream) write(pc *pipedChild) {
	name := s.pool.name()
	for range pc.wake {
		s.mu.Lock()
		for !pc.dead && len(pc.queue) > 0 {
			queue := pc.queue
			pc.queue = pc.spareQ[:0]
			for _, q := range queue {
				off := q.r.Offset
				if _, dup := pc.pending[off]; dup {
					q.done(fmt.Errorf("exec stream %s: offset %d is in flight already", name, off))
					continue
				}
				p := &pendingRecord{offset: off, done: q.done, ctx: q.ctx}
				pc.pending[off] = p
				pc.wbuf = appendStreamRecord(pc.wbuf, q.ctx, q.r, q.attempt)
				// The attempt's end (handler_timeout, the drain deadline)
				// kills the child, failing what is in flight in it.
				p.stop = context.AfterFunc(q.ctx, func() { s.interrupted(pc, p) })
			}
			clear(queue)
			pc.spareQ = queue[:0]
			buf := pc.wbuf
			pc.wbuf = pc.spare[:0]
			s.mu.Unlock()
			_, err := pc.ch.stdin.Write(buf)
			s.mu.Lock()
			pc.spare = buf[:0]
			if err != nil {
				// It is gone, or going: the reader sees its stdout end.
				break
			}
		}
		pc.writing = false
		s.mu.Unlock()
	}
}

// read reads pc's answers until its stdout ends or an answer is out of
// protocol, and finishes each record answered.
func (s *sharedStream) read(pc *pipedChild) {
	name := s.pool.name()
	for {
		line, err := pc.ch.out.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			s.fail(pc, nil, fmt.Sprintf("answered a line longer than %d bytes (%q)", maxStreamLine, clip(line)))
			return
		}
		if err != nil {
			s.fail(pc, nil, "")
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		num, _, _ := bytes.Cut(line, []byte{' '})
		off, perr := strconv.ParseInt(string(num), 10, 64)
		s.mu.Lock()
		if pc.dead {
			s.mu.Unlock()
			return
		}
		p := pc.pending[off]
		if perr != nil || p == nil {
			s.mu.Unlock()
			why := answerForms
			if perr == nil {
				why = fmt.Sprintf("no record at offset %d is in flight; answer each record with its own offset", off)
			}
			s.fail(pc, nil, fmt.Sprintf("answered %q: %s", clip(line), why))
			return
		}
		delete(pc.pending, off)
		s.mu.Unlock()
		p.stop()
		v, err := parseAnswer(line, off)
		if err != nil {
			p.done(fmt.Errorf("exec stream %s: %w", name, err))
			s.fail(pc, nil, err.Error())
			return
		}
		p.done(v.err(name, off))
	}
}

// interrupted is p's context ending before its answer came: the child is
// killed, failing p and whatever else is in flight in it.
func (s *sharedStream) interrupted(pc *pipedChild, p *pendingRecord) {
	s.mu.Lock()
	inFlight := !pc.dead && pc.pending[p.offset] == p
	s.mu.Unlock()
	if inFlight {
		s.fail(pc, p, "")
	}
}

// fail kills pc, if it is not dead already, and fails every record in
// flight in it. cause, when not nil, is the record whose context ended;
// protocol, when not empty, the answer out of protocol that ended it.
func (s *sharedStream) fail(pc *pipedChild, cause *pendingRecord, protocol string) {
	s.mu.Lock()
	if pc.dead {
		s.mu.Unlock()
		return
	}
	pc.dead = true
	if s.ch == pc {
		s.ch = nil
	}
	pending := pc.pending
	pc.pending = nil
	queued := pc.queue
	pc.queue = nil
	closing := pc.closing
	close(pc.wake) // ends the writer
	s.mu.Unlock()

	ch := pc.ch
	ch.kill()
	ch.wait()
	name := s.pool.name()
	for _, q := range queued {
		q.done(fmt.Errorf("exec stream %s: no answer for offset %d: the child %s before it was written%s", name, q.r.Offset, exitStatus(ch), suffix(ch.tail.lastLine())))
	}
	if len(pending) == 0 {
		if !closing && protocol == "" {
			s.pool.log.Warn("exec stream child exited between records; it is started again at the next record",
				"command", name, "status", exitStatus(ch), "stderr", ch.tail.lastLine())
		}
		return
	}
	var why string
	switch {
	case protocol != "":
		why = fmt.Sprintf("killed, it answered out of protocol: %s", protocol)
	case cause != nil && errors.Is(cause.ctx.Err(), context.DeadlineExceeded):
		why = fmt.Sprintf("killed with its process group: offset %d had no answer in time", cause.offset)
	case cause != nil:
		why = fmt.Sprintf("killed: stopped before offset %d was answered: %v", cause.offset, context.Cause(cause.ctx))
	default:
		why = exitStatus(ch)
	}
	why += suffix(ch.tail.lastLine())
	for _, p := range pending {
		p.stop()
		switch {
		case p == cause && errors.Is(p.ctx.Err(), context.DeadlineExceeded):
			p.done(fmt.Errorf("exec stream %s: no answer for offset %d in time: killed with its process group%s", name, p.offset, suffix(ch.tail.lastLine())))
		case p == cause:
			p.done(fmt.Errorf("exec stream %s: stopped before offset %d was answered: %w", name, p.offset, context.Cause(p.ctx)))
		default:
			p.done(fmt.Errorf("exec stream %s: no answer for offset %d: %s", name, p.offset, why))
		}
	}
}

// stop ends the slot's child once its last handler actor has stopped: its
// stdin is closed, the sign to exit, and its group is ended if it has not
// exited streamStopGrace later. Records still in flight fail.
func (s *sharedStream) stop() {
	s.mu.Lock()
	pc := s.ch
	s.ch = nil
	if pc != nil {
		pc.closing = true
	}
	s.mu.Unlock()
	if pc == nil {
		return
	}
	pc.ch.stdin.Close()
	t := time.NewTimer(streamStopGrace)
	defer t.Stop()
	select {
	case <-pc.ch.exited:
	case <-t.C:
	}
	s.fail(pc, nil, "")
}
