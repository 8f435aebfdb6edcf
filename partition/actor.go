package partition

import (
	"context"
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
	// due: the retry backoff of x has ended.
	due      struct{ x *rec }
	deadDone struct {
		r   *rec
		err error
	}
	progressTick struct{}
	drained      struct{}
	// probeTick: the circuit may take a probe now; circuitClosed: it closed.
	probeTick     struct{}
	circuitClosed struct{}
)

// partitionActor is what the three ordering modes share: the handler
// actors (workers), the timers, the progress ticks, the failure decisions
// and dead-letter writes, marking, and the drain. Where records wait and
// which may run next is its mode's.
type partitionActor struct {
	h *Handle
	// self is the actor's PID, from its Started on: Handle.pid is set
	// only once Spawn returns, which the actor may outrun.
	self *actor.PID
	cfg  *Config
	ctx  context.Context
	mode mode
	// recycleRecs is cfg.recycles(): records that ran through are
	// recycled.
	recycleRecs bool

	workers []*actor.PID
	idle    []*actor.PID
	busy    int // workers holding work
	// begun are runs out whose worker is free again: batches begun with
	// Batch.Start that have not come back.
	begun int
	// out is the work handed to workers (each at its outAt); a periodic
	// tick marks the finished prefix of each, so a long run's early
	// records commit (and count) before the run ends.
	out     []*work
	ticking bool
	// free are runs back from their workers and settled, for newWork to
	// reuse (with their arrays in key mode): one allocation less per run.
	free []*work
	// perRecord is what a record has taken its handler lately (see
	// share), zero before the first run came back.
	perRecord time.Duration

	deadInFlight int
	// timers are the pending backoff, retry and progress timers, stopped
	// when the actor stops; each forgets itself once it has fired.
	timers map[*timerKey]*time.Timer

	// probe is the run out through the open circuit, nil when none;
	// probeArmed whether a probeTick is on its way; unsubscribe ends the
	// circuit's wake-ups.
	probe       *work
	probeArmed  bool
	unsubscribe func()

	// park is parking's state, nil when it is off.
	park *parker

	draining bool
	drainTo  []*actor.PID
	// stop tells workers to return between records: set on drain.
	stop *atomic.Bool
}

func newPartitionActor(h *Handle, ctx context.Context) *partitionActor {
	a := &partitionActor{h: h, cfg: h.cfg, ctx: ctx, timers: map[*timerKey]*time.Timer{}, stop: new(atomic.Bool), recycleRecs: h.cfg.recycles()}
	switch a.cfg.Ordering {
	case ByKey:
		a.mode = newKeyMode(a)
	case Unordered:
		a.mode = newUnorderedMode(a)
	default:
		a.mode = newPartitionMode(a)
	}
	return a
}

// Receive implements actor.Actor.
func (a *partitionActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.self = c.Self()
		a.start(c)
	case *batch:
		if a.park != nil && !a.park.loaded {
			a.park.pending = append(a.park.pending, m.recs)
			return
		}
		a.mode.accept(m.recs)
		a.dispatch(c)
	case *work:
		a.workDone(c, m)
		a.dispatch(c)
	case *batchStarted:
		a.busy--
		a.begun++
		a.idle = append(a.idle, m.w.worker)
		a.mode.(*partitionMode).started()
		a.dispatch(c)
	case *progressTick:
		a.ticking = false
		a.progress()
		a.dispatch(c) // the window may have moved; dispatch ticks again
	case *due:
		a.mode.retry(m.x)
		a.dispatch(c)
	case *deadDone:
		a.deadLettered(c, m)
		a.dispatch(c)
	case *drainReq:
		a.draining = true
		a.stop.Store(true)
		a.drainTo = append(a.drainTo, c.Sender())
		a.maybeDrained(c)
	case *probeTick:
		a.probeArmed = false
		a.dispatch(c)
	case *circuitClosed:
		a.dispatch(c)
	case timerFired:
		delete(a.timers, m.k)
	default:
		if a.park != nil && a.parkReceive(c, m) {
			a.dispatch(c)
		}
	case *actor.Stopped:
		a.h.disp.Close()
	case *actor.Stopping:
		for _, t := range a.timers {
			t.Stop()
		}
		if a.unsubscribe != nil {
			a.unsubscribe()
		}
		if a.probe != nil {
			a.cfg.Circuit.Release() // it will not come back
			a.probe = nil
		}
	}
}

func (a *partitionActor) start(c actor.Context) {
	if a.cfg.Park != nil {
		a.park = newParker(a.cfg.Park)
		a.parkLoad(c)
	}
	if cb := a.cfg.Circuit; cb != nil {
		self, root := c.Self(), c.ActorSystem().Root
		a.unsubscribe = cb.Subscribe(func() { root.Send(self, &circuitClosed{}) })
	}
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

// newWork is an empty run of this actor's records.
func (a *partitionActor) newWork() *work {
	if n := len(a.free); n > 0 {
		w := a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
		return w
	}
	return &work{owner: a, stop: a.stop}
}

// recycle keeps w, settled and forgotten by the actor, for newWork. Key
// mode's runs keep their arrays of entries and segments (their own, and
// cleared by done); the others' records are slices of their queues and go.
func (a *partitionActor) recycle(w *work) {
	clear(w.segs) // past their length they are clear already
	clear(w.fails)
	ents, segs, fails := w.ents[:0], w.segs[:0], w.fails[:0]
	if w.segs == nil {
		ents = nil
	}
	*w = work{owner: a, stop: a.stop, ents: ents, segs: segs, fails: fails}
	a.free = append(a.free, w)
}

// dispatch hands runs to idle workers while the mode has records ready;
// while the circuit is open, one record at a time as its probe.
func (a *partitionActor) dispatch(c actor.Context) {
	if a.draining {
		return
	}
	if cb := a.cfg.Circuit; cb != nil && cb.Open() {
		a.sendProbe(c, cb)
		a.tick(c)
		return
	}
	for len(a.idle) > 0 {
		w := a.mode.next(len(a.idle), 0)
		if w == nil {
			break
		}
		a.send(c, w)
	}
	a.tick(c)
}

// splitRun is how long a run must take before it is worth splitting
// among idle workers: one more run costs a message to a handler actor
// and one back, each a goroutine hand-off, some microseconds of CPU.
const splitRun = 50 * time.Microsecond

// share is how many of ready records the next run takes, at least one
// and at most chunk (and most, if not 0), with idle workers waiting.
// Before the handlers' pace is known, an even share among the idle
// workers. Once it is, a run of about splitRun at that pace: fast
// handlers get their records in a few large runs rather than in one
// small run per idle worker (each a round trip through two mailboxes),
// slow ones a record or a few a run, so that they spread over every
// worker. Not a share of what is ready: a worker that comes back while
// the others are busy would take the share of all of them, and with
// slow handlers run it alone (a 1 ms handler and a run of 256 made the
// slow-handler scenario 5 times slower).
func (a *partitionActor) share(ready, idle, chunk, most int) int {
	n := (ready + idle - 1) / idle
	if p := a.perRecord; p > 0 {
		n = max(int(splitRun/p), 1)
	}
	n = max(min(n, ready, chunk), 1)
	if most > 0 {
		n = min(n, most)
	}
	return n
}

// paced takes a finished run's time into perRecord: at once when records
// are slower than it says, slowly when they are faster, so that one slow
// run makes runs split again at once.
func (a *partitionActor) paced(w *work) {
	if w.took <= 0 || w.done <= 0 {
		return
	}
	p := max(w.took/time.Duration(w.done), 1)
	if p >= a.perRecord {
		a.perRecord = p
	} else {
		a.perRecord -= (a.perRecord - p) / 8
	}
}

// send hands w to an idle worker.
func (a *partitionActor) send(c actor.Context, w *work) {
	pid := a.idle[len(a.idle)-1]
	a.idle = a.idle[:len(a.idle)-1]
	w.worker = pid
	a.busy++
	w.outAt = len(a.out)
	a.out = append(a.out, w)
	c.Send(pid, w)
}

// sendProbe sends one record through the open circuit if this partition
// has one to run and the circuit takes a probe now; otherwise it asks
// again when the circuit says.
func (a *partitionActor) sendProbe(c actor.Context, cb *supervisor.Circuit) {
	if a.probe != nil || len(a.idle) == 0 {
		return
	}
	ok, wait := cb.Probe()
	if !ok {
		if !a.probeArmed {
			a.probeArmed = true
			self, root := c.Self(), c.ActorSystem().Root
			a.after(wait, func() { root.Send(self, &probeTick{}) })
		}
		return
	}
	w := a.mode.next(len(a.idle), 1)
	if w == nil {
		cb.Release() // nothing to probe with here; new records ask again
		return
	}
	a.probe = w
	a.send(c, w)
}

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
	defer func() {
		if a.cfg.Circuit != nil {
			a.cfg.Circuit.Succeeded(handled)
		}
	}()
	for _, w := range a.out {
		p := int(w.progress.Load())
		if p <= w.reported {
			continue
		}
		a.mode.progress(w, p)
		handled += p - w.reported
		w.reported = p
	}
	if handled > 0 && a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(handled, 0, 0, 0)
	}
}

// workDone takes back a worker's run: its mode settles the records, the
// worker is idle again.
func (a *partitionActor) workDone(c actor.Context, w *work) {
	a.paced(w)
	if w.started {
		a.begun--
	} else {
		a.busy--
		a.idle = append(a.idle, w.worker)
	}
	last := a.out[len(a.out)-1]
	last.outAt = w.outAt
	a.out[w.outAt] = last
	a.out[len(a.out)-1] = nil
	a.out = a.out[:len(a.out)-1]
	cb := a.cfg.Circuit
	if cb != nil {
		// Successes first, so that the run's failures are weighed against
		// them (a run's records succeeded but for its failures; in key
		// mode, records skipped after a key's failure count too, which
		// only makes the circuit slower to open).
		cb.Succeeded(w.done - len(w.fails) - w.reported)
	}
	if w == a.probe {
		a.probe = nil
		switch {
		case len(w.fails) > 0:
			cb.ProbeDone(w.fails[0].err)
		case w.done < w.len():
			cb.Release() // stopped by a drain before it ran
		default:
			cb.ProbeDone(nil)
		}
	}
	handled, retried := a.mode.done(c, w)
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(handled, len(w.fails), retried, 0)
	}
	a.recycle(w)
	a.maybeDrained(c)
}

// failed acts on the failure pipeline's decision for a failed attempt of
// x (supervisor.Pipeline.After, the one place that decides) and reports
// whether x will be retried: a retry sends due{x} after the backoff, a
// dead letter is written, a skipped record is finished at once. While
// draining nothing is decided: x is left unfinished for the partition's
// next owner.
func (a *partitionActor) failed(c actor.Context, x *rec, err error) bool {
	x.lastErr = err
	if a.draining {
		a.cfg.Logger.Warn("record failed while draining; leaving it uncommitted",
			"offset", x.r.Offset, "attempt", x.attempt, "error", err)
		return false
	}
	if cb := a.cfg.Circuit; cb != nil && cb.Failed(err, x.attempt) {
		// The downstream's failure, not the record's: it waits for the
		// circuit to close, its attempt not spent.
		a.cfg.Logger.Debug("record failed while the circuit is open; it waits, its retry budget untouched",
			"offset", x.r.Offset, "attempt", x.run(), "error", err)
		x.free++
		a.mode.retry(x)
		return false
	}
	step := a.cfg.Pipeline.After(err, x.attempt)
	a.cfg.Logger.Warn("record failed", "offset", x.r.Offset, "attempt", x.attempt,
		"next", step.Action, "permanent", step.Directive == supervisor.Permanent, "error", err)
	switch step.Action {
	case supervisor.RetryAfter:
		x.attempt++
		self, root := c.Self(), c.ActorSystem().Root
		a.after(step.Delay, func() { root.Send(self, &due{x: x}) })
		return true
	case supervisor.DeadLetter:
		if a.park != nil && step.Directive == supervisor.Retry {
			a.parkLane(x) // its retries are spent, not for good: park its key
			return false
		}
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
	self, root := a.self, a.h.root
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

// deadLetter writes x to the dead-letter sink; deadDone brings the outcome
// back to the actor.
func (a *partitionActor) deadLetter(c actor.Context, x *rec) {
	a.deadInFlight++
	a.write(x, c.Self(), c.ActorSystem().Root)
}

// write hands x to the dead-letter sink. It touches no actor state, so
// that a retry's timer may call it.
func (a *partitionActor) write(x *rec, self *actor.PID, root *actor.RootContext) {
	f := Failure{Group: a.cfg.Group, Attempts: x.run(), Err: x.lastErr, FailedAt: time.Now()}
	a.cfg.DeadLetter(x.r, f, func(err error) { root.Send(self, &deadDone{r: x, err: err}) })
}

// deadLettered finishes a dead-lettered record, or writes it again after
// Policy.Max if the write failed: its offset is not committed past before
// a write succeeds.
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
		a.deadInFlight++ // the write waiting for its timer
		self, root := c.Self(), c.ActorSystem().Root
		a.after(a.cfg.Pipeline.Policy.Max, func() { a.write(x, self, root) })
		return
	}
	a.cfg.Logger.Error("record dead-lettered", "offset", x.r.Offset, "attempts", x.attempt, "error", x.lastErr)
	a.finishFailed(x)
	a.maybeDrained(c)
}

// finishFailed finishes a record that will not run again (dead-lettered
// or skipped) and counts it.
func (a *partitionActor) finishFailed(x *rec) {
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(0, 0, 0, 1)
	}
	a.mode.finish(x)
	// Its dead letter is written (a copy of its fields).
	if a.recycleRecs {
		x.r.Recycle()
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
	if !a.draining || a.busy > 0 || a.begun > 0 || a.deadInFlight > 0 || len(a.drainTo) == 0 {
		return
	}
	if p := a.park; p != nil && (p.writes > 0 || p.running > 0) {
		return
	}
	for _, to := range a.drainTo {
		if to != nil {
			c.Send(to, &drained{})
		}
	}
	a.drainTo = nil
}
