package partition

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// partitionChunk is the most records of one partition-mode run.
const partitionChunk = 2048

// partitionMode runs one record of the partition at a time, in offset
// order. It needs no tracker and allocates nothing per record: seq is its
// queue (fetched batches in offset order, none empty, the runs slices of
// them), and every record ahead of seq is finished, so a finished run is
// marked at once.
type partitionMode struct {
	a   *partitionActor
	seq [][]*kgo.Record
	// head is the front record's state once it has failed.
	head    *rec
	busy    bool // a worker has a run
	waiting bool // a retry backoff or a dead-letter write holds the partition
	// since is when the records waiting for a batch (Config.Batch) began
	// to wait, armed when the timer that ends their wait fires.
	since, armed time.Time
	// With Batch.Start, pend are the batches out, in offset order, the
	// first of them the batch numbered base; starting is set while the
	// last one sent has not begun (the next must not begin before it);
	// cut once one came back unfinished (see settle).
	pend     []pended
	base     int
	starting bool
	cut      bool
}

func newPartitionMode(a *partitionActor) *partitionMode { return &partitionMode{a: a} }

func (m *partitionMode) accept(recs []*kgo.Record) { m.seq = append(m.seq, recs) }

// next is up to partitionChunk records from the front of seq, the first on
// head's attempt if it failed before.
func (m *partitionMode) next(_, most int) *work {
	if m.busy || m.waiting || len(m.seq) == 0 {
		return nil
	}
	if b := m.a.cfg.Batch; b != nil {
		if m.starting || m.cut || len(m.pend) >= b.pipeline() {
			return nil
		}
		return m.nextBatch(b, most)
	}
	m.busy = true
	front := m.seq[0]
	n := min(len(front), partitionChunk)
	if most > 0 {
		n = min(n, most)
	}
	w := m.a.newWork()
	w.recs, w.first, w.stopOnFail = front[:n:n], 1, true
	if m.head != nil {
		w.first = m.head.run()
	}
	if n == len(front) {
		m.seq[0] = nil
		m.seq = m.seq[1:]
	} else {
		m.seq[0] = front[n:]
	}
	return w
}

// progress marks through the run's last succeeded record: it is the only
// run out, and all before it is finished.
func (m *partitionMode) progress(w *work, upTo int) {
	m.a.markRecord(w.recs[upTo-1], upTo-w.reported)
}

// done marks the records that succeeded and puts the failed one (the last
// it ran, if any) and those it did not reach back at the front of seq.
func (m *partitionMode) done(c actor.Context, w *work) (handled, retried int) {
	if b := m.a.cfg.Batch; b != nil && b.Start != nil {
		return m.settle(w), 0
	}
	m.busy = false
	ok, ferr := w.succeeded()
	finished := max(ok-w.reported, 0)
	if finished > 0 {
		m.a.markRecord(w.recs[ok-1], finished)
	}
	// A batch run's dead letters are finished, not handled.
	handled = max(finished-w.dead, 0)
	if ok > 0 {
		m.head = nil // the head ran through
	}
	// w.recs is a slice of the fetched batch: let go of the finished
	// records (and the fetch buffers behind them).
	if m.a.recycleRecs {
		for _, r := range w.recs[:ok] {
			r.Recycle()
		}
	}
	clear(w.recs[:ok])
	if rest := w.recs[ok:]; len(rest) > 0 {
		m.seq = append([][]*kgo.Record{rest}, m.seq...)
	}
	if ferr != nil {
		if m.head == nil {
			m.head = &rec{r: w.recs[ok], attempt: 1}
		}
		m.waiting = true
		if m.a.failed(c, m.head, ferr) {
			retried++
		}
	}
	return handled, retried
}

func (m *partitionMode) retry(*rec) { m.waiting = false }

// started lets the next batch begin: the last one sent has (Batch.Start).
func (m *partitionMode) started() { m.starting = false }

// finish pops x, the head of seq with everything before it finished, and
// marks it.
func (m *partitionMode) finish(x *rec) {
	if len(m.seq) > 0 && m.seq[0][0] == x.r {
		front := m.seq[0]
		front[0] = nil
		if len(front) == 1 {
			m.seq[0] = nil
			m.seq = m.seq[1:]
		} else {
			m.seq[0] = front[1:]
		}
		m.a.markRecord(x.r, 1)
	}
	m.head = nil
	m.waiting = false
}
