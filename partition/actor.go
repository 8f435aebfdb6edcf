package partition

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/supervisor"
)

// Messages of the partition actor.
type (
	batch    struct{ recs []*kgo.Record }
	drainReq struct{}
	laneDue  struct{ l *lane }
	recDue   struct{ x *rec }
	deadDone struct {
		r   *rec
		err error
	}
)

// Records carry no state of their own in the partition actor until one
// fails: then rec holds what its retries and its dead letter need.
type rec struct {
	r       *kgo.Record
	seq     int64 // its place in the tracker (key and unordered modes)
	attempt int   // the attempt about to run (or that ran last)
	lane    *lane
	lastErr error
}

// entry is a record of key or unordered mode and its place in the tracker.
type entry struct {
	r   *kgo.Record
	seq int64
}

// lane is a sequence of records that must run one at a time, in order: the
// whole partition in partition mode (its records are the actor's seq), one
// key in key mode (its records are q). Only its first record can have
// failed before; head is then that record's state.
type lane struct {
	key     string
	q       []entry
	head    *rec
	busy    bool // a worker has records of it
	waiting bool // a retry backoff or a dead-letter write holds it
	ready   bool // queued in the actor's ready list
}

const (
	partitionChunk = 512
	keyChunk       = 64
	unorderedChunk = 64
)

type partitionActor struct {
	h   *Handle
	cfg *Config
	ctx context.Context

	// Key and unordered modes finish records out of order: the tracker
	// finds the finished prefix.
	tr    tracker
	lanes map[string]*lane
	ready []*lane // lanes with dispatchable records
	// readyRecs counts the records of key mode's ready lanes.
	readyRecs int
	pending   []entry // unordered mode's queue
	retries   []*rec  // unordered mode's records due for another attempt

	// Partition mode needs no tracker: one is its lane and seq its queue
	// (fetched batches in offset order, none empty); every record ahead of
	// seq is finished, so a finished run is marked at once.
	one *lane
	seq [][]*kgo.Record

	workers []*actor.PID
	idle    []*actor.PID
	busy    int // workers holding work
	// out is the work handed to workers; a periodic tick marks the
	// finished prefix of each, so a long run's early records commit (and
	// count) before the run ends.
	out     map[*work]struct{}
	ticking bool

	deadInFlight int
	// timers are the pending backoff, retry and progress timers, stopped
	// when the actor stops; each forgets itself once it has fired.
	timers map[*timerKey]*time.Timer

	draining bool
	drainTo  []*actor.PID
	// stop tells workers to return between records: set on drain.
	stop *atomic.Bool
}

func newPartitionActor(h *Handle, ctx context.Context) *partitionActor {
	a := &partitionActor{h: h, cfg: h.cfg, ctx: ctx, timers: map[*timerKey]*time.Timer{}, stop: new(atomic.Bool),
		out: map[*work]struct{}{}}
	switch a.cfg.Ordering {
	case ByPartition:
		a.one = &lane{}
	case ByKey:
		a.lanes = map[string]*lane{}
	}
	return a
}

// Receive implements actor.Actor.
func (a *partitionActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.start(c)
	case *batch:
		a.accept(m.recs)
		a.dispatch(c)
	case *work:
		a.workDone(c, m)
		a.dispatch(c)
	case *progressTick:
		a.ticking = false
		a.progress()
		a.tick(c)
	case *laneDue:
		m.l.waiting = false
		a.makeReady(m.l)
		a.dispatch(c)
	case *recDue:
		a.retries = append(a.retries, m.x)
		a.dispatch(c)
	case *deadDone:
		a.deadLettered(c, m)
		a.dispatch(c)
	case *drainReq:
		a.draining = true
		a.stop.Store(true)
		a.drainTo = append(a.drainTo, c.Sender())
		a.maybeDrained(c)
	case timerFired:
		delete(a.timers, m.k)
	case *actor.Stopping:
		for _, t := range a.timers {
			t.Stop()
		}
	}
}

func (a *partitionActor) start(c actor.Context) {
	for i := 0; i < a.cfg.Concurrency; i++ {
		var child *actor.PID
		if a.cfg.HandlerProps != nil {
			child = c.Spawn(a.cfg.HandlerProps)
		}
		pid := c.Spawn(a.workerProps(child))
		a.workers = append(a.workers, pid)
		a.idle = append(a.idle, pid)
	}
}

// accept takes a fetched batch into the tracker and the lanes (partition
// mode: onto seq as it is).
func (a *partitionActor) accept(recs []*kgo.Record) {
	if a.one != nil {
		a.seq = append(a.seq, recs)
		a.makeReady(a.one)
		return
	}
	a.tr.grow(len(recs))
	if a.lanes == nil {
		a.pending = slices.Grow(a.pending, len(recs))
		for _, r := range recs {
			a.pending = append(a.pending, entry{r, a.tr.push(r)})
		}
		return
	}
	a.sweepLanes()
	for _, r := range recs {
		l, ok := a.lanes[string(r.Key)]
		if !ok {
			l = &lane{key: string(r.Key)}
			a.lanes[l.key] = l
		}
		l.q = append(l.q, entry{r, a.tr.push(r)})
		if l.ready {
			a.readyRecs++
		} else {
			a.makeReady(l)
		}
	}
}

func (a *partitionActor) makeReady(l *lane) {
	if !l.ready && !l.busy && !l.waiting && a.queued(l) {
		l.ready = true
		a.ready = append(a.ready, l)
		a.readyRecs += len(l.q)
	}
}

// queued reports whether l has records waiting to run.
func (a *partitionActor) queued(l *lane) bool {
	if l == a.one {
		return len(a.seq) > 0
	}
	return len(l.q) > 0
}

// dispatch hands records to idle workers while there are both.
func (a *partitionActor) dispatch(c actor.Context) {
	if a.draining {
		return
	}
	for len(a.idle) > 0 {
		var w *work
		if a.cfg.Ordering == Unordered {
			switch {
			case len(a.retries) > 0:
				x := a.retries[0]
				a.retries[0] = nil
				a.retries = a.retries[1:]
				w = &work{owner: a, ents: []entry{{x.r, x.seq}}, first: x.attempt, retry: x, stop: a.stop}
			case len(a.pending) > 0:
				n := (len(a.pending) + len(a.idle) - 1) / len(a.idle)
				n = min(n, unorderedChunk)
				w = &work{owner: a, ents: a.pending[:n:n], first: 1, stop: a.stop}
				a.pending = a.pending[n:]
				if len(a.pending) == 0 {
					a.pending = nil
				}
			default:
				return
			}
		} else {
			if len(a.ready) == 0 {
				return
			}
			if a.one != nil {
				a.popReady().busy = true
				w = a.takeSeq()
			} else {
				w = a.takeKeys()
			}
		}
		pid := a.idle[len(a.idle)-1]
		a.idle = a.idle[:len(a.idle)-1]
		w.worker = pid
		a.busy++
		a.out[w] = struct{}{}
		c.Send(pid, w)
	}
	a.tick(c)
}

// popReady takes the first ready lane off the ready list.
func (a *partitionActor) popReady() *lane {
	l := a.ready[0]
	a.ready[0] = nil
	a.ready = a.ready[1:]
	l.ready = false
	a.readyRecs -= len(l.q)
	return l
}

// takeKeys is key mode's next run: records of ready lanes, one segment per
// lane, up to an even share of the ready records among the idle workers
// (at most keyChunk). Keys with a few records each share one message, and
// slow handlers still spread over every worker.
func (a *partitionActor) takeKeys() *work {
	share := min(max((a.readyRecs+len(a.idle)-1)/len(a.idle), 1), keyChunk)
	w := &work{owner: a, stopOnFail: true, stop: a.stop,
		ents: make([]entry, 0, share), segs: make([]seg, 0, min(share, len(a.ready)))}
	for len(w.ents) < share && len(a.ready) > 0 {
		l := a.popReady()
		k := min(len(l.q), share-len(w.ents))
		first := 1
		if l.head != nil {
			first = l.head.attempt
		}
		w.segs = append(w.segs, seg{lane: l, start: len(w.ents), end: len(w.ents) + k, first: first})
		w.ents = append(w.ents, l.q[:k]...)
		clear(l.q[:k])
		if k == len(l.q) {
			l.q = l.q[:0] // keep the array for the key's next records
		} else {
			l.q = l.q[k:]
		}
		l.busy = true
	}
	return w
}

// takeSeq is partition mode's next run: up to partitionChunk records from
// the front of seq, the first on head's attempt if it failed before.
func (a *partitionActor) takeSeq() *work {
	front := a.seq[0]
	n := min(len(front), partitionChunk)
	w := &work{owner: a, lane: a.one, recs: front[:n:n], first: 1, stopOnFail: true, stop: a.stop}
	if a.one.head != nil {
		w.first = a.one.head.attempt
	}
	if n == len(front) {
		a.seq[0] = nil
		a.seq = a.seq[1:]
	} else {
		a.seq[0] = front[n:]
	}
	return w
}

type progressTick struct{}

// progressEvery is how often the finished prefix of running work is
// marked.
const progressEvery = 100 * time.Millisecond

// tick arms the progress timer while work is out.
func (a *partitionActor) tick(c actor.Context) {
	if a.ticking || len(a.out) == 0 {
		return
	}
	a.ticking = true
	self, root := c.Self(), c.ActorSystem().Root
	a.after(progressEvery, func() { root.Send(self, &progressTick{}) })
}

// progress finishes the records that running work reports done (its
// successful prefix) and marks what that frees for commit.
func (a *partitionActor) progress() {
	handled := 0
	for w := range a.out {
		p := int(w.progress.Load())
		if p <= w.reported {
			continue
		}
		if w.recs != nil {
			// The only run out in partition mode: all before it is finished.
			a.markRecord(w.recs[p-1], p-w.reported)
		} else {
			for i := w.reported; i < p; i++ {
				a.tr.finish(w.ents[i].seq)
			}
		}
		handled += p - w.reported
		w.reported = p
	}
	if handled == 0 {
		return
	}
	a.advance()
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(handled, 0, 0, 0)
	}
}

// workDone takes back a worker's results: finished records, failures (in
// ordered modes at most one per lane, the last record of it that ran) and
// records it did not reach.
func (a *partitionActor) workDone(c actor.Context, w *work) {
	a.busy--
	a.idle = append(a.idle, w.worker)
	delete(a.out, w)
	if w.recs != nil {
		a.seqDone(c, w)
	} else {
		a.entsDone(c, w)
	}
	a.maybeDrained(c)
}

// seqDone takes back a partition-mode run: it marks the records that
// succeeded and puts the failed one (the last it ran, if any) and those it
// did not reach back at the front of seq.
func (a *partitionActor) seqDone(c actor.Context, w *work) {
	l := a.one
	l.busy = false
	ok, ferr := w.succeeded()
	handled := max(ok-w.reported, 0)
	if handled > 0 {
		a.markRecord(w.recs[ok-1], handled)
	}
	if ok > 0 {
		l.head = nil // the head ran through
	}
	// w.recs is a slice of the fetched batch: let go of the finished
	// records (and the fetch buffers behind them).
	clear(w.recs[:ok])
	if rest := w.recs[ok:]; len(rest) > 0 {
		a.seq = append([][]*kgo.Record{rest}, a.seq...)
	}
	retried := 0
	if ferr != nil {
		if l.head == nil {
			l.head = &rec{r: w.recs[ok], attempt: 1, lane: l}
		}
		if a.failed(c, l.head, ferr) {
			retried++
		}
	}
	a.settle(l)
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(handled, len(w.fails), retried, 0)
	}
}

// entsDone takes back a key or unordered run: it finishes the records that
// succeeded, decides what follows each failure, and queues the records it
// did not reach again.
func (a *partitionActor) entsDone(c actor.Context, w *work) {
	var handled, retried int
	if w.segs != nil {
		handled, retried = a.keysDone(c, w)
	} else {
		handled, retried = a.unorderedDone(c, w)
	}
	a.advance()
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(handled, len(w.fails), retried, 0)
	}
	// w.ents are copies or a slice of a queue: let go of the records (and
	// the fetch buffers behind them) now that they are finished or queued
	// again elsewhere.
	clear(w.ents)
}

// keysDone settles each key of a key-mode run: the records before its
// failure (if any) are finished, the failed one and those not reached go
// back to the front of its lane.
func (a *partitionActor) keysDone(c actor.Context, w *work) (handled, retried int) {
	fi := 0
	for _, sg := range w.segs {
		l := sg.lane
		l.busy = false
		// Records [start, start+ok) succeeded: those run, up to a failure.
		ok := min(max(w.done-sg.start, 0), sg.end-sg.start)
		var ferr error
		for ; fi < len(w.fails) && w.fails[fi].idx < sg.end; fi++ {
			if f := w.fails[fi]; f.idx >= sg.start {
				ok, ferr = f.idx-sg.start, f.err
			}
		}
		// Records before w.reported were finished by a progress tick.
		for i := max(sg.start, w.reported); i < sg.start+ok; i++ {
			a.tr.finish(w.ents[i].seq)
			handled++
		}
		if ok > 0 {
			l.head = nil
		}
		if rest := w.ents[sg.start+ok : sg.end]; len(rest) > 0 {
			q := make([]entry, 0, len(rest)+len(l.q))
			q = append(q, rest...)
			l.q = append(q, l.q...)
		}
		if ferr != nil {
			if l.head == nil {
				e := w.ents[sg.start+ok]
				l.head = &rec{r: e.r, seq: e.seq, attempt: 1, lane: l}
			}
			if a.failed(c, l.head, ferr) {
				retried++
			}
		}
		a.settle(l)
	}
	return handled, retried
}

// unorderedDone finishes an unordered run's records that succeeded and
// decides what follows each failure.
func (a *partitionActor) unorderedDone(c actor.Context, w *work) (handled, retried int) {
	fi := 0
	// Records before w.reported were finished by a progress tick.
	for fi < len(w.fails) && w.fails[fi].idx < w.reported {
		fi++
	}
	fails := w.fails[fi:]
	for i := w.reported; i < w.done; i++ {
		if fi < len(w.fails) && w.fails[fi].idx == i {
			fi++
			continue
		}
		a.tr.finish(w.ents[i].seq)
		handled++
	}
	for _, f := range fails {
		x := w.retry
		if x == nil {
			e := w.ents[f.idx]
			x = &rec{r: e.r, seq: e.seq, attempt: 1}
		}
		if a.failed(c, x, f.err) {
			retried++
		}
	}
	if rest := w.ents[w.done:]; len(rest) > 0 {
		if w.retry != nil {
			a.retries = append([]*rec{w.retry}, a.retries...)
		} else {
			a.pending = append(slices.Clone(rest), a.pending...)
		}
	}
	return handled, retried
}

// settle queues a lane that can run again.
func (a *partitionActor) settle(l *lane) {
	a.makeReady(l)
}

// sweepLanes forgets idle empty key lanes once there are many: keeping them
// saves re-creating a lane per key per batch, sweeping bounds the map.
func (a *partitionActor) sweepLanes() {
	if len(a.lanes) <= max(4*a.cfg.MaxInFlight, 4096) {
		return
	}
	for k, l := range a.lanes {
		if len(l.q) == 0 && l.head == nil && !l.waiting && !l.busy {
			delete(a.lanes, k)
		}
	}
}

// failed decides what follows a failed attempt of x and reports whether it
// will be retried. In ordered modes x is at the front of its lane, and the
// lane waits for the backoff (or the dead-letter write) to end.
func (a *partitionActor) failed(c actor.Context, x *rec, err error) bool {
	x.lastErr = err
	if a.draining {
		// Leave it unfinished: the partition's next owner gets it again.
		a.cfg.Logger.Warn("record failed while draining; leaving it uncommitted",
			"offset", x.r.Offset, "attempt", x.attempt, "error", err)
		if x.lane == nil {
			a.retries = append(a.retries, x)
		}
		return false
	}
	step := a.cfg.Pipeline.After(err, x.attempt)
	a.cfg.Logger.Warn("record failed", "offset", x.r.Offset, "attempt", x.attempt,
		"next", step.Action, "permanent", step.Directive == supervisor.Permanent, "error", err)
	if x.lane != nil {
		x.lane.waiting = true
	}
	switch step.Action {
	case supervisor.RetryAfter:
		x.attempt++
		self := c.Self()
		root := c.ActorSystem().Root
		var msg any = &recDue{x: x}
		if x.lane != nil {
			msg = &laneDue{l: x.lane}
		}
		a.after(step.Delay, func() { root.Send(self, msg) })
		return true
	case supervisor.DeadLetter:
		a.deadLetter(c, x)
	default:
		a.cfg.Logger.Error("record failed for the last time; no dead-letter topic, skipping it",
			"offset", x.r.Offset, "attempts", x.attempt, "error", x.lastErr)
		a.finishFailed(x)
	}
	return false
}

// after runs fn after d unless the actor stops first.
func (a *partitionActor) after(d time.Duration, fn func()) {
	self, root := a.h.pid, a.h.root
	k := &timerKey{}
	a.timers[k] = time.AfterFunc(d, func() {
		fn()
		root.Send(self, timerFired{k})
	})
}

type (
	timerKey   struct{ _ byte }
	timerFired struct{ k *timerKey }
)

func (a *partitionActor) deadLetter(c actor.Context, x *rec) {
	f := Failure{Group: a.cfg.Group, Attempts: x.attempt, Err: x.lastErr, FailedAt: time.Now()}
	a.deadInFlight++
	self := c.Self()
	root := c.ActorSystem().Root
	a.cfg.DeadLetter(x.r, f, func(err error) { root.Send(self, &deadDone{r: x, err: err}) })
}

func (a *partitionActor) deadLettered(c actor.Context, m *deadDone) {
	a.deadInFlight--
	x := m.r
	if m.err != nil {
		if a.draining {
			// Unfinished: re-delivered to the next owner.
			a.maybeDrained(c)
			return
		}
		a.cfg.Logger.Error("dead-letter write failed; retrying it", "offset", x.r.Offset, "error", m.err)
		self := c.Self()
		root := c.ActorSystem().Root
		a.deadInFlight++
		a.after(a.cfg.Pipeline.Policy.Max, func() {
			f := Failure{Group: a.cfg.Group, Attempts: x.attempt, Err: x.lastErr, FailedAt: time.Now()}
			a.cfg.DeadLetter(x.r, f, func(err error) { root.Send(self, &deadDone{r: x, err: err}) })
		})
		return
	}
	a.cfg.Logger.Error("record dead-lettered", "offset", x.r.Offset, "attempts", x.attempt, "error", x.lastErr)
	a.finishFailed(x)
	a.maybeDrained(c)
}

// finishFailed finishes a record that will not run again and frees its
// lane.
func (a *partitionActor) finishFailed(x *rec) {
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(0, 0, 0, 1)
	}
	l := x.lane
	switch {
	case l != nil && l == a.one:
		// The head of seq, with everything before it finished.
		if len(a.seq) > 0 && a.seq[0][0] == x.r {
			front := a.seq[0]
			front[0] = nil
			if len(front) == 1 {
				a.seq[0] = nil
				a.seq = a.seq[1:]
			} else {
				a.seq[0] = front[1:]
			}
			a.markRecord(x.r, 1)
		}
	case l != nil:
		a.tr.finish(x.seq)
		if len(l.q) > 0 && l.q[0].seq == x.seq {
			l.q[0] = entry{}
			l.q = l.q[1:]
		}
	default:
		a.tr.finish(x.seq)
	}
	if l != nil {
		l.head = nil
		l.waiting = false
		a.settle(l)
	}
	a.advance()
}

// advance marks the finished prefix for commit and releases its records
// from the in-flight count.
func (a *partitionActor) advance() {
	if n, epoch, last := a.tr.advance(); n > 0 {
		a.markThrough(epoch, last, n)
	}
}

// markThrough marks the offset after last (of leader epoch epoch) for
// commit, every record up to it being finished, and releases n records
// from the in-flight count.
func (a *partitionActor) markThrough(epoch int32, last int64, n int) {
	if !a.h.closed.Load() {
		a.h.marked.Store(last + 1)
		if a.cfg.Mark != nil {
			a.cfg.Mark(epoch, last+1)
		}
	}
	a.h.release(n)
}

// markRecord marks everything up to r; see markThrough.
func (a *partitionActor) markRecord(r *kgo.Record, n int) { a.markThrough(r.LeaderEpoch, r.Offset, n) }

// maybeDrained answers drain requests once no worker holds records and no
// dead-letter write is pending.
func (a *partitionActor) maybeDrained(c actor.Context) {
	if !a.draining || a.busy > 0 || a.deadInFlight > 0 || len(a.drainTo) == 0 {
		return
	}
	for _, to := range a.drainTo {
		if to != nil {
			c.Send(to, &drained{})
		}
	}
	a.drainTo = nil
}

type drained struct{}
