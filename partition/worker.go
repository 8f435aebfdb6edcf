package partition

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/internal/mailbox"
	"github.com/actord/actord/supervisor"
)

// work is a run of records handed to one handler actor, and, on its way
// back, the outcome. The handler actor owns it between the two sends.
type work struct {
	owner  *partitionActor
	worker *actor.PID
	outAt  int // its place in partitionActor.out while out
	// recs are partition mode's records, a slice of a fetched batch; ents
	// those of key and unordered modes. Only the first record can be on a
	// retry: first is its attempt. retry is the failed record that an
	// unordered run of one record tries again.
	recs  []*kgo.Record
	ents  []entry
	first int
	retry *rec
	// segs are key mode's keys: ents holds the records of several lanes,
	// one segment each, so that one message carries more than a key's few.
	segs []seg
	si   int // the segment being run
	// stopOnFail: ordered modes stop a lane at its first failure: the run
	// (partition mode) or the rest of the lane's segment (key mode).
	stopOnFail bool
	stop       *atomic.Bool

	cur   int // the record being run
	done  int // records run (finished or failed), from the front
	fails []failed
	// progress is the count of records, from the front, that succeeded
	// with no failure before them; the partition actor reads it while the
	// work runs, and reported is how many of those it has finished.
	progress atomic.Int32
	reported int
	// dead are the records of a batch run (Config.Batch) that it
	// dead-lettered or skipped itself: finished, not handled.
	dead int
	// took is how long the handler actor ran it (zero after a panic).
	took time.Duration
	// started: its batch's first attempt was begun with Batch.Start and
	// its worker freed for the next (partition mode: the batch's place
	// among those out is ticket).
	started bool
	ticket  int
}

type failed struct {
	idx int
	err error
}

// Crashed implements supervisor.Crashable: the handler actor panicked while
// running recs[cur]. The panic is that record's failed attempt; the work
// goes back to the partition actor like any finished run.
func (w *work) Crashed(reason any) {
	w.fails = append(w.fails, failed{idx: w.cur, err: &supervisor.PanicError{Value: reason}})
	w.done = w.cur + 1
	w.owner.h.root.Send(w.owner.h.pid, w)
}

var _ supervisor.Crashable = (*work)(nil)

// len is the number of records in w.
func (w *work) len() int {
	if w.recs != nil {
		return len(w.recs)
	}
	return len(w.ents)
}

// seg is one lane's records in a key-mode run, ents[start:end]; the first
// is on attempt first.
type seg struct {
	lane       *lane
	start, end int
	first      int
}

// at is record i of w and the attempt it is on; the handler asks in
// order.
func (w *work) at(i int) (*kgo.Record, int) {
	if w.segs != nil {
		for w.segs[w.si].end <= i {
			w.si++
		}
		n := 1
		if s := w.segs[w.si]; i == s.start {
			n = s.first
		}
		return w.ents[i].r, n
	}
	n := 1
	if i == 0 {
		n = w.first
	}
	if w.recs != nil {
		return w.recs[i], n
	}
	return w.ents[i].r, n
}

// succeeded is, for a run that stops at its first failure, how many
// records from the front succeeded and the failure that stopped it (nil
// if none did).
func (w *work) succeeded() (int, error) {
	if len(w.fails) == 0 {
		return w.done, nil
	}
	f := w.fails[len(w.fails)-1]
	return f.idx, f.err
}

// handlerActor runs records: inline through HandlerFunc, or by delivering
// them to the service's own actor (a sibling under the partition actor, so
// that its crash is seen while this actor waits for it).
type handlerActor struct {
	cfg   *Config
	ctx   context.Context
	child *actor.PID
	disp  *mailbox.Loop // runs its mailbox
	clock timing        // attempt durations, when Hooks.Attempts is set
}

func (a *partitionActor) workerProps(child *actor.PID) *actor.Props {
	cfg, ctx := a.cfg, a.ctx
	d := mailbox.NewLoop(ctx)
	return actor.PropsFromProducer(func() actor.Actor { return &handlerActor{cfg: cfg, ctx: ctx, child: child, disp: d} },
		actor.WithDispatcher(d))
}

// Receive implements actor.Actor.
func (h *handlerActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *work:
		if b := h.cfg.Batch; b != nil && b.Start != nil {
			h.startBatch(c, m)
			return
		}
		start := time.Now()
		h.run(c, m)
		m.took = time.Since(start)
		c.Send(c.Parent(), m)
	case *actor.Stopped:
		h.disp.Close()
	}
}

func (h *handlerActor) run(c actor.Context, w *work) {
	if h.cfg.Batch != nil {
		h.runBatch(w, nil)
		return
	}
	timed := h.cfg.Hooks.Attempts != nil
	if timed {
		h.clock.begin(h.cfg.Hooks.Attempts)
		// A panic leaves through here too: what ran before it counts.
		defer h.clock.end()
	}
	cb := h.cfg.Circuit
	for i := w.done; i < w.len(); i++ {
		// A drain, or an open circuit (but for the one record of its
		// probe, which comes alone), ends the run between records: the
		// rest go back to their queue.
		if w.stop.Load() || cb != nil && i > 0 && cb.Open() {
			return
		}
		w.cur = i
		r, n := w.at(i)
		err := h.attempt(c, r, n)
		if timed {
			h.clock.lap()
		}
		w.done = i + 1
		if err != nil {
			w.fails = append(w.fails, failed{idx: i, err: err})
			if cb != nil {
				cb.OpenOn(err)
			}
			switch {
			case !w.stopOnFail:
			case w.segs != nil:
				// The rest of this key waits; the other keys run.
				i = w.segs[w.si].end - 1
				w.done = i + 1
			default:
				return
			}
			continue
		}
		if len(w.fails) == 0 {
			w.progress.Store(int32(i + 1))
		}
	}
}

func (h *handlerActor) attempt(c actor.Context, r *kgo.Record, n int) (err error) {
	ctx := h.ctx
	if t := h.cfg.HandlerTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if wrap := h.cfg.Hooks.Attempt; wrap != nil {
		var end func(error)
		ctx, end = wrap(ctx, r, n)
		defer func() {
			if p := recover(); p != nil {
				// The panic goes on to the supervisor (supervisor.Crashable);
				// the hook sees it as the attempt's failure first.
				end(&supervisor.PanicError{Value: p})
				panic(p)
			}
			end(err)
		}()
	}
	if h.child != nil {
		d := &Delivery{Ctx: ctx, Record: r, Attempt: n, done: make(chan error, 1)}
		if dec := h.cfg.Decode; dec != nil {
			v, err := dec(r)
			if err != nil {
				return err
			}
			d.Value = v
		}
		c.Send(h.child, d)
		return h.wait(ctx, d.done)
	}
	if h.cfg.HandlerTimeout <= 0 {
		return h.cfg.Handle(ctx, r, n)
	}
	// A handler that ignores its context still cannot hold the partition
	// past the timeout: it is abandoned and the attempt fails.
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- &supervisor.PanicError{Value: p}
			}
		}()
		done <- h.cfg.Handle(ctx, r, n)
	}()
	return h.wait(ctx, done)
}

func (h *handlerActor) wait(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if h.ctx.Err() != nil {
			return h.ctx.Err()
		}
		return fmt.Errorf("%w after %v", supervisor.ErrHandlerTimeout, h.cfg.HandlerTimeout)
	}
}
