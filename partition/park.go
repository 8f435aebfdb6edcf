package partition

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/supervisor"
)

// Parking: durable retries that keep per-key order (key ordering only). A
// record that exhausts its in-memory retries is parked instead of
// dead-lettered: it is written to the retry topic (the same partition
// number as its source partition, so the owner of a source partition owns
// its parked records too), and so is every later record of its key while
// the key is parked; the source partition's offset moves on and the other
// keys flow. The parked records of a key run in order: the head on the
// schedule, counted from when it was parked; when it succeeds, the next
// runs at once. After the schedule's last attempt the head is
// dead-lettered and its key goes on. The retry topic is the durable state:
// a done marker follows each parked record that finished, and a restage
// marker a follower that failed and starts its own schedule; a new owner
// of the partition reads it back before it runs anything.

// ParkKind is what a retry-topic record is.
type ParkKind int

const (
	// ParkHead is a record parked because it failed all its in-memory
	// attempts: its schedule runs from ParkedAt.
	ParkHead ParkKind = iota
	// ParkFollow is a later record of a parked key: it runs once the
	// records before it are done, at once.
	ParkFollow
	// ParkDone marks the parked record of source offset Offset finished
	// (handled or dead-lettered).
	ParkDone
	// ParkRestage marks the parked record of source offset Offset a head
	// from ParkedAt: it failed when its turn came.
	ParkRestage
)

// String names the kind as the retry topic's header does.
func (k ParkKind) String() string {
	switch k {
	case ParkHead:
		return "head"
	case ParkFollow:
		return "follow"
	case ParkDone:
		return "done"
	case ParkRestage:
		return "restage"
	}
	return fmt.Sprintf("ParkKind(%d)", int(k))
}

// ParkRecord is one record of the retry topic, as the partition actor
// writes and reads it.
type ParkRecord struct {
	Kind ParkKind
	// Record is the source record (its topic, partition, offset, key,
	// value, headers) of a head or follower; nil for a marker.
	Record *kgo.Record
	// Key and Offset are the source record's key and offset (markers too).
	Key    []byte
	Offset int64
	// ParkedAt is when a head's (or a restaged record's) schedule starts.
	ParkedAt time.Time
	// Err is why a head was parked.
	Err string
}

// Park configures parking. Schedule is the delays of the attempts after
// parking, from ParkedAt: attempt i runs at ParkedAt plus the sum of the
// first i delays.
type Park struct {
	Schedule []time.Duration
	// Write appends pr to the retry topic and calls done with the outcome
	// once acknowledged. It must not block. A failed write is retried.
	Write func(pr ParkRecord, done func(error))
	// Load reads this partition's retry-topic records back, in order,
	// before the actor runs anything.
	Load func(ctx context.Context) ([]ParkRecord, error)
}

// validate reports a bad Park.
func (p *Park) validate(c Config) error {
	switch {
	case len(p.Schedule) == 0:
		return errors.New("partition config: Park.Schedule is empty")
	case p.Write == nil || p.Load == nil:
		return errors.New("partition config: Park needs Write and Load")
	case c.Ordering != ByKey:
		return fmt.Errorf("partition config: Park needs key ordering, not %v", c.Ordering)
	case c.Handle == nil:
		return errors.New("partition config: Park needs Handle (a service's own handler actors cannot run parked records)")
	}
	for i, d := range p.Schedule {
		if d <= 0 {
			return fmt.Errorf("partition config: Park.Schedule[%d] %v is not positive", i, d)
		}
	}
	return nil
}

// Messages of parking.
type (
	parkLoaded struct {
		recs []ParkRecord
		err  error
	}
	parkWritten struct {
		e   *parked
		pr  ParkRecord
		err error
	}
	parkDue struct{ q *parkQ }
	parkRan struct {
		q   *parkQ
		err error
	}
	parkDead struct {
		q   *parkQ
		err error
	}
)

// parker is the partition actor's parking state.
type parker struct {
	cfg  *Park
	cum  []time.Duration // cumulative schedule
	keys map[string]*parkQ
	// loaded: the retry topic was read back; until then accepted batches
	// wait in pending.
	loaded  bool
	pending [][]*kgo.Record
	// writes and running count what the drain waits for.
	writes, running int
}

// parkQ is one parked key's records, in order.
type parkQ struct {
	key  string
	q    []*parked
	busy bool // the head runs, or its marker or dead letter is being written
}

// parked is one parked record.
type parked struct {
	r *kgo.Record
	// seq is its place in the tracker while its source record is not
	// finished (live parking), -1 once finished or when read back.
	seq     int64
	written bool
	// head: its schedule runs from parkedAt; a follower runs once at once.
	head     bool
	parkedAt time.Time
	stage    int // attempts of the schedule made
	attempts int // attempts made in all
	lastErr  error
}

func newParker(cfg *Park) *parker {
	p := &parker{cfg: cfg, keys: map[string]*parkQ{}}
	var sum time.Duration
	for _, d := range cfg.Schedule {
		sum += d
		p.cum = append(p.cum, sum)
	}
	return p
}

// load reads the retry topic back in the background.
func (a *partitionActor) parkLoad(c actor.Context) {
	self, root, ctx := c.Self(), c.ActorSystem().Root, a.ctx
	load := a.park.cfg.Load
	go func() {
		recs, err := load(ctx)
		root.Send(self, &parkLoaded{recs: recs, err: err})
	}()
}

// parkLoaded rebuilds the parked keys from the retry topic, then takes the
// batches that waited.
func (a *partitionActor) parkLoaded(c actor.Context, m *parkLoaded) {
	p := a.park
	if m.err != nil {
		if a.ctx.Err() != nil {
			return
		}
		a.cfg.Logger.Error("cannot read the retry topic back; trying again in 1s", "error", m.err)
		self, root := c.Self(), c.ActorSystem().Root
		a.after(time.Second, func() { root.Send(self, &parkRetryLoad{}) })
		return
	}
	byOffset := map[int64]*parked{}
	for _, pr := range m.recs {
		switch pr.Kind {
		case ParkHead, ParkFollow:
			if _, dup := byOffset[pr.Offset]; dup {
				continue // written twice (a crash between the write and the source commit)
			}
			e := &parked{r: pr.Record, seq: -1, written: true, head: pr.Kind == ParkHead, parkedAt: pr.ParkedAt}
			if e.head {
				e.attempts = a.cfg.Pipeline.Policy.MaxRetries + 1
			}
			byOffset[pr.Offset] = e
			q := p.queue(string(pr.Key))
			q.q = append(q.q, e)
		case ParkDone:
			if e := byOffset[pr.Offset]; e != nil {
				q := p.keys[string(e.r.Key)]
				for i, x := range q.q {
					if x == e {
						q.q = append(q.q[:i], q.q[i+1:]...)
						break
					}
				}
				if len(q.q) == 0 {
					delete(p.keys, q.key)
				}
			}
		case ParkRestage:
			if e := byOffset[pr.Offset]; e != nil {
				e.head, e.parkedAt, e.stage = true, pr.ParkedAt, 0
			}
		}
	}
	now := time.Now()
	parkedRecs := 0
	for _, q := range p.keys {
		// A write retried after a later one came through lands after it:
		// a key's records run in source-offset order whatever their
		// order in the retry topic.
		slices.SortFunc(q.q, func(x, y *parked) int { return cmp.Compare(x.r.Offset, y.r.Offset) })
		parkedRecs += len(q.q)
		if h := q.q[0]; h.head {
			// The schedule is wall-clock from the parking: the attempts
			// whose time passed while no one owned the partition are
			// skipped but the last.
			for h.stage < len(p.cum)-1 && !h.parkedAt.Add(p.cum[h.stage]).After(now) {
				h.stage++
				h.attempts++
			}
		}
		a.parkNext(c, q)
	}
	if len(p.keys) > 0 {
		a.cfg.Logger.Info("parked keys read back from the retry topic", "keys", len(p.keys), "records", parkedRecs)
	}
	p.loaded = true
	pending := p.pending
	p.pending = nil
	for _, recs := range pending {
		a.mode.accept(recs)
	}
}

type parkRetryLoad struct{}

// queue is key's parked queue, made if need be.
func (p *parker) queue(key string) *parkQ {
	q := p.keys[key]
	if q == nil {
		q = &parkQ{key: key}
		p.keys[key] = q
	}
	return q
}

// isParked reports whether key has parked records.
func (p *parker) isParked(key []byte) bool {
	_, ok := p.keys[string(key)]
	return ok
}

// follow parks e, a record of a parked key (or the head and the rest of
// a key being parked now): it is written to the retry topic, and its
// source record is finished once the write is acknowledged.
func (a *partitionActor) parkWrite(e *parked, kind ParkKind) {
	p := a.park
	q := p.queue(string(e.r.Key))
	for _, x := range q.q {
		if x.r.Offset == e.r.Offset {
			// Parked already (fetched again after a rebalance): finish
			// the source record, keep the one in the queue.
			if e.seq >= 0 {
				a.parkFinishSource(e.seq)
			}
			return
		}
	}
	q.q = append(q.q, e)
	pr := ParkRecord{Kind: kind, Record: e.r, Key: e.r.Key, Offset: e.r.Offset, ParkedAt: e.parkedAt}
	if e.lastErr != nil {
		pr.Err = e.lastErr.Error()
	}
	a.parkSend(pr, e)
}

// parkSend writes pr (for e, nil for a marker) and brings the outcome back.
func (a *partitionActor) parkSend(pr ParkRecord, e *parked) {
	a.park.writes++
	self, root := a.self, a.h.root
	a.park.cfg.Write(pr, func(err error) { root.Send(self, &parkWritten{e: e, pr: pr, err: err}) })
}

// parkFinishSource finishes the source record of tracker seq: parked, it
// is the retry topic's now.
func (a *partitionActor) parkFinishSource(seq int64) {
	m := a.mode.(*keyMode)
	m.tr.finish(seq)
	m.advance()
}

func (a *partitionActor) parkWritten(c actor.Context, m *parkWritten) {
	p := a.park
	p.writes--
	if m.err != nil {
		if a.draining {
			a.maybeDrained(c)
			return // unfinished: the next owner parks it again
		}
		a.cfg.Logger.Error("retry-topic write failed; retrying it", "kind", m.pr.Kind, "offset", m.pr.Offset, "error", m.err)
		p.writes++ // the write waiting for its timer
		self, root := c.Self(), c.ActorSystem().Root
		a.after(a.cfg.Pipeline.Policy.Max, func() {
			a.park.cfg.Write(m.pr, func(err error) { root.Send(self, &parkWritten{e: m.e, pr: m.pr, err: err}) })
		})
		return
	}
	q := p.keys[string(m.pr.Key)]
	switch m.pr.Kind {
	case ParkHead, ParkFollow:
		e := m.e
		e.written = true
		if e.seq >= 0 {
			a.parkFinishSource(e.seq)
			e.seq = -1
		}
		if q != nil && len(q.q) > 0 && q.q[0] == e {
			a.parkNext(c, q)
		}
	case ParkDone:
		// The head is finished for good: the next record of the key goes.
		q.q[0] = nil
		q.q = q.q[1:]
		q.busy = false
		if len(q.q) == 0 {
			delete(p.keys, q.key)
			a.cfg.Logger.Info("key released from parking", "key", q.key)
		} else {
			a.parkNext(c, q)
		}
	case ParkRestage:
		q.busy = false
		a.parkNext(c, q)
	}
	a.maybeDrained(c)
}

// parkNext runs q's head when its time has come, or arms its timer.
func (a *partitionActor) parkNext(c actor.Context, q *parkQ) {
	if q.busy || len(q.q) == 0 || a.draining {
		return
	}
	h := q.q[0]
	if !h.written {
		return // parkWritten comes back to it
	}
	wait := time.Duration(0)
	if h.head {
		wait = time.Until(h.parkedAt.Add(a.park.cum[h.stage]))
	}
	q.busy = true
	if wait > 0 {
		self, root := c.Self(), c.ActorSystem().Root
		a.after(wait, func() { root.Send(self, &parkDue{q: q}) })
		return
	}
	a.parkRun(c, q)
}

// parkRun runs q's head through the handler on a goroutine of its own.
func (a *partitionActor) parkRun(c actor.Context, q *parkQ) {
	h := q.q[0]
	a.park.running++
	self, root := c.Self(), c.ActorSystem().Root
	h.attempts++
	attempt := h.attempts
	ctx, handle, timeout := a.ctx, a.cfg.Handle, a.cfg.HandlerTimeout
	go func() {
		err := runParked(ctx, handle, timeout, h.r, attempt)
		root.Send(self, &parkRan{q: q, err: err})
	}()
}

// runParked is one attempt of a parked record, bounded by timeout (0:
// none), a panic counted as a failure.
func runParked(ctx context.Context, handle HandlerFunc, timeout time.Duration, r *kgo.Record, attempt int) (err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			err = &supervisor.PanicError{Value: p}
		}
	}()
	return handle(ctx, r, attempt)
}

func (a *partitionActor) parkRan(c actor.Context, m *parkRan) {
	p := a.park
	p.running--
	q := m.q
	h := q.q[0]
	if a.draining {
		q.busy = false
		a.maybeDrained(c)
		return // not marked: the next owner runs it again
	}
	if a.cfg.Hooks.Finished != nil {
		if m.err == nil {
			a.cfg.Hooks.Finished(1, 0, 0, 0)
		} else {
			a.cfg.Hooks.Finished(0, 1, 0, 0)
		}
	}
	if m.err == nil {
		a.parkSend(ParkRecord{Kind: ParkDone, Key: h.r.Key, Offset: h.r.Offset}, nil)
		return
	}
	h.lastErr = m.err
	switch {
	case supervisor.Decide(m.err) == supervisor.Permanent || h.head && h.stage >= len(p.cum)-1:
		a.cfg.Logger.Warn("parked record failed for the last time; dead-lettering it", "offset", h.r.Offset,
			"key", q.key, "error", m.err)
		a.parkDeadLetter(c, q)
	case !h.head:
		// A follower's turn failed: its own schedule starts now.
		h.head, h.parkedAt, h.stage = true, time.Now(), 0
		a.cfg.Logger.Warn("parked record failed; retrying it on the schedule", "offset", h.r.Offset, "key", q.key, "error", m.err)
		a.parkSend(ParkRecord{Kind: ParkRestage, Key: h.r.Key, Offset: h.r.Offset, ParkedAt: h.parkedAt}, nil)
	default:
		h.stage++
		a.cfg.Logger.Warn("parked record failed; retrying it on the schedule", "offset", h.r.Offset, "key", q.key,
			"next_in", time.Until(h.parkedAt.Add(p.cum[h.stage])).Round(time.Millisecond).String(), "error", m.err)
		q.busy = false
		a.parkNext(c, q)
	}
}

// parkDeadLetter dead-letters q's head after its schedule (or skips it
// without a dead-letter sink), then marks it done.
func (a *partitionActor) parkDeadLetter(c actor.Context, q *parkQ) {
	h := q.q[0]
	if a.cfg.DeadLetter == nil {
		a.cfg.Logger.Error("parked record failed for the last time; no dead-letter topic, skipping it", "offset", h.r.Offset, "error", h.lastErr)
		a.parkSend(ParkRecord{Kind: ParkDone, Key: h.r.Key, Offset: h.r.Offset}, nil)
		return
	}
	a.park.writes++
	self, root := c.Self(), c.ActorSystem().Root
	f := Failure{Group: a.cfg.Group, Attempts: h.attempts, Err: h.lastErr, FailedAt: time.Now()}
	a.cfg.DeadLetter(h.r, f, func(err error) { root.Send(self, &parkDead{q: q, err: err}) })
}

func (a *partitionActor) parkDead(c actor.Context, m *parkDead) {
	a.park.writes--
	q := m.q
	if m.err != nil {
		if a.draining {
			q.busy = false
			a.maybeDrained(c)
			return
		}
		a.cfg.Logger.Error("dead-letter write of a parked record failed; retrying it", "error", m.err)
		self, root := c.Self(), c.ActorSystem().Root
		a.after(a.cfg.Pipeline.Policy.Max, func() { root.Send(self, &parkDeadRetry{q: q}) })
		return
	}
	if a.cfg.Hooks.Finished != nil {
		a.cfg.Hooks.Finished(0, 0, 0, 1)
	}
	h := q.q[0]
	a.parkSend(ParkRecord{Kind: ParkDone, Key: h.r.Key, Offset: h.r.Offset}, nil)
}

type parkDeadRetry struct{ q *parkQ }

// parkLane parks x's key: x (which failed its last in-memory attempt)
// heads it, the lane's queued records follow; the lane is left empty.
func (a *partitionActor) parkLane(x *rec) {
	l := x.lane
	now := time.Now()
	head := &parked{r: x.r, seq: x.seq, head: true, parkedAt: now, attempts: x.run(), lastErr: x.lastErr}
	a.cfg.Logger.Warn("record failed its in-memory attempts; parking its key in the retry topic", "offset", x.r.Offset,
		"key", string(x.r.Key), "attempts", x.run(), "error", x.lastErr)
	a.parkWrite(head, ParkHead)
	for i, e := range l.q {
		if e.seq == x.seq {
			continue
		}
		a.parkWrite(&parked{r: e.r, seq: e.seq, parkedAt: now}, ParkFollow)
		l.q[i] = entry{}
	}
	l.q = l.q[:0]
	l.head = nil
	l.waiting = false
}

// parkAccept takes r (of tracker seq) into parking if its key is parked,
// and reports whether it did.
func (a *partitionActor) parkAccept(r *kgo.Record, seq int64) bool {
	if a.park == nil || !a.park.isParked(r.Key) {
		return false
	}
	a.parkWrite(&parked{r: r, seq: seq, parkedAt: time.Now()}, ParkFollow)
	return true
}

// parkReceive handles parking's messages; it reports whether m was one.
func (a *partitionActor) parkReceive(c actor.Context, m any) bool {
	switch m := m.(type) {
	case *parkLoaded:
		a.parkLoaded(c, m)
	case *parkRetryLoad:
		a.parkLoad(c)
	case *parkWritten:
		a.parkWritten(c, m)
	case *parkDue:
		if a.draining {
			m.q.busy = false
			return true
		}
		a.parkRun(c, m.q)
	case *parkRan:
		a.parkRan(c, m)
	case *parkDead:
		a.parkDead(c, m)
	case *parkDeadRetry:
		if a.draining {
			m.q.busy = false
			return true
		}
		a.parkDeadLetter(c, m.q)
	default:
		return false
	}
	return true
}
