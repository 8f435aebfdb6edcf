package partition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
func (h *handlerActor) runBatch(w *work) {
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
		ctx := h.ctx
		if d := h.cfg.HandlerTimeout; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		err := b.Handle(ctx, rs, attempt)
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
	m.busy, m.since = true, time.Time{}
	w := m.a.newWork()
	w.recs, w.first, w.stopOnFail = recs, 1, true
	return w
}
