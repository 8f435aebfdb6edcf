// Package partition owns the partition actor: the actor that owns one
// assigned topic-partition for one consumer group generation. It receives
// fetched batches, dispatches records to its handler actors by ordering mode
// (partition, key, unordered), keeps failed records and retries them after
// a backoff, sends exhausted ones to the dead-letter sink, tracks finished
// offsets and marks only the contiguous finished prefix for commit, drives
// fetch backpressure, and drains on revoke.
package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/internal/mailbox"
	"github.com/actord/actord/supervisor"
)

// Ordering is how records of one partition may run concurrently.
type Ordering int

const (
	// ByPartition runs one record of the partition at a time, in offset
	// order. A retrying record holds back the whole partition: the price of
	// strict order.
	ByPartition Ordering = iota
	// ByKey runs records of different keys concurrently and records of one
	// key in offset order; a retrying key holds back only itself.
	ByKey
	// Unordered runs records concurrently with no order at all.
	Unordered
)

// ParseOrdering maps the config words partition, key and unordered.
func ParseOrdering(s string) (Ordering, error) {
	switch s {
	case "", "partition":
		return ByPartition, nil
	case "key":
		return ByKey, nil
	case "unordered":
		return Unordered, nil
	}
	return 0, fmt.Errorf("ordering %q is not one of partition, key, unordered", s)
}

// String is the config word for the mode.
func (o Ordering) String() string {
	switch o {
	case ByPartition:
		return "partition"
	case ByKey:
		return "key"
	case Unordered:
		return "unordered"
	}
	return fmt.Sprintf("Ordering(%d)", int(o))
}

// HandlerFunc runs one attempt (1 for the first) of one record.
type HandlerFunc func(ctx context.Context, r *kgo.Record, attempt int) error

// Failure describes a record that failed for the last time.
type Failure struct {
	Group    string
	Attempts int
	Err      error
	FailedAt time.Time
}

// DeadLetterFunc writes r with f to the dead-letter topic and calls done
// with the outcome once the write is acknowledged (or failed). It must not
// block. The partition actor retries a failed write and does not let the
// record's offset be committed until one succeeds.
type DeadLetterFunc func(r *kgo.Record, f Failure, done func(error))

// Hooks observe a partition actor; every field is optional.
type Hooks struct {
	// Finished counts outcomes as they happen, from the actor's goroutine:
	// records handled, attempts failed, failures scheduled for a retry, and
	// records dead-lettered (or skipped where dead-lettering is off).
	Finished func(handled, failed, retried, deadLettered int)
	// Attempts receives the durations of handler attempts in batches, from
	// the handler actor's goroutine: at the end of every run of records
	// and, within a run, every 64 attempts or 100 ms. timed are single
	// attempts' durations (the slice is reused after the call returns);
	// fast more attempts, each at most FastAttempt long, that took
	// fastTotal together.
	Attempts func(timed []time.Duration, fast int, fastTotal time.Duration)
	// Attempt, when set, wraps every attempt, from the handler actor's
	// goroutine: it gets the attempt's context, the record and the
	// attempt number (1 for the first) before the handler runs, and
	// returns the context the handler gets (Delivery.Ctx with
	// HandlerProps) and a function called once with the attempt's
	// outcome (a panic is a *supervisor.PanicError). Tracing starts and
	// ends a span per attempt here; unset, an attempt costs nothing more.
	Attempt func(ctx context.Context, r *kgo.Record, attempt int) (context.Context, func(error))
}

// The partition actor's defaults, the one home of these values: a zero
// Config.Concurrency or Config.MaxInFlight means them.
const (
	// DefaultConcurrency is the handler actors per partition in key and
	// unordered modes.
	DefaultConcurrency = 16
	// DefaultMaxInFlight is the fetched but unfinished records a partition
	// holds before it takes no more.
	DefaultMaxInFlight = 1000
)

// Config is what a partition actor needs. Exactly one of Handle and
// HandlerProps is set. Zero values of Concurrency, MaxInFlight and
// Pipeline.Policy mean the defaults; any other bad value is an error from
// [Config.Validate], and [Spawn] panics on it.
type Config struct {
	Group     string
	Topic     string
	Partition int32

	Ordering Ordering
	// Concurrency is the number of handler actors in key and unordered
	// modes, zero for [DefaultConcurrency]; partition mode uses one
	// whatever it says. Each is an actor (and, with HandlerProps, the
	// service's own actor beside it) for the partition's lifetime.
	Concurrency int
	// MaxInFlight caps fetched but unfinished records, zero for
	// [DefaultMaxInFlight]: at it (or at half the last fetch, if that is
	// more) the partition is full and takes no more; the poller pauses its
	// fetching if it stays full, and it resumes at half the cap.
	MaxInFlight int

	// Pipeline decides what follows every failed attempt (see
	// [supervisor.Pipeline.After]). A zero Policy is
	// [supervisor.DefaultPolicy]. Spawn sets Pipeline.DeadLetter to
	// whether DeadLetter is set: the sink, not the flag, says whether
	// dead-lettering is on. A dead-letter write that fails is retried
	// after Policy.Max.
	Pipeline supervisor.Pipeline
	// HandlerTimeout bounds one attempt; zero means none. An inline
	// handler (Handle) past it is abandoned on its own goroutine, which
	// costs a goroutine per attempt while a timeout is set.
	HandlerTimeout time.Duration

	// Handle runs records inline in the runtime's handler actors.
	Handle HandlerFunc
	// Batch, when set instead of Handle, runs records in batches
	// (partition mode only; see [Batch]).
	Batch *Batch
	// HandlerProps, when set instead of Handle, builds the service's own
	// handler actors: each receives *Delivery messages and must call Done.
	HandlerProps *actor.Props
	// Decode, with HandlerProps, turns each record into Delivery.Value
	// before the service's actor gets it; its error fails the attempt
	// (classified like a handler's) without the actor seeing the record.
	Decode func(*kgo.Record) (any, error)

	// DeadLetter writes exhausted records; nil logs and skips them.
	DeadLetter DeadLetterFunc
	// Circuit, when set, is the consumer's circuit breaker, shared by its
	// partition actors: while it is open no record runs but one probe at a
	// time among them, and a failed attempt does not spend its record's
	// retry budget (see [supervisor.Circuit]).
	Circuit *supervisor.Circuit
	// Park, when set, parks a record whose in-memory retries are spent in
	// a retry topic instead of dead-lettering it, with every later record
	// of its key (key ordering only; see [Park]).
	Park *Park
	// Mark records the next offset to commit (the offset after the last
	// record of the finished prefix) with the leader epoch of that record.
	Mark func(epoch int32, offset int64)
	// Pause and Resume stop and restart fetching of this partition.
	Pause, Resume func()
	// Room, when set, is called when a full partition's in-flight records
	// fall below the full mark, and when a paused partition resumes: the
	// poller waiting for room may poll again. It must not block.
	Room func()

	Logger *slog.Logger
	Hooks  Hooks

	// Recycle, with Handle inline and none of Batch, HandlerProps,
	// HandlerTimeout or Park, recycles each record (kgo.Record.Recycle)
	// once it ran through or its dead letter is written: for a client
	// with a RecordPool, the slices of records go back to the pool
	// instead of to the garbage collector. Handle and its hooks must then
	// keep nothing of the *kgo.Record past their return (copies of its
	// fields are fine: the pool reuses the Record structs, not the key,
	// value or header bytes). Records that do not finish here (revoked,
	// lost) are not recycled; their slices are collected as without the
	// pool.
	Recycle bool
}

// recycles reports whether c's partition actors recycle what runs through.
func (c *Config) recycles() bool {
	return c.Recycle && c.Handle != nil && c.Batch == nil && c.HandlerProps == nil && c.HandlerTimeout == 0 && c.Park == nil
}

// Validate reports the first bad field of c as an error naming it and its
// value: an unknown Ordering, a negative Concurrency, MaxInFlight or
// HandlerTimeout, an invalid non-zero Pipeline.Policy, or not exactly one
// of Handle and HandlerProps. Zero values that mean a default are valid.
func (c Config) Validate() error {
	switch {
	case c.Ordering < ByPartition || c.Ordering > Unordered:
		return fmt.Errorf("partition config: Ordering %v is not one of partition, key, unordered", c.Ordering)
	case c.Concurrency < 0:
		return fmt.Errorf("partition config: Concurrency %d is negative", c.Concurrency)
	case c.MaxInFlight < 0:
		return fmt.Errorf("partition config: MaxInFlight %d is negative", c.MaxInFlight)
	case c.HandlerTimeout < 0:
		return fmt.Errorf("partition config: HandlerTimeout %v is negative", c.HandlerTimeout)
	case c.Handle == nil && c.HandlerProps == nil && c.Batch == nil:
		return errors.New("partition config: none of Handle, HandlerProps and Batch is set")
	case c.Handle != nil && c.HandlerProps != nil:
		return errors.New("partition config: both Handle and HandlerProps are set")
	}
	if c.Pipeline.Policy != (supervisor.Policy{}) {
		if err := c.Pipeline.Policy.Validate(); err != nil {
			return fmt.Errorf("partition config: Pipeline: %w", err)
		}
	}
	if c.Batch != nil {
		if err := c.Batch.validate(c); err != nil {
			return err
		}
	}
	if c.Park != nil {
		return c.Park.validate(c)
	}
	return nil
}

// withDefaults fills the zero values that mean a default, and settles
// what Spawn decides: one handler in partition mode, dead-lettering on
// exactly when there is a sink.
func (c Config) withDefaults() Config {
	switch {
	case c.Ordering == ByPartition:
		c.Concurrency = 1
	case c.Concurrency == 0:
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Pipeline.Policy == (supervisor.Policy{}) {
		c.Pipeline.Policy = supervisor.DefaultPolicy()
	}
	c.Pipeline.DeadLetter = c.DeadLetter != nil
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Handle is the runtime's grip on one partition actor: the poll loop
// delivers batches through it and the group drains or drops it.
type Handle struct {
	pid    *actor.PID
	root   *actor.RootContext
	cfg    *Config
	cancel context.CancelFunc
	// disp runs the partition actor's mailbox (see mailbox.Loop).
	disp *mailbox.Loop

	mu       sync.Mutex
	inFlight int
	last     int // records in the last delivered batch
	paused   bool
	// starts are the first offsets and timestamps of the delivered batches
	// not yet marked past, oldest first: what LagTime reads.
	starts []batchStart
	closed atomic.Bool

	first  atomic.Int64 // offset of the first record delivered, -1 before
	marked atomic.Int64 // last offset marked for commit, -1 before
}

// ResumeOffset is where a new owner of this partition must start so that
// nothing this actor held is skipped: the last marked offset, else the
// first delivered one, else -1 (the group's committed offset applies).
func (h *Handle) ResumeOffset() int64 {
	if m := h.marked.Load(); m >= 0 {
		return m
	}
	return h.first.Load()
}

// Spawn starts a partition actor as a child of parent (the group
// supervisor) or, with a nil parent, of the root. The actor lives until
// Drain-and-Stop or Drop. Spawn panics if cfg.Validate reports an error: a
// bad config is its caller's bug, which validates its options before it
// gets here; zero values mean the defaults documented on Config.
func Spawn(spawner actor.SpawnerContext, root *actor.RootContext, cfg Config) *Handle {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	cfg.Logger = cfg.Logger.With("group", cfg.Group, "topic", cfg.Topic, "partition", cfg.Partition)
	ctx, cancel := context.WithCancel(context.Background())
	h := &Handle{root: root, cfg: &cfg, cancel: cancel, disp: mailbox.NewLoop(ctx)}
	h.first.Store(-1)
	h.marked.Store(-1)
	props := actor.PropsFromProducer(func() actor.Actor { return newPartitionActor(h, ctx) },
		actor.WithSupervisor(supervisor.RestartStrategy{Logger: cfg.Logger}), actor.WithDispatcher(h.disp))
	h.pid = spawner.Spawn(props)
	return h
}

// PID is the partition actor's address.
func (h *Handle) PID() *actor.PID { return h.pid }

// Deliver hands a fetched batch (in offset order) to the partition actor
// without blocking; the actor owns recs from then on (it clears the
// entries of finished records). Deliver does not pause fetching: the
// poller asks Full before it polls again and pauses a partition that stays
// full, so that a whole fetch already buffered is not dropped.
func (h *Handle) Deliver(recs []*kgo.Record) {
	if len(recs) == 0 || h.closed.Load() {
		return
	}
	h.first.CompareAndSwap(-1, recs[0].Offset)
	h.mu.Lock()
	h.inFlight += len(recs)
	h.last = len(recs)
	h.starts = append(h.starts, batchStart{recs[0].Offset, recs[0].Timestamp})
	h.mu.Unlock()
	h.root.Send(h.pid, &batch{recs: recs})
}

// Full reports whether the partition's in-flight records are at or above
// its full mark while it is still fetched: more records must not be
// delivered before it drains below the mark or is paused.
func (h *Handle) Full() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.paused && h.inFlight >= h.full()
}

// full is the partition's full mark, the in-flight count at which it takes
// no more: the cap, or half the last fetch when fetches are larger than
// twice the cap, so that the next fetch is on its way while the second
// half of the last one runs.
func (h *Handle) full() int { return max(h.cfg.MaxInFlight, h.last/2) }

// HasRoom reports whether the partition is fetched and below its full mark.
func (h *Handle) HasRoom() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.paused && h.inFlight < h.full()
}

// Pause stops fetching the partition if it is still full, until its
// in-flight records fall to half the cap. Records of it that the client
// has buffered are dropped and fetched again after the resume.
func (h *Handle) Pause() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused || h.inFlight < h.full() {
		return
	}
	h.paused = true
	if h.cfg.Pause != nil {
		h.cfg.Pause()
	}
}

// batchStart is a delivered batch's first offset and its timestamp.
type batchStart struct {
	offset int64
	ts     time.Time
}

// pruneStarts forgets the batches wholly below resume (the next batch
// starts at or below it); h.mu is held.
func (h *Handle) pruneStarts(resume int64) {
	i := 0
	for i+1 < len(h.starts) && h.starts[i+1].offset <= resume {
		i++
	}
	if i > 0 {
		n := copy(h.starts, h.starts[i:])
		h.starts = h.starts[:n]
	}
}

// LagTime is the age, at now, of the oldest delivered record not yet
// finished (the one a restart would resume at), from record timestamps, to
// within one fetched batch: it is measured from the first record of the
// batch that holds it, which is no younger. ok is false when no record is
// in flight.
func (h *Handle) LagTime(now time.Time) (d time.Duration, ok bool) {
	resume := h.ResumeOffset()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inFlight == 0 {
		h.starts = h.starts[:0]
		return 0, false
	}
	h.pruneStarts(resume)
	if len(h.starts) == 0 || h.starts[0].ts.IsZero() {
		return 0, false
	}
	return max(now.Sub(h.starts[0].ts), 0), true
}

// InFlight is the number of delivered records not yet finished.
func (h *Handle) InFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inFlight
}

func (h *Handle) release(n int) {
	if n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pruneStarts(h.ResumeOffset())
	was := h.inFlight
	h.inFlight -= n
	if h.inFlight == 0 {
		h.starts = h.starts[:0]
	}
	room := false
	if h.paused && h.inFlight <= h.cfg.MaxInFlight/2 {
		h.paused = false
		room = true
		if h.cfg.Resume != nil && !h.closed.Load() {
			h.cfg.Resume()
		}
	} else if full := h.full(); !h.paused && was >= full && h.inFlight < full {
		room = true
	}
	if room && h.cfg.Room != nil {
		h.cfg.Room()
	}
}

// Drain stops dispatching, waits up to timeout for records already with
// handlers (and dead-letter writes) to finish, marks the finished prefix
// and stops the actor. Records not finished are left uncommitted, for the
// partition's next owner. It reports whether the drain completed in time.
func (h *Handle) Drain(timeout time.Duration) bool {
	f := h.root.RequestFuture(h.pid, &drainReq{}, timeout)
	_, err := f.Result()
	ok := err == nil
	h.stop()
	return ok
}

// Drop stops the actor without marking anything more: the partition was
// lost and another member may own it already.
func (h *Handle) Drop() {
	h.closed.Store(true)
	h.stop()
}

func (h *Handle) stop() {
	h.closed.Store(true)
	h.cancel()
	_ = h.root.StopFuture(h.pid).Wait()
}

// Delivery is what a service's own handler actor (Config.HandlerProps)
// receives: one attempt of one record. The actor must call Done exactly
// once; a panic counts as a failed attempt.
type Delivery struct {
	Ctx     context.Context
	Record  *kgo.Record
	Attempt int
	// Value is the record decoded by Config.Decode; nil without one.
	Value any

	done chan error
	once sync.Once
}

// Done reports the attempt's outcome: nil, an error (retried), or a
// permanent error.
func (d *Delivery) Done(err error) {
	d.once.Do(func() { d.done <- err })
}

// Crashed implements supervisor.Crashable.
func (d *Delivery) Crashed(reason any) { d.Done(&supervisor.PanicError{Value: reason}) }

var _ supervisor.Crashable = (*Delivery)(nil)
