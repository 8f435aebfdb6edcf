package actors

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fetch errors repeat as fast as the client retries (a partition whose
// broker refuses it can fail a thousand times a second), and commit
// errors once a commit interval for each partition, so a group logs them
// per partition at most once an interval, with the count of the errors in
// between, and reports the partitions that keep failing in /readyz until
// they fetch (or commit) again.
const (
	// fetchLogEvery is how often one partition's repeated fetch error is
	// logged again.
	fetchLogEvery = 10 * time.Second
	// fetchTroubleAfter is how long a partition's fetch errors must have
	// lasted before Ready reports it: a blip of a broker is not worth an
	// unready process.
	fetchTroubleAfter = time.Second
	// fetchQuietAfter is how long after its last error a partition that
	// delivered nothing since (it may have nothing new) counts as fetching
	// again.
	fetchQuietAfter = 10 * time.Second
)

// fetchHealth is one group's record of the partitions whose fetches (or,
// in a second one, commits) fail: the poll loop (the commit callback)
// notes errors and successes, Ready reads it.
type fetchHealth struct {
	log  *slog.Logger
	now  func() time.Time
	verb string // what fails: fetch, commit

	mu    sync.Mutex
	parts map[tp]*fetchTrouble
	// troubled is len(parts), read without the lock by moved.
	troubled atomic.Int32
}

// drop forgets k's run; h.mu is held.
func (h *fetchHealth) drop(k tp) {
	if _, ok := h.parts[k]; ok {
		delete(h.parts, k)
		h.troubled.Add(-1)
	}
}

// fetchTrouble is one partition's run of fetch errors since its last
// delivered record.
type fetchTrouble struct {
	err         string // the last error
	first, last time.Time
	count       int // errors in the run
	logged      time.Time
	unlogged    int // errors since the last line
}

func newFetchHealth(log *slog.Logger, verb string) *fetchHealth {
	return &fetchHealth{log: log, now: time.Now, verb: verb, parts: map[tp]*fetchTrouble{}}
}

// failed notes a fetch error of topic's partition p (topic "" and p -1 for
// an error of no one partition, such as a broker that cannot be dialled).
// The first error of a run, and an error unlike the last, are logged at
// once; repeats once every fetchLogEvery, with their count.
func (h *fetchHealth) failed(topic string, p int32, err error) {
	now, msg := h.now(), err.Error()
	h.mu.Lock()
	defer h.mu.Unlock()
	k := tp{topic, p}
	ft := h.parts[k]
	if ft != nil && now.Sub(ft.last) >= fetchQuietAfter {
		ft = nil // an old run that ended without a delivery
	}
	if ft == nil {
		if h.parts[k] == nil {
			h.troubled.Add(1)
		}
		ft = &fetchTrouble{first: now}
		h.parts[k] = ft
	}
	ft.count++
	ft.last = now
	switch {
	case ft.err != msg:
		ft.err = msg
		h.log.Warn(h.verb+" error", "topic", topic, "partition", p, "error", msg)
		ft.logged, ft.unlogged = now, 0
	case now.Sub(ft.logged) >= fetchLogEvery:
		h.log.Warn(h.verb+" error repeated", "topic", topic, "partition", p, "error", msg,
			"times", ft.unlogged+1, "over", now.Sub(ft.logged).Round(time.Millisecond).String(),
			"failing_for", now.Sub(ft.first).Round(time.Millisecond).String())
		ft.logged, ft.unlogged = now, 0
	default:
		ft.unlogged++
	}
}

// moved notes records delivered (a commit done) for topic's partition p:
// a run of errors it had is over.
func (h *fetchHealth) moved(topic string, p int32) {
	if h.troubled.Load() == 0 {
		return // the common case, without the lock
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := tp{topic, p}
	ft := h.parts[k]
	if ft == nil {
		return
	}
	h.drop(k)
	h.log.Info(h.verb+" recovered", "topic", topic, "partition", p,
		"errors", ft.count, "failed_for", ft.last.Sub(ft.first).Round(time.Millisecond).String(), "last_error", ft.err)
}

// forget drops the runs of topic's partitions: the topic is subscribed
// afresh.
func (h *fetchHealth) forget(topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.parts {
		if k.topic == topic {
			h.drop(k)
		}
	}
}

// trouble describes the partitions whose fetches have failed for at least
// fetchTroubleAfter and are still failing, "" when there are none.
func (h *fetchHealth) trouble() string {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k, ft := range h.parts {
		if now.Sub(ft.last) >= fetchQuietAfter {
			h.drop(k)
			continue
		}
		if now.Sub(ft.first) < fetchTroubleAfter || k.partition < 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s/%d failing to %s for %v (%d errors): %s",
			k.topic, k.partition, h.verb, now.Sub(ft.first).Round(time.Second), ft.count, ft.err))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
