package partition_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// Drain waits for the record a handler holds, marks it, and reports that
// it completed in time.
func TestDrainWaitsForInFlightWork(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		gate, open := newGate(t)
		running := make(chan struct{})
		var returned atomic.Bool
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Handle: func(_ context.Context, rec *kgo.Record, _ int) error {
				if rec.Offset == 0 {
					close(running)
					<-gate
					returned.Store(true)
				}
				return nil
			},
		})
		r.h.Deliver(records(1, 0))
		<-running
		drained := make(chan bool)
		go func() { drained <- r.drain(5 * time.Second) }()
		select {
		case <-drained:
			t.Fatal("Drain returned while a handler holds a record")
		default:
		}
		open()
		if !<-drained {
			t.Fatal("Drain reported a timeout")
		}
		if !returned.Load() {
			t.Error("Drain returned before the handler did")
		}
		if mk, ok := r.last(); !ok || mk.offset != 1 {
			t.Errorf("last mark %+v, want 1", mk)
		}
		r.h.Deliver(records(2, 0)) // ignored: the actor is gone
	})
}

// A drain that outlives its timeout reports it; the record the handler
// held is left unmarked for the partition's next owner, which resumes at
// it.
func TestDrainTimeoutLeavesTheRecordUncommitted(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		running := make(chan struct{}, 1)
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Handle: func(ctx context.Context, rec *kgo.Record, _ int) error {
				if rec.Offset == 3 {
					running <- struct{}{}
					<-ctx.Done() // ended by the stop after the drain
					return ctx.Err()
				}
				return nil
			},
		})
		r.deliverEach(records(6, 0))
		<-running
		waitFor(t, "the records before offset 3 marked", func() bool { return r.markedTo(3) })
		t0 := time.Now()
		if r.drain(50 * time.Millisecond) {
			t.Fatal("Drain reported success while a handler held a record")
		}
		if el := time.Since(t0); el < 50*time.Millisecond {
			t.Errorf("Drain gave up after %v, before its timeout", el)
		}
		if r.markedTo(4) {
			t.Error("offset 3 was marked although it never finished")
		}
		if got := r.h.ResumeOffset(); got != 3 {
			t.Errorf("ResumeOffset %d, want 3", got)
		}
	})
}

// A dead-letter write in flight holds a drain until it is acknowledged;
// one that keeps failing is given up while draining and leaves the record
// uncommitted, one that succeeds commits past it.
func TestDrainWaitsForDeadLetterWrites(t *testing.T) {
	cases := []struct {
		name     string
		writeErr error
		mark     func(int64) bool
	}{
		{"write succeeds", nil, func(m int64) bool { return m >= 2 }},
		{"write fails", errBoom, func(m int64) bool { return m == 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writes := make(chan func(error), 16)
			r := start(t, partition.Config{
				Handle: func(_ context.Context, rec *kgo.Record, _ int) error {
					if rec.Offset == 1 {
						return supervisor.PermanentError(errBoom)
					}
					return nil
				},
				DeadLetter: func(_ *kgo.Record, _ partition.Failure, done func(error)) { writes <- done },
			})
			r.h.Deliver(records(3, 0))
			first := <-writes
			drained := make(chan bool)
			go func() { drained <- r.drain(5 * time.Second) }()
			select {
			case <-drained:
				t.Fatal("Drain returned while a dead-letter write is in flight")
			default:
			}
			first(c.writeErr)
			// A failure that reaches the actor before the drain request is
			// retried: refuse those too, until the drain ends.
			var ok bool
			for wait := true; wait; {
				select {
				case done := <-writes:
					done(c.writeErr)
				case ok = <-drained:
					wait = false
				}
			}
			if !ok {
				t.Fatal("Drain reported a timeout")
			}
			if mk, _ := r.last(); !c.mark(mk.offset) {
				t.Errorf("last mark %d", mk.offset)
			}
		})
	}
}

// Drop marks nothing more, not even what finishes after it, and takes no
// more records.
func TestDropMarksNothingMore(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		running := make(chan struct{}, 1)
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Handle: func(ctx context.Context, rec *kgo.Record, _ int) error {
				if rec.Offset == 5 {
					running <- struct{}{}
					<-ctx.Done()
					return nil // a success, after the drop
				}
				return nil
			},
		})
		recs := records(8, 0)
		r.deliverEach(recs[:6])
		<-running
		// After offset 5 runs, so that no run holds them behind it.
		r.deliverEach(recs[6:])
		waitFor(t, "the records before offset 5 marked", func() bool { return r.markedTo(5) })
		if m.ordering != partition.ByPartition {
			waitFor(t, "the records after offset 5 handled", func() bool { return r.handled.Load() == 7 })
		}
		r.drop()
		before, _ := r.last()
		r.h.Deliver(records(10, 0))
		if after, _ := r.last(); after != before {
			t.Errorf("marked %+v after the drop (was %+v)", after, before)
		}
		if before.offset != 5 || r.h.ResumeOffset() != 5 {
			t.Errorf("last mark %d, ResumeOffset %d; want 5 and 5", before.offset, r.h.ResumeOffset())
		}
	})
}

// At MaxInFlight a partition is full until it is paused or its records
// fall below the mark; a paused one resumes at half the cap, and the
// poller is told of the room either way.
func TestBackpressureAroundMaxInFlight(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		gate, open := newGate(t)
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency, MaxInFlight: 10,
			Handle: func(context.Context, *kgo.Record, int) error { <-gate; return nil },
		})
		if r.h.Full() || !r.h.HasRoom() {
			t.Fatal("an empty partition is full")
		}
		r.h.Deliver(records(6, 0))
		if r.h.Full() || !r.h.HasRoom() || r.h.InFlight() != 6 {
			t.Fatalf("6 of 10 in flight: Full %v, HasRoom %v, InFlight %d", r.h.Full(), r.h.HasRoom(), r.h.InFlight())
		}
		r.h.Pause() // not full: no pause
		if r.pauses.Load() != 0 {
			t.Fatal("paused below the cap")
		}
		r.h.Deliver(recordsFrom(6, 4, 0))
		if !r.h.Full() || r.h.HasRoom() {
			t.Fatalf("10 of 10 in flight: Full %v, HasRoom %v", r.h.Full(), r.h.HasRoom())
		}
		r.h.Pause()
		r.h.Pause()
		if r.pauses.Load() != 1 {
			t.Fatalf("%d pauses, want 1", r.pauses.Load())
		}
		// Paused: not fetched, so neither full nor with room.
		if r.h.Full() || r.h.HasRoom() {
			t.Fatalf("paused: Full %v, HasRoom %v", r.h.Full(), r.h.HasRoom())
		}
		open()
		waitFor(t, "every record marked", func() bool { return r.markedTo(10) })
		if r.resumes.Load() != 1 || r.rooms.Load() < 1 {
			t.Errorf("%d resumes, %d room calls; want 1 and at least 1", r.resumes.Load(), r.rooms.Load())
		}
		if !r.h.HasRoom() || r.h.InFlight() != 0 {
			t.Errorf("drained: HasRoom %v, InFlight %d", r.h.HasRoom(), r.h.InFlight())
		}
	})
}

// A full partition that drains below its mark without being paused tells
// the poller there is room again; a fetch larger than twice the cap moves
// the mark to half of it.
func TestRoomWithoutPause(t *testing.T) {
	gate, open := newGate(t)
	r := start(t, partition.Config{
		MaxInFlight: 10,
		Handle:      func(context.Context, *kgo.Record, int) error { <-gate; return nil },
	})
	r.h.Deliver(records(30, 0))
	if !r.h.Full() {
		t.Fatal("30 in flight with a cap of 10 is not full")
	}
	open()
	waitFor(t, "room", func() bool { return r.rooms.Load() >= 1 })
	if r.resumes.Load() != 0 {
		t.Error("resumed a partition that was never paused")
	}
	// The mark is half the last fetch (15), so room came at 14 or fewer.
	waitFor(t, "every record marked", func() bool { return r.markedTo(30) })
}
