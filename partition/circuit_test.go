package partition_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// An outage of the downstream (every attempt fails as unavailable) opens
// the consumer's circuit: records stop running but for one probe at a
// time, no failure spends a record's retry budget, nothing is
// dead-lettered; once the downstream is back the first probe closes the
// circuit and every record is handled once, in order where the mode keeps
// it. Two partition actors share the circuit, as a consumer's do.
func TestCircuitOutageDeadLettersNothing(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		const n, keys = 300, 20
		var closedAfter atomic.Int64 // probes sent until the circuit closed
		cb := supervisor.NewCircuit(supervisor.CircuitConfig{ProbeInitial: 5 * time.Millisecond, ProbeMax: 20 * time.Millisecond},
			supervisor.CircuitHooks{Closed: func(_ time.Duration, probes int) { closedAfter.Add(int64(probes)) }})
		var (
			down      atomic.Bool
			downCalls atomic.Int64
			mu        sync.Mutex
			order     = map[int32]map[string][]int64{} // per actor, per key: offsets handled
			handled   = map[int32]map[int64]int{}
		)
		down.Store(true)
		handle := func(p int32) partition.HandlerFunc {
			return func(_ context.Context, r *kgo.Record, _ int) error {
				if down.Load() {
					downCalls.Add(1)
					return supervisor.Unavailable(errBoom, 0)
				}
				mu.Lock()
				defer mu.Unlock()
				order[p][string(r.Key)] = append(order[p][string(r.Key)], r.Offset)
				handled[p][r.Offset]++
				return nil
			}
		}
		var runs []*run
		for p := range int32(2) {
			order[p], handled[p] = map[string][]int64{}, map[int64]int{}
			r := start(t, partition.Config{Partition: p, Ordering: m.ordering, Concurrency: m.concurrency,
				Pipeline: supervisor.Pipeline{Policy: fastPolicy(1)}, Circuit: cb, Handle: handle(p)}, withDeadLetter(0))
			r.h.Deliver(records(n, keys))
			runs = append(runs, r)
		}
		// The circuit opens, and then only probes run: a few dozen over
		// 100 ms at most, where without it every record would have spent
		// its two attempts and been dead-lettered.
		waitFor(t, "the circuit to open", cb.Open)
		atOpen := downCalls.Load()
		waitFor(t, "probes while the circuit is open", func() bool { return downCalls.Load() >= atOpen+3 })
		down.Store(false)
		for _, r := range runs {
			waitFor(t, "every record marked", func() bool { return r.markedTo(n) })
		}
		if cb.Open() {
			t.Error("the circuit is still open")
		}
		for p, r := range runs {
			if d := r.deadLetters(); len(d) > 0 {
				t.Errorf("partition %d: %d dead letters for an outage, want none", p, len(d))
			}
			if got := r.retried.Load(); got != 0 {
				t.Errorf("partition %d: %d retries scheduled, want none (no budget spent)", p, got)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for p := range int32(2) {
			for off := range int64(n) {
				if handled[p][off] != 1 {
					t.Fatalf("partition %d offset %d handled %d times, want once", p, off, handled[p][off])
				}
			}
			if m.ordering == partition.Unordered {
				continue
			}
			for k, offs := range order[p] {
				for i := 1; i < len(offs); i++ {
					if offs[i] <= offs[i-1] {
						t.Fatalf("partition %d key %s: offset %d after %d", p, k, offs[i], offs[i-1])
					}
				}
			}
		}
		// What ran while the downstream was down: the records already
		// running when the circuit opened (one a worker a partition), and
		// the probes.
		if calls, bound := downCalls.Load(), int64(2*m.concurrency)+closedAfter.Load(); calls > bound {
			t.Errorf("%d attempts while the downstream was down, want at most %d (in flight at the opening, then probes)", calls, bound)
		}
	})
}
