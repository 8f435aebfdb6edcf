package partition

import (
	"sort"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// keyChunk is the most records of one key-mode run.
const keyChunk = 64

// keyMode runs records of different keys concurrently and records of one
// key in offset order: each key is a lane, and a run packs segments of
// several ready lanes so that keys with a few records each share one
// message; a retrying key holds back only itself.
type keyMode struct {
	tracked
	lanes map[string]*lane
	ready []*lane // lanes with dispatchable records
	// readyRecs counts the records of the ready lanes.
	readyRecs int
	// held are idle lanes whose next record is past the window, by that
	// record's sequence number: they become ready as the window reaches it.
	held heldLanes
}

// lane is one key's records, q, which run one at a time, in order. Only
// its first record can have failed before; head is then its state.
type lane struct {
	key     string
	q       []entry
	head    *rec
	busy    bool // a worker has records of it
	waiting bool // a retry backoff or a dead-letter write holds it
	ready   bool // queued in the ready list
	held    bool // in the held heap: its next record is past the window
}

// heldLanes is a min-heap of lanes by the sequence number of their next
// record, which does not change while a lane is held. It is written out
// for *lane rather than through container/heap: lanes are held and
// released at the rate records arrive, and the interface calls showed.
type heldLanes []*lane

func (h heldLanes) key(i int) int64 { return h[i].q[0].seq }

// push adds l.
func (h *heldLanes) push(l *lane) {
	*h = append(*h, l)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s.key(p) <= s.key(i) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// pop takes the lane with the lowest next record off the heap.
func (h *heldLanes) pop() *lane {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && s.key(r) < s.key(c) {
			c = r
		}
		if s.key(i) <= s.key(c) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

func newKeyMode(a *partitionActor) *keyMode {
	m := &keyMode{tracked: tracked{a: a}, lanes: map[string]*lane{}}
	m.moved = m.unhold
	return m
}

func (m *keyMode) accept(recs []*kgo.Record) {
	m.tr.grow(len(recs))
	m.sweep()
	for _, r := range recs {
		if m.a.park != nil {
			if seq := m.tr.push(r); !m.a.parkAccept(r, seq) {
				m.queue(r, seq)
			}
			continue
		}
		m.queue(r, m.tr.push(r))
	}
}

// queue puts r, of tracker seq, in its key's lane.
func (m *keyMode) queue(r *kgo.Record, seq int64) {
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
		if len(l.q) == 0 && l.head == nil && !l.waiting && !l.busy && !l.held {
			delete(m.lanes, k)
		}
	}
}

// makeReady queues l in the ready list if it has records that may run,
// or in the held heap if its next record is past the window.
func (m *keyMode) makeReady(l *lane) {
	if l.ready || l.held || l.busy || l.waiting || len(l.q) == 0 {
		return
	}
	if l.q[0].seq >= m.window() {
		l.held = true
		m.held.push(l)
		return
	}
	l.ready = true
	m.ready = append(m.ready, l)
	m.readyRecs += len(l.q)
}

// unhold makes ready the held lanes that the window has reached.
func (m *keyMode) unhold() {
	lim := m.window()
	for len(m.held) > 0 && m.held[0].q[0].seq < lim {
		l := m.held.pop()
		l.held = false
		m.makeReady(l)
	}
}

// popReady takes the first ready lane off the ready list.
func (m *keyMode) popReady() *lane {
	l := m.ready[0]
	m.ready[0] = nil
	m.ready = m.ready[1:]
	l.ready = false
	m.readyRecs -= len(l.q)
	return l
}

// next is records of ready lanes, one segment per lane, up to an even
// share of the ready records among the idle workers (at most keyChunk).
// Keys with a few records each share one message, and slow handlers still
// spread over every worker.
func (m *keyMode) next(idle, most int) *work {
	if len(m.ready) == 0 {
		return nil
	}
	share := min(max((m.readyRecs+idle-1)/idle, 1), keyChunk)
	if most > 0 {
		share = min(share, most)
	}
	w := m.a.newWork()
	w.stopOnFail = true
	w.ents, w.segs = make([]entry, 0, share), make([]seg, 0, min(share, len(m.ready)))
	for len(w.ents) < share && len(m.ready) > 0 {
		l := m.popReady()
		k := min(len(l.q), share-len(w.ents))
		// Only records inside the window run; the rest of the lane waits
		// (its first record is inside: the window only grows).
		if lim := m.window(); l.q[k-1].seq >= lim {
			k = sort.Search(k, func(i int) bool { return l.q[i].seq >= lim })
		}
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
