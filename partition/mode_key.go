package partition

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// keyChunk is the most records of one key-mode run.
const keyChunk = 256

// keyMode runs records of different keys concurrently and records of one
// key in offset order: each key is a lane, and a run packs segments of
// several ready lanes so that keys with a few records each share one
// message; a retrying key holds back only itself.
type keyMode struct {
	tracked
	lanes map[string]*lane
	// ready are the lanes with dispatchable records, first in first out
	// (ready[readyAt:]; the array is reused).
	ready   []*lane
	readyAt int
	// readyRecs counts the records of the ready lanes.
	readyRecs int
	// beyond are the accepted records past the window, in offset order:
	// the fetched batches (or the rest of the first), the first record
	// of sequence number beyondSeq. They join their lanes as the window
	// reaches them, so that a lane holds only records that may run.
	// Records arrive in offset order and the window only grows, so they
	// are the tail of what was accepted, and the batches themselves can
	// hold them: no copy of a record pointer (and its write barrier) per
	// record.
	beyond    [][]*kgo.Record
	beyondSeq int64
	// admitting guards admit against itself: parking a record may finish
	// it, which moves the window, which admits.
	admitting bool
}

// lane is one key's records, q, which run one at a time, in order; all
// of them are inside the window. Only its first record can have failed
// before; head is then its state.
type lane struct {
	key     string
	q       []entry
	head    *rec
	busy    bool // a worker has records of it
	waiting bool // a retry backoff or a dead-letter write holds it
	ready   bool // queued in the ready list
}

func newKeyMode(a *partitionActor) *keyMode {
	m := &keyMode{tracked: tracked{a: a}, lanes: map[string]*lane{}}
	m.moved = m.admit
	return m
}

func (m *keyMode) accept(recs []*kgo.Record) {
	m.tr.grow(len(recs))
	m.sweep()
	first := int64(-1)
	for _, r := range recs {
		if seq := m.tr.push(r); first < 0 {
			first = seq
		}
	}
	if len(m.beyond) == 0 {
		m.beyondSeq = first
	}
	m.beyond = append(m.beyond, recs)
	m.admit()
}

// admit moves the records that the window has reached from beyond into
// their lanes.
func (m *keyMode) admit() {
	if m.admitting {
		return
	}
	m.admitting = true
	for len(m.beyond) > 0 && m.beyondSeq < m.window() {
		b := m.beyond[0]
		r := b[0]
		if len(b) == 1 {
			m.beyond[0] = nil
			m.beyond = m.beyond[1:]
		} else {
			m.beyond[0] = b[1:]
		}
		seq := m.beyondSeq
		m.beyondSeq++
		m.take(r, seq)
	}
	if len(m.beyond) == 0 {
		m.beyond = nil
	}
	m.admitting = false
}

// take puts r, of tracker seq and inside the window, into parking if its
// key is parked, else in its key's lane.
func (m *keyMode) take(r *kgo.Record, seq int64) {
	if m.a.park != nil && m.a.parkAccept(r, seq) {
		return
	}
	l, ok := m.lanes[string(r.Key)]
	if !ok {
		l = &lane{key: string(r.Key)}
		m.lanes[l.key] = l
	}
	l.q = append(l.q, entry{r, seq})
	if l.ready {
		m.readyRecs++
	} else {
		m.makeReady(l)
	}
}

// sweep forgets idle empty lanes once there are many: keeping them saves
// re-creating a lane per key per batch, sweeping bounds the map.
func (m *keyMode) sweep() {
	if len(m.lanes) <= max(4*m.a.cfg.MaxInFlight, 4096) {
		return
	}
	for k, l := range m.lanes {
		if len(l.q) == 0 && l.head == nil && !l.waiting && !l.busy {
			delete(m.lanes, k)
		}
	}
}

// makeReady queues l in the ready list if it has records that may run.
func (m *keyMode) makeReady(l *lane) {
	if l.ready || l.busy || l.waiting || len(l.q) == 0 {
		return
	}
	l.ready = true
	if m.readyAt > 0 && len(m.ready) == cap(m.ready) {
		n := copy(m.ready, m.ready[m.readyAt:])
		clear(m.ready[n:])
		m.ready, m.readyAt = m.ready[:n], 0
	}
	m.ready = append(m.ready, l)
	m.readyRecs += len(l.q)
}

// len is the number of ready lanes.
func (m *keyMode) len() int { return len(m.ready) - m.readyAt }

// popReady takes the first ready lane off the ready list.
func (m *keyMode) popReady() *lane {
	l := m.ready[m.readyAt]
	m.ready[m.readyAt] = nil
	m.readyAt++
	if m.readyAt == len(m.ready) {
		m.ready, m.readyAt = m.ready[:0], 0
	}
	l.ready = false
	m.readyRecs -= len(l.q)
	return l
}

// next is records of ready lanes, one segment per lane, up to a share of
// the ready records (see partitionActor.share; at most keyChunk). Keys
// with a few records each share one message, and slow handlers still
// spread over every worker.
func (m *keyMode) next(idle, most int) *work {
	if m.readyAt == len(m.ready) {
		return nil
	}
	share := m.a.share(m.readyRecs, idle, keyChunk, most)
	w := m.a.newWork()
	w.stopOnFail = true
	// A recycled run brings its arrays (see partitionActor.recycle).
	if cap(w.ents) < share {
		w.ents = make([]entry, 0, share)
	}
	if w.segs == nil {
		w.segs = make([]seg, 0, min(share, m.len()))
	}
	for len(w.ents) < share && m.readyAt < len(m.ready) {
		l := m.popReady()
		k := min(len(l.q), share-len(w.ents))
		first := 1
		if l.head != nil {
			first = l.head.run()
		}
		w.segs = append(w.segs, seg{lane: l, start: len(w.ents), end: len(w.ents) + k, first: first})
		w.ents = append(w.ents, l.q[:k]...)
		clear(l.q[:k])
		if k == len(l.q) {
			l.q = l.q[:0] // keep the array for the key's next records
		} else {
			l.q = l.q[k:]
		}
		l.busy = true
	}
	return w
}

// done settles each key of the run: the records before its failure (if
// any) are finished, the failed one and those not reached go back to the
// front of its lane.
func (m *keyMode) done(c actor.Context, w *work) (handled, retried int) {
	fi := 0
	for _, sg := range w.segs {
		l := sg.lane
		l.busy = false
		// Records [start, start+ok) succeeded: those run, up to a failure.
		ok := min(max(w.done-sg.start, 0), sg.end-sg.start)
		var ferr error
		for ; fi < len(w.fails) && w.fails[fi].idx < sg.end; fi++ {
			if f := w.fails[fi]; f.idx >= sg.start {
				ok, ferr = f.idx-sg.start, f.err
			}
		}
		// Records before w.reported were finished by a progress tick.
		for i := max(sg.start, w.reported); i < sg.start+ok; i++ {
			m.tr.finish(w.ents[i].seq)
			handled++
		}
		if ok > 0 {
			l.head = nil
			if m.a.recycleRecs {
				for _, e := range w.ents[sg.start : sg.start+ok] {
					e.r.Recycle()
				}
			}
		}
		if rest := w.ents[sg.start+ok : sg.end]; len(rest) > 0 {
			q := make([]entry, 0, len(rest)+len(l.q))
			q = append(q, rest...)
			l.q = append(q, l.q...)
		}
		if ferr != nil && m.failed(c, l, w.ents[sg.start+ok], ferr) {
			retried++
		}
		m.makeReady(l)
	}
	m.advance()
	// w.ents are copies: let go of the records (and the fetch buffers
	// behind them) now that they are finished or queued again.
	clear(w.ents)
	return handled, retried
}

// failed hands the failure of l's front record e to the actor; l waits for
// the backoff or the dead-letter write.
func (m *keyMode) failed(c actor.Context, l *lane, e entry, err error) bool {
	if l.head == nil {
		l.head = &rec{r: e.r, seq: e.seq, attempt: 1, lane: l}
	}
	l.waiting = true
	return m.a.failed(c, l.head, err)
}

func (m *keyMode) retry(x *rec) {
	x.lane.waiting = false
	m.makeReady(x.lane)
}

// finish pops x off the front of its lane and lets the lane run on.
func (m *keyMode) finish(x *rec) {
	l := x.lane
	m.tr.finish(x.seq)
	if len(l.q) > 0 && l.q[0].seq == x.seq {
		l.q[0] = entry{}
		l.q = l.q[1:]
	}
	l.head = nil
	l.waiting = false
	m.makeReady(l)
	m.advance()
}
