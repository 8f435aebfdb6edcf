package partition

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// mode is an ordering mode: where a partition's records wait, which may
// run next, and how a finished run is settled. One implementation a mode,
// a file each (mode_partition.go, mode_key.go, mode_unordered.go); what
// the modes share (workers, timers, failure decisions, dead letters,
// marking, the drain) is the partition actor's. Every method runs on the
// actor's goroutine.
type mode interface {
	// accept takes a fetched batch, in offset order; the mode owns recs.
	accept(recs []*kgo.Record)
	// next is the next run for one of idle workers (idle > 0), of at most
	// most records (0: no limit), nil when no record may run.
	next(idle, most int) *work
	// progress finishes running work's records [w.reported, upTo), which
	// succeeded with no failure before them, and marks what that frees.
	progress(w *work, upTo int)
	// done settles a run back from its worker: it finishes and marks the
	// records that succeeded, hands each failure to the actor's failed,
	// and queues the records not reached again. It reports the records
	// finished (those not finished by progress already) and the failures
	// that will be retried.
	done(c actor.Context, w *work) (handled, retried int)
	// retry queues x again: its backoff has ended.
	retry(x *rec)
	// finish finishes x, which will not run again (dead-lettered or
	// skipped), and marks what that frees.
	finish(x *rec)
}

var (
	_ mode = (*partitionMode)(nil)
	_ mode = (*keyMode)(nil)
	_ mode = (*unorderedMode)(nil)
)

// Records carry no state of their own in the partition actor until one
// fails: then rec holds what its retries and its dead letter need.
type rec struct {
	r       *kgo.Record
	seq     int64 // its place in the tracker (key and unordered modes)
	attempt int   // the attempt about to run (or that ran last), of its retry budget
	// free counts its attempts that failed while the circuit was open:
	// they spend none of its budget, yet the handler is told the true
	// count (run).
	free    int
	lane    *lane // its key's lane (key mode)
	lastErr error
}

// run is the number of the attempt about to run, as its handler sees it:
// every attempt counts, those an outage took included.
func (x *rec) run() int { return x.attempt + x.free }

// entry is a record of key or unordered mode and its place in the tracker.
type entry struct {
	r   *kgo.Record
	seq int64
}

// tracked is what key and unordered modes share: their records finish out
// of order, so the tracker finds the finished prefix to mark, and the
// window bounds how far past that prefix a record may run.
type tracked struct {
	a  *partitionActor
	tr tracker
	// moved, when set, is called after the finished prefix has moved (the
	// window with it).
	moved func()
}

// window is the sequence number a record must be below to run: at most
// MaxInFlight records past the first unfinished one. Records finished
// above the finished prefix are handled but not committable, and a crash
// re-delivers them; the window bounds them to MaxInFlight a partition,
// however long one key (or one record) holds the prefix back. Fetched
// records past the window wait, within the in-flight cap of the Handle.
func (t *tracked) window() int64 { return t.tr.base + int64(t.a.cfg.MaxInFlight) }

// progress implements mode.
func (t *tracked) progress(w *work, upTo int) {
	for i := w.reported; i < upTo; i++ {
		t.tr.finish(w.ents[i].seq)
	}
	t.advance()
}

// advance marks the finished prefix for commit and releases its records
// from the in-flight count.
func (t *tracked) advance() {
	if n, epoch, last := t.tr.advance(); n > 0 {
		t.a.markThrough(epoch, last, n)
		if t.moved != nil {
			t.moved()
		}
	}
}
