package actors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
)

// DefaultStallTimeout is how long a partition with unfinished records may
// keep its committed offset before the runtime reports it stalled.
const DefaultStallTimeout = 5 * time.Minute

// StallTimeout sets how long an assigned partition that has records it
// has not finished may go without its committed offset moving before the
// runtime reports it stalled: a warning naming the partition and the
// record it is stuck on (offset, attempt, last error), the gauge
// actord_partition_stalled at 1, and Ready (/readyz) failing with the
// partition's name, until the offset moves again. A handler that blocks,
// a record retried forever (MaxRetries with long backoffs) or a
// dead-letter topic that refuses every write stall a partition; a slow
// handler that finishes records does not. Longer than the longest
// handler timeout and backoff you expect. 0 turns detection off. Default
// DefaultStallTimeout.
func StallTimeout(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < 0 {
			s.bad("actors.StallTimeout(%s): must be 0 (off) or positive", d)
			return
		}
		s.stallTimeout = d
	})
}

// stallNote is what a partition's handler wrapper knows of the retry
// running now and the last attempt that failed, for the stall report. Its
// fields are written per retry, without allocating (a failure stores one
// pointer); a first attempt writes nothing.
type stallNote struct {
	offset  atomic.Int64
	attempt atomic.Int64
	failed  atomic.Pointer[failedAttempt]
}

type failedAttempt struct {
	offset  int64
	attempt int
	err     string
}

// wrap is h noting each attempt in n.
func (n *stallNote) wrap(h partition.HandlerFunc) partition.HandlerFunc {
	if h == nil {
		return nil
	}
	return func(ctx context.Context, r *kgo.Record, attempt int) error {
		if attempt > 1 {
			// First attempts are the hot path and need no note: a
			// partition stuck on one with no failure noted for it is on
			// its first attempt (describe).
			n.offset.Store(r.Offset)
			n.attempt.Store(int64(attempt))
		}
		err := h(ctx, r, attempt)
		if err != nil {
			n.failed.Store(&failedAttempt{offset: r.Offset, attempt: attempt, err: err.Error()})
		}
		return err
	}
}

// describe says which record the partition is stuck on: the first
// unfinished one (from its marked offset), the attempt running and the
// last error of that record, as far as the note knows them.
func (n *stallNote) describe(resume int64) string {
	parts := []string{fmt.Sprintf("offset %d", resume)}
	if n == nil {
		return parts[0]
	}
	f := n.failed.Load()
	failedHere := f != nil && (f.offset == resume || resume < 0)
	switch a := n.attempt.Load(); {
	case a > 0 && (n.offset.Load() == resume || resume < 0):
		parts = append(parts, fmt.Sprintf("attempt %d", a))
	case !failedHere && resume >= 0:
		parts = append(parts, "attempt 1")
	}
	if failedHere {
		parts = append(parts, fmt.Sprintf("last error (attempt %d): %s", f.attempt, clip(f.err, 200)))
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// note is the stall note of partition p, made on first use.
func (c *consumer) note(p int32) *stallNote {
	v, _ := c.notes.LoadOrStore(p, &stallNote{})
	return v.(*stallNote)
}

// stallWatch watches every assigned partition of the runtime for stalls.
type stallWatch struct {
	rt      *Runtime
	timeout time.Duration
	stop    chan struct{}
	done    chan struct{}

	mu    sync.Mutex
	parts map[stallKey]*stallState
}

type stallKey struct {
	group string
	tp
}

type stallState struct {
	mark    int64
	since   time.Time
	stalled string // the report while stalled, else ""
}

func newStallWatch(rt *Runtime, timeout time.Duration) *stallWatch {
	return &stallWatch{rt: rt, timeout: timeout, stop: make(chan struct{}), done: make(chan struct{}), parts: map[stallKey]*stallState{}}
}

// tick is how often the watch looks: a tenth of the timeout, between
// 100ms and 5s, so a stall is reported within about a tenth of the
// timeout after it passes.
func (w *stallWatch) tick() time.Duration {
	return min(max(w.timeout/10, 100*time.Millisecond), 5*time.Second)
}

func (w *stallWatch) run() {
	defer close(w.done)
	t := time.NewTicker(w.tick())
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.look(now)
		}
	}
}

func (w *stallWatch) close() {
	close(w.stop)
	<-w.done
}

type stallSample struct {
	key      stallKey
	resume   int64
	inFlight int
	note     *stallNote
	// circuit: the consumer's circuit is open, a known and handled state
	// in which nothing is expected to move.
	circuit bool
}

// look compares every assigned partition's marked offset with the last
// look's: a partition with records in flight whose mark has not moved for
// the timeout is stalled.
func (w *stallWatch) look(now time.Time) {
	var samples []stallSample
	w.rt.mu.Lock()
	groups := make([]*group, 0, len(w.rt.order))
	for _, name := range w.rt.order {
		groups = append(groups, w.rt.groups[name])
	}
	w.rt.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		for k, h := range g.parts {
			var note *stallNote
			open := false
			if c := g.consumers()[k.topic]; c != nil {
				note = c.note(k.partition)
				open = c.circuit != nil && c.circuit.Open()
			}
			samples = append(samples, stallSample{stallKey{g.name, k}, h.ResumeOffset(), h.InFlight(), note, open})
		}
		g.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := make(map[stallKey]bool, len(samples))
	for _, s := range samples {
		seen[s.key] = true
		st := w.parts[s.key]
		if st == nil {
			st = &stallState{mark: s.resume, since: now}
			w.parts[s.key] = st
		}
		if s.resume != st.mark || s.inFlight == 0 || s.circuit {
			if st.stalled != "" {
				w.rt.log.Info("partition moving again", "group", s.key.group, "topic", s.key.topic, "partition", s.key.partition, "offset", s.resume)
				w.gauge(s.key).Set(0)
			}
			st.mark, st.since, st.stalled = s.resume, now, ""
			continue
		}
		if st.stalled == "" && now.Sub(st.since) >= w.timeout {
			st.stalled = s.note.describe(s.resume)
			w.rt.log.Warn("partition stalled: its committed offset has not moved for the stall timeout",
				"group", s.key.group, "topic", s.key.topic, "partition", s.key.partition,
				"stuck_on", st.stalled, "stalled_for", now.Sub(st.since).Round(time.Second).String(), "in_flight", s.inFlight)
			w.gauge(s.key).Set(1)
		}
	}
	for k := range w.parts {
		if !seen[k] {
			delete(w.parts, k)
			w.rt.metrics.PartitionStalled.DeleteLabelValues(k.group, k.topic, itoa(int64(k.partition)))
		}
	}
}

func (w *stallWatch) gauge(k stallKey) interface{ Set(float64) } {
	return w.rt.metrics.PartitionStalled.WithLabelValues(k.group, k.topic, itoa(int64(k.partition)))
}

// err names the stalled partitions, nil when none is.
func (w *stallWatch) err() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for k, st := range w.parts {
		if st.stalled != "" {
			out = append(out, fmt.Sprintf("group %s: partition %s/%d stalled (no commit for %s; stuck on %s)",
				k.group, k.topic, k.partition, w.timeout, st.stalled))
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return errors.New(strings.Join(out, "; "))
}
