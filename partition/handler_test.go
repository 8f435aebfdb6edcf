package partition_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// serviceActor is a service's own handler actor: it gets *Delivery, panics
// on offset 3's first attempt, fails offset 4's first attempt through
// Done, and counts its starts (a restart starts it again).
type serviceActor struct {
	a       *attempts
	started *atomic.Int32
}

func (s *serviceActor) Receive(c actor.Context) {
	switch d := c.Message().(type) {
	case *actor.Started:
		s.started.Add(1)
	case *partition.Delivery:
		s.a.started(d.Record, d.Attempt)
		switch {
		case d.Record.Offset == 3 && d.Attempt == 1:
			panic("service actor down")
		case d.Record.Offset == 4 && d.Attempt == 1:
			d.Done(errBoom)
			d.Done(nil) // a second Done is ignored
			return
		}
		s.a.succeeded(d.Record)
		d.Done(nil)
	}
}

// A service's own handler actors receive every record as a *Delivery; a
// panic is a failed attempt, the actor is restarted and the record is
// retried, not lost.
func TestHandlerProps(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		a := newAttempts()
		var started atomic.Int32
		props := actor.PropsFromProducer(func() actor.Actor { return &serviceActor{a: a, started: &started} })
		r := start(t, partition.Config{Ordering: m.ordering, Concurrency: m.concurrency, HandlerProps: props})
		r.h.Deliver(records(8, 3))
		waitFor(t, "every record marked", func() bool { return r.markedTo(8) })
		for _, off := range []int64{3, 4} {
			if got := a.of(off); len(got) != 2 || got[1] != 2 {
				t.Errorf("offset %d ran attempts %v, want [1 2]", off, got)
			}
		}
		if ok := a.successes(); len(ok) != 8 {
			t.Errorf("%d records succeeded, want 8", len(ok))
		}
		if got := r.failed.Load(); got != 2 {
			t.Errorf("Finished counted %d failed attempts, want 2 (the panic and the error)", got)
		}
		waitFor(t, "the crashed actor restarted", func() bool { return int(started.Load()) >= m.concurrency+1 })
	})
}

// An attempt that outlives HandlerTimeout fails with ErrHandlerTimeout and
// is retried: whether the handler heeds its context, ignores it, or is a
// service actor that never calls Done.
func TestHandlerTimeout(t *testing.T) {
	gate, _ := newGate(t)
	cases := []struct {
		name string
		cfg  func(a *attempts) partition.Config
	}{
		{"handler heeds its context", func(a *attempts) partition.Config {
			return partition.Config{Handle: func(ctx context.Context, r *kgo.Record, n int) error {
				a.started(r, n)
				if r.Offset == 2 {
					<-ctx.Done()
					return ctx.Err()
				}
				return nil
			}, HandlerTimeout: 20 * time.Millisecond}
		}},
		{"handler ignores its context", func(a *attempts) partition.Config {
			return partition.Config{Handle: func(_ context.Context, r *kgo.Record, n int) error {
				a.started(r, n)
				if r.Offset == 2 {
					<-gate // until the test ends
				}
				return nil
			}, HandlerTimeout: 20 * time.Millisecond}
		}},
		{"service actor never calls Done", func(a *attempts) partition.Config {
			props := actor.PropsFromFunc(func(c actor.Context) {
				if d, ok := c.Message().(*partition.Delivery); ok {
					a.started(d.Record, d.Attempt)
					if d.Record.Offset != 2 {
						d.Done(nil)
					}
				}
			})
			return partition.Config{HandlerProps: props, HandlerTimeout: 20 * time.Millisecond}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAttempts()
			cfg := c.cfg(a)
			cfg.Pipeline.Policy = fastPolicy(1)
			r := start(t, cfg, withDeadLetter(0))
			r.h.Deliver(records(4, 0))
			waitFor(t, "every record marked", func() bool { return r.markedTo(4) })
			dl := r.deadLetters()
			if len(dl) != 1 || dl[0].r.Offset != 2 || dl[0].f.Attempts != 2 {
				t.Fatalf("dead letters %+v, want offset 2 after 2 attempts", dl)
			}
			if err := dl[0].f.Err; !errors.Is(err, supervisor.ErrHandlerTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("failure %v, want a handler timeout", err)
			}
		})
	}
}

// An inline handler that panics under a timeout fails its attempt with a
// PanicError, which is retried.
func TestInlinePanicUnderTimeout(t *testing.T) {
	a := newAttempts()
	r := start(t, partition.Config{
		HandlerTimeout: time.Second,
		Handle: failing(a, func(r *kgo.Record, n int) error {
			if r.Offset == 1 && n == 1 {
				panic("inline handler down")
			}
			return nil
		}),
	}, withDeadLetter(0))
	r.h.Deliver(records(3, 0))
	waitFor(t, "every record marked", func() bool { return r.markedTo(3) })
	if got := a.of(1); len(got) != 2 {
		t.Errorf("offset 1 ran attempts %v, want [1 2]", got)
	}
}

// Hooks.Attempts gets every attempt's duration, in batches.
func TestAttemptsHookCountsEveryAttempt(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		var mu sync.Mutex
		n := 0
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency,
			Handle: failing(newAttempts(), func(r *kgo.Record, attempt int) error {
				if r.Offset == 7 && attempt == 1 {
					return errBoom
				}
				return nil
			}),
			Hooks: partition.Hooks{Attempts: func(timed []time.Duration, fast int, _ time.Duration) {
				mu.Lock()
				n += len(timed) + fast
				mu.Unlock()
			}},
		})
		r.h.Deliver(records(500, 10))
		waitFor(t, "every record marked", func() bool { return r.markedTo(500) })
		waitFor(t, "every attempt reported", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return n == 501
		})
	})
}
