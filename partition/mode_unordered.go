package partition

import (
	"slices"
	"sort"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"
)

// unorderedChunk is the most records of one unordered run.
const unorderedChunk = 64

// unorderedMode runs records concurrently with no order at all: runs are
// even shares of the queue among the idle workers, and a failed record is
// retried alone, before the queue.
type unorderedMode struct {
	tracked
	pending []entry // records not yet run
	retries []*rec  // records due for another attempt
}

func newUnorderedMode(a *partitionActor) *unorderedMode {
	return &unorderedMode{tracked: tracked{a: a}}
}

func (m *unorderedMode) accept(recs []*kgo.Record) {
	m.tr.grow(len(recs))
	m.pending = slices.Grow(m.pending, len(recs))
	for _, r := range recs {
		m.pending = append(m.pending, entry{r, m.tr.push(r)})
	}
}

// next is a record due for a retry, else a share of the queue (see
// partitionActor.share; at most unorderedChunk).
func (m *unorderedMode) next(idle, most int) *work {
	if len(m.retries) > 0 {
		x := m.retries[0]
		m.retries[0] = nil
		m.retries = m.retries[1:]
		w := m.a.newWork()
		w.ents, w.first, w.retry = []entry{{x.r, x.seq}}, x.run(), x
		return w
	}
	if len(m.pending) == 0 || m.pending[0].seq >= m.window() {
		return nil
	}
	n := m.a.share(len(m.pending), idle, unorderedChunk, most)
	// Only records inside the window run; pending is in offset order.
	if lim := m.window(); m.pending[n-1].seq >= lim {
		n = sort.Search(n, func(i int) bool { return m.pending[i].seq >= lim })
	}
	w := m.a.newWork()
	w.ents, w.first = m.pending[:n:n], 1
	m.pending = m.pending[n:]
	if len(m.pending) == 0 {
		m.pending = nil
	}
	return w
}

// done finishes the run's records that succeeded, decides what follows
// each failure, and queues the records it did not reach again.
func (m *unorderedMode) done(c actor.Context, w *work) (handled, retried int) {
	fi := 0
	// Records before w.reported were finished by a progress tick.
	for fi < len(w.fails) && w.fails[fi].idx < w.reported {
		fi++
	}
	fails := w.fails[fi:]
	for i := w.reported; i < w.done; i++ {
		if fi < len(w.fails) && w.fails[fi].idx == i {
			fi++
			continue
		}
		m.tr.finish(w.ents[i].seq)
		handled++
	}
	for _, f := range fails {
		x := w.retry
		if x == nil {
			e := w.ents[f.idx]
			x = &rec{r: e.r, seq: e.seq, attempt: 1}
		}
		if m.a.failed(c, x, f.err) {
			retried++
		}
	}
	if rest := w.ents[w.done:]; len(rest) > 0 {
		if w.retry != nil {
			m.retries = append([]*rec{w.retry}, m.retries...)
		} else {
			m.pending = append(slices.Clone(rest), m.pending...)
		}
	}
	if m.a.recycleRecs {
		// Records before w.reported all succeeded (progress ticks stop
		// at a run's first failure); the failed ones are queued again.
		fi := 0
		for i := range w.done {
			if fi < len(w.fails) && w.fails[fi].idx == i {
				fi++
				continue
			}
			w.ents[i].r.Recycle()
		}
	}
	m.advance()
	// w.ents are a slice of the queue: let go of the records (and the
	// fetch buffers behind them) now that they are finished or queued
	// again elsewhere.
	clear(w.ents)
	return handled, retried
}

func (m *unorderedMode) retry(x *rec) { m.retries = append(m.retries, x) }

func (m *unorderedMode) finish(x *rec) {
	m.tr.finish(x.seq)
	m.advance()
}
