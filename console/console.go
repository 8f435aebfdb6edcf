// Package console is actord's status console: a page at / and a JSON API
// at /api/ served beside /metrics on the runtime's listener
// (actors.ServeMetrics, the daemon's http.listen). It shows the consumer
// groups of the process, each owned partition (committed and end offsets,
// lag in records and in time, in-flight records, state), throughput and
// handler latency (p50, p99) over the last minutes, retries and dead
// letters per consumer, the latest records of each dead-letter topic and
// the cluster's topics.
//
// Actions (replaying dead letters through package dlq, pausing and
// resuming a consumer) are off unless the console is given an admin
// token; every POST then needs that token as a bearer token and passes
// net/http's cross-origin protection. The page's assets are embedded
// (go:embed), so a binary serves it with no network and no build step.
//
// The console samples its Source once a second while someone has asked
// for /api/ in the last minute, and every 10 seconds otherwise, keeping
// ten minutes of history for the charts. docs/console.md documents the
// API.
package console

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// sampleEvery is the sampling interval while the page is watched.
	sampleEvery = time.Second
	// idleSampleEvery is the sampling interval when nobody asked for the
	// API within watchedFor: the history keeps going at a lower
	// resolution and the cluster is asked for offsets less often.
	idleSampleEvery = 10 * time.Second
	watchedFor      = time.Minute
	// sampleTimeout bounds one Status call and the time-lag reads after it.
	sampleTimeout = 5 * time.Second
)

// Options configure a Console.
type Options struct {
	// AdminToken turns actions on: POST requests must carry it as
	// "Authorization: Bearer <token>". Empty: actions are off and every
	// POST is refused.
	AdminToken string
	// Logger gets the actions taken (replays, pauses) and sampling
	// errors; nil discards them.
	Logger *slog.Logger
}

// Console samples a Source and serves the page and the API. Build it with
// New, serve Handler, and Close it when the runtime stops.
type Console struct {
	src   Source
	token string
	log   *slog.Logger

	startOnce sync.Once
	started   atomic.Bool
	// startedAt is when Start ran, right after the runtime started its
	// groups: the consumers' counts are zero then, so it is every
	// series' first sample, and what is handled before the first
	// sampling tick is in the first point.
	startedAt time.Time
	stop      chan struct{}
	done      chan struct{}

	// sampling serializes samples: the background loop's and those a
	// request or an action triggers.
	sampling sync.Mutex

	mu       sync.Mutex
	status   Status // the last snapshot, enriched
	sampled  time.Time
	watched  time.Time
	history  map[[2]string]*series // by group, topic
	stalls   map[partKey]stall
	lagTimes lagTimes

	replayMu sync.Mutex // one replay at a time
	replayed map[letterKey]time.Time
}

// partKey names a partition of a consumer.
type partKey struct {
	group, topic string
	partition    int32
}

// stall is when a partition's committed offset last moved.
type stall struct {
	committed int64
	since     time.Time
}

// New builds a console on src; Start starts sampling it.
func New(src Source, opts Options) *Console {
	c := &Console{src: src, token: opts.AdminToken, log: opts.Logger,
		stop: make(chan struct{}), done: make(chan struct{}),
		history: map[[2]string]*series{}, stalls: map[partKey]stall{},
		lagTimes: lagTimes{}, replayed: map[letterKey]time.Time{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.status = Status{Groups: []Group{}, Admin: c.token != ""}
	return c
}

// Start starts sampling the Source in the background. Until then the
// handler serves an empty status: a runtime serves its listener before
// its groups have started, and its Status may be asked only after.
func (c *Console) Start() {
	c.startOnce.Do(func() {
		c.startedAt = time.Now()
		c.started.Store(true)
		go c.run()
	})
}

// Close stops sampling. The handler keeps answering with the last
// snapshot.
func (c *Console) Close() {
	c.startOnce.Do(func() { close(c.done) })
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

func (c *Console) run() {
	defer close(c.done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		c.mu.Lock()
		due := time.Since(c.watched) < watchedFor || time.Since(c.sampled) >= idleSampleEvery
		c.mu.Unlock()
		if due {
			c.sample()
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// watch records that someone asks for the API, so sampling goes to once
// a second; a first request after an idle spell samples at once, so that
// the page does not show a snapshot ten seconds old.
func (c *Console) watch() {
	c.mu.Lock()
	idle := time.Since(c.watched) >= watchedFor && time.Since(c.sampled) > sampleEvery
	c.watched = time.Now()
	c.mu.Unlock()
	if idle && c.started.Load() {
		c.sample()
	}
}

// sample takes one snapshot, adds it to the history and derives what the
// console adds: recent rates and quantiles, stalled states, lag in time.
func (c *Console) sample() {
	c.sampling.Lock()
	defer c.sampling.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
	defer cancel()
	st, err := c.src.Status(ctx)
	now := time.Now()
	if st.Time.IsZero() {
		st.Time = now
	}
	times := c.lagTimes.update(ctx, c.src.Client(), st)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sampled = now
	if err != nil {
		c.log.Warn("console: status", "error", err)
	}
	if err != nil && len(st.Groups) == 0 {
		c.status.Error = err.Error()
		return
	}
	seen := map[partKey]bool{}
	for gi := range st.Groups {
		g := &st.Groups[gi]
		for ci := range g.Consumers {
			cs := &g.Consumers[ci]
			k := [2]string{cs.Group, cs.Topic}
			h := c.history[k]
			if h == nil {
				h = &series{}
				if !c.startedAt.IsZero() && c.startedAt.Before(st.Time) {
					h.add(sample{t: c.startedAt})
				}
				c.history[k] = h
			}
			total := int64(0)
			for pi := range cs.Partitions {
				p := &cs.Partitions[pi]
				pk := partKey{cs.Group, cs.Topic, p.Partition}
				seen[pk] = true
				c.markStall(pk, p, st.Time)
				p.LagMs = lagMs(p, times[pk], st.Time)
				if p.Lag < 0 || total < 0 {
					total = -1
				} else {
					total += p.Lag
				}
			}
			h.add(sample{t: st.Time, counts: cs.Counts, hist: cs.Latency, lag: total})
			cs.Recent = h.recent()
			cs.Recent.Seconds = round3(cs.Recent.Seconds)
			if cs.Partitions == nil {
				cs.Partitions = []Partition{}
			}
		}
		if g.Consumers == nil {
			g.Consumers = []Consumer{}
		}
	}
	for pk := range c.stalls {
		if !seen[pk] {
			delete(c.stalls, pk)
		}
	}
	if st.Groups == nil {
		st.Groups = []Group{}
	}
	st.Admin = c.token != ""
	if err != nil {
		st.Error = err.Error()
	}
	c.status = st
}

// markStall sets p's state to stalled when it has lag and its committed
// offset has not moved for StallAfter while it was running.
func (c *Console) markStall(pk partKey, p *Partition, now time.Time) {
	s, ok := c.stalls[pk]
	if !ok || s.committed != p.Committed || p.Lag <= 0 || p.State != StateRunning && p.State != StateBackpressure {
		c.stalls[pk] = stall{committed: p.Committed, since: now}
		return
	}
	if now.Sub(s.since) >= StallAfter {
		p.State = StateStalled
	}
}

// lagMs is how old the oldest uncommitted record of p is.
func lagMs(p *Partition, oldest time.Time, now time.Time) int64 {
	switch {
	case p.Lag == 0:
		return 0
	case p.Lag < 0 || oldest.IsZero():
		return -1
	}
	return max(0, now.Sub(oldest).Milliseconds())
}

// snapshot is the last status, for the handlers.
func (c *Console) snapshot() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// seriesList is every consumer's points, ordered as the status lists them.
func (c *Console) seriesList() []Series {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Series{}
	for _, g := range c.status.Groups {
		for _, cs := range g.Consumers {
			h := c.history[[2]string{cs.Group, cs.Topic}]
			s := Series{Group: cs.Group, Topic: cs.Topic, Points: []Point{}}
			if h != nil {
				for _, p := range h.points {
					p.Seconds, p.P50Ms, p.P99Ms = round3(p.Seconds), round3(p.P50Ms), round3(p.P99Ms)
					p.HandledPerSecond, p.FailedPerSecond = round3(p.HandledPerSecond), round3(p.FailedPerSecond)
					p.RetriedPerSecond, p.DeadLetteredPerSecond = round3(p.RetriedPerSecond), round3(p.DeadLetteredPerSecond)
					s.Points = append(s.Points, p)
				}
			}
			out = append(out, s)
		}
	}
	return out
}
