package partition_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// mode is one ordering mode with the concurrency its tests run it at.
type mode struct {
	name        string
	ordering    partition.Ordering
	concurrency int
}

var modes = []mode{
	{"partition", partition.ByPartition, 1},
	{"key", partition.ByKey, 4},
	{"unordered", partition.Unordered, 4},
}

// eachMode runs the same scenario in all three modes.
func eachMode(t *testing.T, fn func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { fn(t, m) })
	}
}

// fastPolicy retries quickly so that tests of retries run in milliseconds.
func fastPolicy(maxRetries int) supervisor.Policy {
	return supervisor.Policy{MaxRetries: maxRetries, Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}
}

var errBoom = errors.New("boom")

type mark struct {
	epoch  int32
	offset int64
}

type deadLetter struct {
	r *kgo.Record
	f partition.Failure
}

// run is one partition actor under test with everything it calls out to
// recorded: marks, dead letters, pauses, resumes, room calls and the
// Finished counts.
type run struct {
	t *testing.T
	h *partition.Handle

	mu    sync.Mutex
	marks []mark
	dead  []deadLetter
	// dlWrites counts dead-letter writes; the first dlFail of them fail.
	dlWrites, dlFail int
	// onMark, when set, sees each mark (under mu).
	onMark func(mark)

	pauses, resumes, rooms                 atomic.Int32
	handled, failed, retried, deadLettered atomic.Int64
	stopped                                bool
}

// option changes the config start spawns with; it may refer to the run.
type option func(*run, *partition.Config)

// withDeadLetter turns dead-lettering on with a sink whose first fail
// writes fail.
func withDeadLetter(fail int) option {
	return func(r *run, cfg *partition.Config) {
		r.dlFail = fail
		cfg.DeadLetter = r.writeDeadLetter
	}
}

// start spawns a partition actor for cfg in its own actor system and
// stops both when the test ends.
func start(t *testing.T, cfg partition.Config, opts ...option) *run {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	r := &run{t: t}
	if cfg.Topic == "" {
		cfg.Group, cfg.Topic = "g", "t"
	}
	if cfg.Pipeline.Policy == (supervisor.Policy{}) {
		cfg.Pipeline.Policy = fastPolicy(3)
	}
	cfg.Mark = r.mark
	cfg.Pause = func() { r.pauses.Add(1) }
	cfg.Resume = func() { r.resumes.Add(1) }
	cfg.Room = func() { r.rooms.Add(1) }
	cfg.Hooks.Finished = func(handled, failed, retried, dead int) {
		r.handled.Add(int64(handled))
		r.failed.Add(int64(failed))
		r.retried.Add(int64(retried))
		r.deadLettered.Add(int64(dead))
	}
	for _, o := range opts {
		o(r, &cfg)
	}
	r.h = partition.Spawn(sys.Root, sys.Root, cfg)
	t.Cleanup(func() {
		if !r.stopped {
			r.h.Drop()
		}
	})
	return r
}

func (r *run) mark(epoch int32, offset int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := mark{epoch, offset}
	if n := len(r.marks); n > 0 && r.marks[n-1].offset >= offset {
		r.t.Errorf("mark %d after mark %d: marks must grow", offset, r.marks[n-1].offset)
	}
	r.marks = append(r.marks, m)
	if r.onMark != nil {
		r.onMark(m)
	}
}

func (r *run) writeDeadLetter(rec *kgo.Record, f partition.Failure, done func(error)) {
	r.mu.Lock()
	r.dlWrites++
	var err error
	if r.dlWrites <= r.dlFail {
		err = fmt.Errorf("dead-letter write %d refused", r.dlWrites)
	} else {
		r.dead = append(r.dead, deadLetter{rec, f})
	}
	r.mu.Unlock()
	go done(err) // acknowledged later, as a producer does
}

// last is the last mark, with ok false before the first.
func (r *run) last() (m mark, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.marks) == 0 {
		return mark{}, false
	}
	return r.marks[len(r.marks)-1], true
}

// markedTo reports whether the last mark is at least next.
func (r *run) markedTo(next int64) bool {
	m, ok := r.last()
	return ok && m.offset >= next
}

func (r *run) deadLetters() []deadLetter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]deadLetter(nil), r.dead...)
}

func (r *run) drain(timeout time.Duration) bool {
	r.stopped = true
	return r.h.Drain(timeout)
}

func (r *run) drop() {
	r.stopped = true
	r.h.Drop()
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// records are n records from offset 0, key "k" + offset%keys (every
// record its own key when keys is 0), leader epoch 1.
func records(n, keys int) []*kgo.Record { return recordsFrom(0, n, keys) }

// recordsFrom are records' n records from offset from.
func recordsFrom(from, n, keys int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		off := from + i
		k := off
		if keys > 0 {
			k = off % keys
		}
		out[i] = &kgo.Record{Topic: "t", Offset: int64(off), LeaderEpoch: 1, Key: fmt.Appendf(nil, "k%d", k)}
	}
	return out
}

// deliverEach delivers recs one batch a record.
func (r *run) deliverEach(recs []*kgo.Record) {
	for i := range recs {
		r.h.Deliver(recs[i : i+1])
	}
}

// attempts records every attempt a handler starts, per offset.
type attempts struct {
	mu sync.Mutex
	by map[int64][]int
	at map[int64][]time.Time
	ok map[int64]int // successful attempts per offset
}

func newAttempts() *attempts {
	return &attempts{by: map[int64][]int{}, at: map[int64][]time.Time{}, ok: map[int64]int{}}
}

func (a *attempts) started(r *kgo.Record, attempt int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.by[r.Offset] = append(a.by[r.Offset], attempt)
	a.at[r.Offset] = append(a.at[r.Offset], time.Now())
}

func (a *attempts) succeeded(r *kgo.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok[r.Offset]++
}

func (a *attempts) of(off int64) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.by[off]...)
}

func (a *attempts) times(off int64) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at[off]...)
}

// each calls fn with every offset's count of successful attempts.
func (a *attempts) successes() map[int64]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[int64]int, len(a.ok))
	for k, v := range a.ok {
		out[k] = v
	}
	return out
}

// failing is a handler that records its attempts and fails an attempt
// when fail says so.
func failing(a *attempts, fail func(r *kgo.Record, attempt int) error) partition.HandlerFunc {
	return func(_ context.Context, r *kgo.Record, attempt int) error {
		a.started(r, attempt)
		if err := fail(r, attempt); err != nil {
			return err
		}
		a.succeeded(r)
		return nil
	}
}

// newGate is a channel that handlers block on until open is called or the
// test ends, so that no handler outlives its test.
func newGate(t *testing.T) (gate <-chan struct{}, open func()) {
	ch := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return ch, open
}
