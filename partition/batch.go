package partition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/supervisor"
)

// Batch makes a partition actor hand its handler records in batches
// (Config.Batch): partition mode only, each batch a run of consecutive
// records of the partition in offset order, at most Max of them (fewer
// when fewer are fetched and waiting: a batch never waits to fill).
//
// A batch that fails is retried whole with the pipeline's policy. When
// its attempts are spent, it is bisected: each half runs once, a half
// that fails is split again, down to single records; a record that fails
// alone is dead-lettered (or skipped where dead-lettering is off) with
// its own headers, and every other record of the batch is handled once
// more at most. A *FailedRecords error fails only the records it names:
// the others of the batch are done, and the named ones are retried alone
// with the policy, then dead-lettered. A permanent error skips the
// retries and bisects at once.
type Batch struct {
	// Handle runs one attempt (1 for the first) of recs, in offset order.
	Handle func(ctx context.Context, recs []*kgo.Record, attempt int) error
	// Max is the most records of a batch, between 1 and MaxBatch.
	Max int
	// Wait is how long fewer than Max waiting records wait for more
	// before they run as a smaller batch; zero runs what is there at
	// once. Not negative.
	Wait time.Duration
	// Start, when set, runs a batch's first attempt in two steps, so
	// that the partition's next batch does not wait for this one's
	// outcome: Start begins the attempt and returns wait, which blocks
	// until its outcome and returns what Handle would. Batches of a
	// partition start one at a time, in offset order, each once the
	// one before it has started; wait runs on a goroutine of its own,
	// and a batch whose wait fails goes on there as with Handle
	// (retries and bisection through Handle, dead letters) while the
	// later batches run. Records are marked in offset order: a batch's
	// once every batch before it is finished.
	Start func(ctx context.Context, recs []*kgo.Record) (wait func() error)
	// Pipeline is the most batches of a partition out at once with
	// Start (started and not finished), 1 to MaxPipeline; zero is
	// DefaultPipeline. Without Start it must be zero.
	Pipeline int
}

// DefaultPipeline is Batch.Pipeline when zero: enough batches out that
// one waits for its outcome while the next is started and handed over.
const DefaultPipeline = 4

// MaxPipeline is the largest Batch.Pipeline.
const MaxPipeline = 64

// pipeline is the most batches out at once: 1 without Start.
func (b *Batch) pipeline() int {
	switch {
	case b.Start == nil:
		return 1
	case b.Pipeline == 0:
		return DefaultPipeline
	}
	return b.Pipeline
}

// MaxBatch is the largest Batch.Max: the most records partition mode
// hands a handler at once.
const MaxBatch = partitionChunk

// FailedRecords is a batch handler's error that fails only the records
// at Indexes (into the batch it was given) with Err; the others of the
// batch are done.
type FailedRecords struct {
	Indexes []int
	Err     error
}

// Error names the failed indexes and why.
func (e *FailedRecords) Error() string {
	return fmt.Sprintf("records %v of the batch failed: %v", e.Indexes, e.Err)
}

// Unwrap returns Err.
func (e *FailedRecords) Unwrap() error { return e.Err }

func (b *Batch) validate(c Config) error {
	switch {
	case b.Handle == nil:
		return errors.New("partition config: Batch.Handle is not set")
	case c.Handle != nil || c.HandlerProps != nil:
		return errors.New("partition config: Batch is set with Handle or HandlerProps")
	case c.Ordering != ByPartition:
		return fmt.Errorf("partition config: Batch needs partition ordering, not %v", c.Ordering)
	case b.Max < 1 || b.Max > MaxBatch:
		return fmt.Errorf("partition config: Batch.Max %d is not between 1 and %d", b.Max, MaxBatch)
	case b.Wait < 0:
		return fmt.Errorf("partition config: Batch.Wait %v is negative", b.Wait)
	case b.Start == nil && b.Pipeline != 0:
		return fmt.Errorf("partition config: Batch.Pipeline %d is set without Batch.Start", b.Pipeline)
	case b.Pipeline < 0 || b.Pipeline > MaxPipeline:
		return fmt.Errorf("partition config: Batch.Pipeline %d is not between 1 and %d", b.Pipeline, MaxPipeline)
	}
	return nil
}

// runBatch runs w's records (a partition-mode run of at most Batch.Max)
// as batches until each is handled, dead-lettered or skipped, or the
// partition drains: then w.done is the finished prefix and the rest go
// back to the queue. It reports nothing as a failure to the partition
// actor: retries, bisection and dead letters are the batch's own, and
// it counts them (Hooks.Finished) as they happen; w.dead are the records
// of w dead-lettered or skipped, which partition mode does not count as
// handled.
//
// first, when not nil, is the outcome of the first attempt of w's first
// batch, begun with Batch.Start: it runs in place of that attempt.
func (h *handlerActor) runBatch(w *work, first func() error) {
	b := h.cfg.Batch
	p := h.cfg.Pipeline
	recs := w.recs[w.done:]
	failed, retried := 0, 0
	defer func() {
		if h.cfg.Hooks.Finished != nil && (failed > 0 || retried > 0) {
			h.cfg.Hooks.Finished(0, failed, retried, 0)
		}
	}()
	stopped := func() bool { return w.stop.Load() || h.ctx.Err() != nil }
	// wait sleeps d unless the partition drains first.
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-h.ctx.Done():
			return false
		}
	}
	run := func(rs []*kgo.Record, attempt int) error {
		if f := first; f != nil {
			first = nil
			err := f()
			if err != nil {
				failed++
			}
			return err
		}
		ctx := h.ctx
		if d := h.cfg.HandlerTimeout; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		var err error
		if w.started {
			err = recovered(func() error { return b.Handle(ctx, rs, attempt) })
		} else {
			err = b.Handle(ctx, rs, attempt)
		}
		if err != nil {
			failed++
		}
		return err
	}
	// retries runs rs with the policy from attempt 1; it returns the
	// last error (nil once it succeeded) and the attempts made.
	retries := func(rs []*kgo.Record) (error, int) {
		for attempt := 1; ; attempt++ {
			err := run(rs, attempt)
			if err == nil {
				return nil, attempt
			}
			var fr *FailedRecords
			if len(rs) > 1 && errors.As(err, &fr) {
				return err, attempt
			}
			step := p.After(err, attempt)
			if step.Action != supervisor.RetryAfter || stopped() {
				return err, attempt
			}
			retried++
			if !wait(step.Delay) {
				return err, attempt
			}
		}
	}
	// dead finishes r, which failed for good after attempts with err.
	dead := func(r *kgo.Record, attempts int, err error) bool {
		if fr := (*FailedRecords)(nil); errors.As(err, &fr) {
			err = fr.Err // the record's own failure, not the batch's
		}
		h.cfg.Logger.Error("record of a batch failed alone; dead-lettering it", "offset", r.Offset, "attempts", attempts, "error", err)
		if h.cfg.DeadLetter == nil {
			h.cfg.Logger.Error("no dead-letter topic; skipping it", "offset", r.Offset)
		} else {
			for {
				done := make(chan error, 1)
				f := Failure{Group: h.cfg.Group, Attempts: attempts, Err: err, FailedAt: time.Now()}
				h.cfg.DeadLetter(r, f, func(err error) { done <- err })
				var werr error
				select {
				case werr = <-done:
				case <-h.ctx.Done():
					return false
				}
				if werr == nil {
					break
				}
				h.cfg.Logger.Error("dead-letter write failed; retrying it", "offset", r.Offset, "error", werr)
				if !wait(p.Policy.Max) {
					return false
				}
			}
		}
		w.dead++
		if h.cfg.Hooks.Finished != nil {
			h.cfg.Hooks.Finished(0, 0, 0, 1)
		}
		return true
	}
	// solve finishes rs (consecutive records) after the batch they are
	// failed with err, attempts having been made: it reports whether all
	// of rs are finished (false: the partition drains).
	var solve func(rs []*kgo.Record, err error, attempts int) bool
	solve = func(rs []*kgo.Record, err error, attempts int) bool {
		var fr *FailedRecords
		if errors.As(err, &fr) {
			// The handler named its failures: the others are done.
			bad := slices.Clone(fr.Indexes)
			slices.Sort(bad)
			for _, i := range slices.Compact(bad) {
				if i < 0 || i >= len(rs) {
					continue
				}
				if stopped() {
					return false
				}
				if rerr, n := retries(rs[i : i+1]); rerr != nil && !dead(rs[i], n, rerr) {
					return false
				}
			}
			return true
		}
		if len(rs) == 1 {
			return dead(rs[0], attempts, err)
		}
		half := len(rs) / 2
		for _, part := range [][]*kgo.Record{rs[:half], rs[half:]} {
			if stopped() {
				return false
			}
			perr := run(part, attempts+1)
			if perr != nil && !solve(part, perr, attempts+1) {
				return false
			}
		}
		return true
	}
	for start := 0; start < len(recs); start += b.Max {
		if stopped() {
			return
		}
		rs := recs[start:min(start+b.Max, len(recs))]
		err, n := retries(rs)
		if err != nil && !solve(rs, err, n) {
			return // drained: the finished prefix is w.done
		}
		w.done += len(rs)
	}
}

// batchStarted tells the partition actor that w's first attempt has
// begun (Batch.Start): its worker is free for the next batch, and w comes
// back when it is finished.
type batchStarted struct{ w *work }

// startBatch begins w's batch with Batch.Start, frees this worker for the
// partition's next batch, and finishes w on a goroutine of its own: the
// wait for the first attempt's outcome, then retries, bisection and dead
// letters as runBatch does. A panic in Start, in its wait or in a retry's
// Handle is that attempt's failure (a *supervisor.PanicError): the
// goroutine is outside the supervisor's reach.
func (h *handlerActor) startBatch(c actor.Context, w *work) {
	begun := time.Now()
	ctx, cancel := h.ctx, context.CancelFunc(func() {})
	if d := h.cfg.HandlerTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	var wait func() error
	err := recovered(func() error {
		wait = h.cfg.Batch.Start(ctx, w.recs)
		return nil
	})
	w.started = true
	parent, root := c.Parent(), c.ActorSystem().Root
	c.Send(parent, &batchStarted{w: w})
	go func() {
		h.runBatch(w, func() error {
			defer cancel()
			if err != nil {
				return err
			}
			if wait == nil {
				return errors.New("partition: Batch.Start returned no wait")
			}
			return recovered(wait)
		})
		cancel() // a drain may have ended w before its wait was called
		w.took = time.Since(begun)
		root.Send(parent, w)
	}()
}

// recovered runs f, a panic in it returned as a *supervisor.PanicError.
func recovered(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &supervisor.PanicError{Value: p}
		}
	}()
	return f()
}

// nextBatch is partition mode's next run for a batch consumer: one batch
// of at most Max records from the front of seq (across fetches), once Max
// are waiting or the first of them has waited Wait.
func (m *partitionMode) nextBatch(b *Batch, most int) *work {
	queued := 0
	for _, s := range m.seq {
		if queued += len(s); queued >= b.Max {
			break
		}
	}
	now := time.Now()
	if m.since.IsZero() {
		m.since = now
	}
	if left := b.Wait - now.Sub(m.since); queued < b.Max && left > 0 {
		if !m.armed.After(now) {
			m.armed = now.Add(left)
			root, self := m.a.h.root, m.a.h.pid
			m.a.after(left, func() { root.Send(self, &progressTick{}) })
		}
		return nil
	}
	n := min(queued, b.Max)
	if most > 0 {
		n = min(n, most)
	}
	var recs []*kgo.Record
	if front := m.seq[0]; len(front) >= n {
		recs = front[:n:n]
		if n == len(front) {
			m.seq[0] = nil
			m.seq = m.seq[1:]
		} else {
			m.seq[0] = front[n:]
		}
	} else {
		// The batch spans fetches: copy it out of them.
		recs = make([]*kgo.Record, 0, n)
		for len(recs) < n {
			front := m.seq[0]
			k := min(len(front), n-len(recs))
			recs = append(recs, front[:k]...)
			if k == len(front) {
				m.seq[0] = nil
				m.seq = m.seq[1:]
			} else {
				m.seq[0] = front[k:]
			}
		}
	}
	m.since = time.Time{}
	w := m.a.newWork()
	w.recs, w.first, w.stopOnFail = recs, 1, true
	if b.Start != nil {
		m.starting = true
		w.ticket = m.base + len(m.pend)
		m.pend = append(m.pend, pended{recs: recs})
	} else {
		m.busy = true
	}
	return w
}

// pended is a batch out with Batch.Start, in offset order among the
// others: its records, and once it is back (back) how many of them, from
// the front, are finished (done) and how many of those it dead-lettered.
type pended struct {
	recs       []*kgo.Record
	back       bool
	done, dead int
}

// settle takes back w, a batch begun with Batch.Start, and marks the
// batches at the front of pend that are back, in offset order: a batch
// finished before one ahead of it waits for it. A batch back unfinished
// (only a drain or a stop ends one early) cuts the marking: what follows
// it is left to the partition's next owner. It returns the records it
// finished that were handled (not dead-lettered).
func (m *partitionMode) settle(w *work) (handled int) {
	p := &m.pend[w.ticket-m.base]
	p.back, p.done, p.dead = true, w.done, w.dead
	for len(m.pend) > 0 && m.pend[0].back {
		p := m.pend[0]
		if !m.cut && p.done > 0 {
			m.a.markRecord(p.recs[p.done-1], p.done)
			handled += max(p.done-p.dead, 0)
		}
		if p.done < len(p.recs) {
			m.cut = true
		}
		clear(p.recs[:p.done])
		m.pend[0] = pended{}
		m.pend = m.pend[1:]
		m.base++
	}
	return handled
}
