package partition_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// In key mode the records of one key run one at a time in offset order,
// retries included, while a retrying key holds back no other key.
func TestKeyModeKeepsPerKeyOrderWhileOtherKeysProceed(t *testing.T) {
	gate, open := newGate(t)
	var mu sync.Mutex
	next := map[string]int64{} // per key, the offset that may start next
	byKey := map[string][]int64{}
	done := 0
	recs := records(300, 6)
	for _, r := range recs {
		if _, ok := byKey[string(r.Key)]; !ok {
			next[string(r.Key)] = r.Offset
		}
		byKey[string(r.Key)] = append(byKey[string(r.Key)], r.Offset)
	}
	r := start(t, partition.Config{
		Ordering: partition.ByKey, Concurrency: 4,
		Pipeline: supervisor.Pipeline{Policy: fastPolicy(1000)},
		Handle: func(_ context.Context, rec *kgo.Record, attempt int) error {
			k := string(rec.Key)
			mu.Lock()
			if want := next[k]; rec.Offset != want {
				t.Errorf("key %s: offset %d started, want %d next", k, rec.Offset, want)
			}
			mu.Unlock()
			// Key k0's first record fails until the gate opens; a few
			// others fail once.
			if rec.Offset == 0 {
				select {
				case <-gate:
				default:
					return errBoom
				}
			} else if rec.Offset%7 == 0 && attempt == 1 {
				return errBoom
			}
			mu.Lock()
			defer mu.Unlock()
			ks := byKey[k]
			for i, off := range ks {
				if off == rec.Offset && i+1 < len(ks) {
					next[k] = ks[i+1]
				}
			}
			done++
			return nil
		},
	})
	for i := 0; i < len(recs); i += 50 {
		r.h.Deliver(recs[i : i+50])
	}
	others := len(recs) - len(byKey["k0"])
	waitFor(t, "every other key's records handled while k0 retries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return done == others
	})
	if r.markedTo(1) {
		t.Fatal("offset 0 marked before it succeeded")
	}
	open()
	waitFor(t, "every record marked", func() bool { return r.markedTo(int64(len(recs))) })
	if r.retried.Load() < 2 {
		t.Errorf("%d retries counted, want k0's and the others'", r.retried.Load())
	}
}

// Every mode finishes every record exactly once, across many batches, with
// failures sprinkled among them, and marks the end.
func TestEveryRecordFinishesOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		a := newAttempts()
		const n = 3000
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency, MaxInFlight: 400,
			Handle: failing(a, func(r *kgo.Record, attempt int) error {
				if r.Offset%13 == 0 && attempt == 1 {
					return fmt.Errorf("offset %d: %w", r.Offset, errBoom)
				}
				return nil
			}),
		}, withDeadLetter(0))
		recs := records(n, 50)
		for i := 0; i < n; i += 100 {
			waitFor(t, "room", func() bool { return !r.h.Full() })
			r.h.Deliver(recs[i : i+100])
		}
		waitFor(t, "every record marked", func() bool { return r.markedTo(n) })
		ok := a.successes()
		for off := int64(0); off < n; off++ {
			if ok[off] != 1 {
				t.Fatalf("offset %d succeeded %d times, want once", off, ok[off])
			}
		}
		if got := r.handled.Load(); got != n {
			t.Errorf("Finished counted %d handled, want %d", got, n)
		}
		if r.h.InFlight() != 0 {
			t.Errorf("%d records still in flight", r.h.InFlight())
		}
		if len(r.deadLetters()) != 0 {
			t.Errorf("%d dead letters", len(r.deadLetters()))
		}
	})
}
