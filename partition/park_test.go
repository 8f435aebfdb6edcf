package partition_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// retryLog is a retry topic partition in memory: writes append, acked
// later as a producer's are; Load reads it all back.
type retryLog struct {
	mu   sync.Mutex
	recs []partition.ParkRecord
}

func (l *retryLog) park(schedule ...time.Duration) *partition.Park {
	return &partition.Park{
		Schedule: schedule,
		Write: func(pr partition.ParkRecord, done func(error)) {
			l.mu.Lock()
			l.recs = append(l.recs, pr)
			l.mu.Unlock()
			go done(nil)
		},
		Load: func(context.Context) ([]partition.ParkRecord, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			return slices.Clone(l.recs), nil
		},
	}
}

func (l *retryLog) kinds() map[partition.ParkKind]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[partition.ParkKind]int{}
	for _, r := range l.recs {
		out[r.Kind]++
	}
	return out
}

// keyed records the successful handlings of each key, in order.
type keyed struct {
	mu   sync.Mutex
	seen map[string][]int64
	n    int
}

func (k *keyed) add(r *kgo.Record) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen[string(r.Key)] = append(k.seen[string(r.Key)], r.Offset)
	k.n++
}

func (k *keyed) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

func (k *keyed) check(t *testing.T, n int) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	once := map[int64]int{}
	for key, offs := range k.seen {
		for i, o := range offs {
			once[o]++
			if i > 0 && o <= offs[i-1] {
				t.Errorf("key %s: offset %d after %d", key, o, offs[i-1])
			}
		}
	}
	for o := range int64(n) {
		if once[o] != 1 {
			t.Errorf("offset %d handled %d times, want once", o, once[o])
		}
	}
}

// A key whose downstream refuses it for a while is parked: its records
// go to the retry topic, the partition's offset moves on and every other
// key is handled meanwhile; when the key's downstream is back, its records
// are handled in order, and nothing is dead-lettered. A new owner of the
// partition reads the parked records back and finishes them.
func TestParkingKeepsKeyOrderAndLetsOtherKeysFlow(t *testing.T) {
	const n, keys = 400, 10
	var log retryLog
	var refuse atomic.Bool
	refuse.Store(true)
	seen := &keyed{seen: map[string][]int64{}}
	handle := func(_ context.Context, r *kgo.Record, _ int) error {
		if string(r.Key) == "k3" && refuse.Load() {
			return errBoom
		}
		seen.add(r)
		return nil
	}
	cfg := partition.Config{Ordering: partition.ByKey, Concurrency: 4, Handle: handle,
		Pipeline: supervisor.Pipeline{Policy: fastPolicy(1)}, Park: log.park(5*time.Millisecond, 10*time.Millisecond, time.Hour)}
	r := start(t, cfg, withDeadLetter(0))
	r.h.Deliver(records(n, keys))
	// Every record is finished for the source (handled or parked) while
	// k3 is still refused: the mark reaches the end.
	waitFor(t, "the mark to pass the parked key", func() bool { return r.markedTo(n) })
	if got, want := seen.count(), n-n/keys; got != want {
		t.Fatalf("handled %d records while k3 is refused, want the other keys' %d", got, want)
	}
	kinds := log.kinds()
	if kinds[partition.ParkHead] != 1 || kinds[partition.ParkFollow] != n/keys-1 {
		t.Fatalf("retry topic holds %v, want 1 head and %d followers of k3", kinds, n/keys-1)
	}
	// The owner goes; a new one reads the parked records back, and k3's
	// downstream comes back (its schedule's next attempt is an hour away
	// from the parking: the new owner waits for it, so move it along by
	// restarting with a short schedule).
	r.drop()
	refuse.Store(false)
	cfg.Park = log.park(5 * time.Millisecond)
	r2 := start(t, cfg, withDeadLetter(0))
	waitFor(t, "k3's records handled by the new owner", func() bool { return seen.count() == n })
	waitFor(t, "every parked record marked done", func() bool { return log.kinds()[partition.ParkDone] == n/keys })
	seen.check(t, n)
	if d := r2.deadLetters(); len(d) > 0 {
		t.Errorf("%d dead letters, want none", len(d))
	}
}

// A record that fails every attempt is dead-lettered after the whole
// schedule, and its key's later records are handled after it, in order.
func TestParkingDeadLettersAfterTheSchedule(t *testing.T) {
	const n, keys = 50, 5
	var log retryLog
	seen := &keyed{seen: map[string][]int64{}}
	attempts := newAttempts()
	handle := func(_ context.Context, r *kgo.Record, attempt int) error {
		attempts.started(r, attempt)
		if r.Offset == 2 { // key k2's first record
			return errBoom
		}
		seen.add(r)
		return nil
	}
	r := start(t, partition.Config{Ordering: partition.ByKey, Concurrency: 4, Handle: handle,
		Pipeline: supervisor.Pipeline{Policy: fastPolicy(1)},
		Park:     log.park(5*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond)}, withDeadLetter(0))
	r.h.Deliver(records(n, keys))
	waitFor(t, "the poison record dead-lettered", func() bool { return len(r.deadLetters()) == 1 })
	waitFor(t, "every other record handled", func() bool { return seen.count() == n-1 })
	d := r.deadLetters()[0]
	if d.r.Offset != 2 || d.f.Attempts != 2+3 {
		t.Errorf("dead letter of offset %d after %d attempts, want offset 2 after 5 (2 in memory, 3 parked)", d.r.Offset, d.f.Attempts)
	}
	if got := attempts.of(2); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Errorf("attempts of the poison record %v, want 1 to 5", got)
	}
	seen.mu.Lock()
	k2 := slices.Clone(seen.seen["k2"])
	seen.mu.Unlock()
	if want := []int64{7, 12, 17, 22, 27, 32, 37, 42, 47}; !slices.Equal(k2, want) {
		t.Errorf("k2 handled %v, want its later records in order %v", k2, want)
	}
	seen.check2(t, n, 2)
}

// check2 is check with the offset skip not handled.
func (k *keyed) check2(t *testing.T, n int, skip int64) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	once := map[int64]int{}
	for _, offs := range k.seen {
		for _, o := range offs {
			once[o]++
		}
	}
	for o := range int64(n) {
		if want := btoi(o != skip); once[o] != want {
			t.Errorf("offset %d handled %d times, want %d", o, once[o], want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
