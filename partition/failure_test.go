package partition_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// A failing record is retried after a growing backoff and, once it
// succeeds, everything is marked; nothing is dead-lettered.
func TestRetryWithBackoffThenSuccess(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		a := newAttempts()
		pol := supervisor.Policy{MaxRetries: 3, Initial: 20 * time.Millisecond, Max: time.Second, Multiplier: 2}
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Pipeline: supervisor.Pipeline{Policy: pol},
			Handle: failing(a, func(r *kgo.Record, attempt int) error {
				if r.Offset == 5 && attempt < 3 {
					return errBoom
				}
				return nil
			}),
		}, withDeadLetter(0))
		r.h.Deliver(records(10, 3))
		waitFor(t, "every record marked", func() bool { return r.markedTo(10) })

		if got := a.of(5); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Fatalf("offset 5 ran attempts %v, want [1 2 3]", got)
		}
		ts := a.times(5)
		for i, min := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
			if gap := ts[i+1].Sub(ts[i]); gap < min {
				t.Errorf("retry %d after %v, want at least %v", i+1, gap, min)
			}
		}
		if dl := r.deadLetters(); len(dl) != 0 {
			t.Errorf("%d records dead-lettered", len(dl))
		}
		// The hook counts a run after its mark: wait for the last count.
		waitFor(t, "the last record counted", func() bool { return r.handled.Load() >= 10 })
		if h, f, re := r.handled.Load(), r.failed.Load(), r.retried.Load(); h != 10 || f != 2 || re != 2 {
			t.Errorf("Finished counted %d handled, %d failed, %d retried; want 10, 2, 2", h, f, re)
		}
	})
}

// Exhausted retries and permanent errors go to the dead-letter sink with
// the attempts made and the last error; the record is then committed past.
func TestDeadLetter(t *testing.T) {
	cases := []struct {
		name         string
		err          error
		wantAttempts int
	}{
		{"retries exhausted", errBoom, 4},
		{"permanent at once", supervisor.PermanentError(errBoom), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachMode(t, func(t *testing.T, m mode) {
				a := newAttempts()
				r := start(t, partition.Config{
					Ordering: m.ordering, Concurrency: m.concurrency,
					Pipeline: supervisor.Pipeline{Policy: fastPolicy(3)},
					Handle: failing(a, func(r *kgo.Record, _ int) error {
						if r.Offset == 3 {
							return c.err
						}
						return nil
					}),
				}, withDeadLetter(0))
				r.h.Deliver(records(8, 2))
				waitFor(t, "every record marked", func() bool { return r.markedTo(8) })

				dl := r.deadLetters()
				if len(dl) != 1 || dl[0].r.Offset != 3 {
					t.Fatalf("dead letters %v, want offset 3 alone", dl)
				}
				f := dl[0].f
				if f.Attempts != c.wantAttempts || !errors.Is(f.Err, errBoom) || f.Group != "g" || f.FailedAt.IsZero() {
					t.Errorf("Failure %+v, want %d attempts of %v in group g", f, c.wantAttempts, errBoom)
				}
				if got := len(a.of(3)); got != c.wantAttempts {
					t.Errorf("offset 3 ran %d attempts, want %d", got, c.wantAttempts)
				}
				if d, h := r.deadLettered.Load(), r.handled.Load(); d != 1 || h != 7 {
					t.Errorf("Finished counted %d dead-lettered, %d handled; want 1, 7", d, h)
				}
			})
		})
	}
}

// A dead-letter write that fails is tried again, and the record's offset
// is not committed past until one succeeds.
func TestFailingDeadLetterWriteIsRetried(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Pipeline: supervisor.Pipeline{Policy: fastPolicy(0)},
			Handle: failing(newAttempts(), func(r *kgo.Record, _ int) error {
				if r.Offset == 2 {
					return supervisor.PermanentError(errBoom)
				}
				return nil
			}),
		}, withDeadLetter(2))
		r.mu.Lock()
		r.onMark = func(mk mark) {
			// Under r.mu: no write has succeeded while none is recorded.
			if mk.offset > 2 && len(r.dead) == 0 {
				r.t.Errorf("marked %d before the dead letter of offset 2 was written", mk.offset)
			}
		}
		r.mu.Unlock()
		r.h.Deliver(records(6, 0))
		waitFor(t, "every record marked", func() bool { return r.markedTo(6) })
		r.mu.Lock()
		writes := r.dlWrites
		r.mu.Unlock()
		if writes != 3 || len(r.deadLetters()) != 1 {
			t.Errorf("%d writes, %d dead letters; want 3 writes (2 refused), 1 dead letter", writes, len(r.deadLetters()))
		}
	})
}

// Without a dead-letter sink a record that will not be retried is logged
// and committed past.
func TestNoDeadLetterSkips(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		a := newAttempts()
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			// DeadLetter true is overruled: there is no sink.
			Pipeline: supervisor.Pipeline{Policy: fastPolicy(2), DeadLetter: true},
			Handle: failing(a, func(r *kgo.Record, _ int) error {
				if r.Offset == 1 || r.Offset == 4 {
					return errBoom
				}
				return nil
			}),
		})
		r.h.Deliver(records(6, 2))
		waitFor(t, "every record marked", func() bool { return r.markedTo(6) })
		for _, off := range []int64{1, 4} {
			if got := len(a.of(off)); got != 3 {
				t.Errorf("offset %d ran %d attempts, want 3", off, got)
			}
		}
		if d := r.deadLettered.Load(); d != 2 {
			t.Errorf("Finished counted %d skipped, want 2", d)
		}
	})
}

// Only the contiguous finished prefix is marked: a record still running
// holds back the mark however many after it finish, and the mark is the
// offset after the last finished record (gaps from compaction included)
// with that record's leader epoch.
func TestMarksOnlyTheContiguousFinishedPrefix(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		gate, open := newGate(t)
		recs := make([]*kgo.Record, 10)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "t", Offset: int64(100 + 2*i), LeaderEpoch: int32(3 + i/5), Key: []byte{byte(i)}}
		}
		blocked := recs[2].Offset
		// The actor clears the entries of finished records: keep what the
		// test reads of the last one.
		last := *recs[len(recs)-1]
		a := newAttempts()
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Handle: failing(a, func(r *kgo.Record, _ int) error {
				if r.Offset == blocked {
					<-gate
				}
				return nil
			}),
		})
		var opened atomic.Bool
		r.mu.Lock()
		r.onMark = func(mk mark) {
			if mk.offset > blocked && !opened.Load() {
				r.t.Errorf("marked %d while offset %d runs", mk.offset, blocked)
			}
		}
		r.mu.Unlock()
		// The records after the blocked one come once it runs, so that no
		// run holds them behind it and they all finish.
		r.deliverEach(recs[:3])
		waitFor(t, "the blocked record running", func() bool { return len(a.of(blocked)) > 0 })
		r.deliverEach(recs[3:])
		// The offset after 102, the last record before the blocked one.
		waitFor(t, "the records before the blocked one marked", func() bool { return r.markedTo(blocked - 1) })
		if m.ordering == partition.Unordered {
			waitFor(t, "every record but the blocked one run", func() bool { return len(a.successes()) == 9 })
		}
		if mk, _ := r.last(); mk.offset != blocked-1 || mk.epoch != 3 {
			t.Errorf("marked %+v while offset %d runs, want %d epoch 3", mk, blocked, blocked-1)
		}
		opened.Store(true)
		open()
		waitFor(t, "every record marked", func() bool { return r.markedTo(last.Offset + 1) })
		if mk, _ := r.last(); mk.offset != last.Offset+1 || mk.epoch != last.LeaderEpoch {
			t.Errorf("last mark %+v, want %d epoch %d", mk, last.Offset+1, last.LeaderEpoch)
		}
		if got := r.h.ResumeOffset(); got != last.Offset+1 {
			t.Errorf("ResumeOffset %d, want %d", got, last.Offset+1)
		}
	})
}
