package actors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
	"github.com/actord/actord/topics"
)

// EventHeader is the record header that carries an event's name.
const EventHeader = "event"

// eventHandler is one handler registered with On: its own retry policy,
// dead-letter topic and pool of event actors.
type eventHandler struct {
	id   string
	name string
	opts eventOptions
	// pipe decides what follows a failed attempt of this handler.
	pipe supervisor.Pipeline
	run  partition.HandlerFunc
	pids []*actor.PID
	next atomic.Uint64
	dlq  string
}

// eventState remembers, for one event record being retried, which of its
// handlers are finished, so that a handler that succeeded is not run again
// when a sibling retries.
type eventState struct {
	finished []bool
	attempts []int
}

type eventRouter struct {
	rt       *Runtime
	mu       sync.Mutex
	handlers map[string][]*eventHandler
	count    int
	pending  map[tp64]*eventState
	skipped  atomic.Int64
	sup      *actor.PID
}

type tp64 struct {
	p   int32
	off int64
}

// On registers fn as an event actor for the named event: the seed's
// @event("user.registered"). Every handler registered for a name gets
// each event of that name; each has its own retry policy (MaxRetries,
// Backoff) and dead-letter topic (default "<events topic>.dlq"). An event
// record is committed once all of its handlers are done, and a handler that
// succeeded is not run again while a sibling retries. Register before the
// runtime starts. A bad option value is an error naming it.
func On[T any](rt *Runtime, name string, fn func(context.Context, Message[T]) error, opts ...EventOption) error {
	if name == "" || fn == nil {
		return errors.New("actors.On: event name and handler are required")
	}
	o := eventOptions{handling: handling{policy: supervisor.DefaultPolicy()}}
	for _, opt := range opts {
		opt.applyEvent(&o)
	}
	if err := o.check(rt.s.eventsTopic); err != nil {
		return fmt.Errorf("actors.On(%q): %w", name, err)
	}
	r := rt.events()
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt.isStarted() {
		return fmt.Errorf("actors.On(%q): register event handlers before the runtime starts", name)
	}
	r.count++
	h := &eventHandler{id: fmt.Sprintf("%s#%d", name, len(r.handlers[name])+1), name: name, opts: o,
		pipe: supervisor.Pipeline{Policy: o.policy, DeadLetter: !o.noDeadLetter}, dlq: o.deadLetter}
	h.run = typed(rt.decoderFor(o.handling), fn)
	r.handlers[name] = append(r.handlers[name], h)
	return nil
}

// Emit publishes v as the named event on the events topic (EventsTopic),
// with the header event=name, and waits for acks=all.
func Emit(ctx context.Context, rt *Runtime, name string, v any, opts ...PublishOption) (Receipt, error) {
	p, err := NewProducer[any](rt, rt.s.eventsTopic)
	if err != nil {
		return Receipt{}, err
	}
	return p.Publish(ctx, v, append([]PublishOption{Header(EventHeader, name)}, opts...)...)
}

// SkippedEvents is the number of events that had no handler here: they are
// committed and skipped.
func (rt *Runtime) SkippedEvents() int64 {
	if rt.router == nil {
		return 0
	}
	return rt.router.skipped.Load()
}

func (rt *Runtime) events() *eventRouter {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.router == nil {
		rt.router = &eventRouter{rt: rt, handlers: map[string][]*eventHandler{}, pending: map[tp64]*eventState{}}
	}
	return rt.router
}

func (rt *Runtime) isStarted() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.started
}

// eventDelivery is one attempt of one event for one event actor.
type eventDelivery struct {
	ctx     context.Context
	rec     *kgo.Record
	attempt int
	done    chan error
	once    sync.Once
}

func (d *eventDelivery) finish(err error) { d.once.Do(func() { d.done <- err }) }

// Crashed implements supervisor.Crashable: a panicking event actor fails
// the attempt and is restarted.
func (d *eventDelivery) Crashed(reason any) { d.finish(&supervisor.PanicError{Value: reason}) }

type eventActor struct{ h *eventHandler }

func (a *eventActor) Receive(c actor.Context) {
	if d, ok := c.Message().(*eventDelivery); ok {
		d.finish(a.h.run(d.ctx, d.rec, d.attempt))
	}
}

// eventSupervisor is the parent of every event actor.
type eventSupervisor struct{ r *eventRouter }

type spawnEventActors struct{}

func (s *eventSupervisor) Receive(c actor.Context) {
	if _, ok := c.Message().(*spawnEventActors); ok {
		for _, hs := range s.r.handlers {
			for _, h := range hs {
				h := h
				for range DefaultEventConcurrency {
					h.pids = append(h.pids, c.Spawn(actor.PropsFromProducer(func() actor.Actor { return &eventActor{h: h} })))
				}
			}
		}
		c.Respond(true)
	}
}

// start spawns the event actors and declares the router: a consumer of
// the events topic in the events group whose handler fans each event out.
func (r *eventRouter) start(ctx context.Context) error {
	r.mu.Lock()
	n := r.count
	r.mu.Unlock()
	if n == 0 {
		return nil
	}
	rt := r.rt
	r.sup = rt.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &eventSupervisor{r: r} },
		actor.WithSupervisor(supervisor.RestartStrategy{Logger: rt.log})))
	if _, err := rt.sys.Root.RequestFuture(r.sup, &spawnEventActors{}, 10*time.Second).Result(); err != nil {
		return fmt.Errorf("starting event actors: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, rt.s.requestTimeout)
	defer cancel()
	err := rt.topics.Create(cctx, topics.Topic{Name: rt.s.eventsTopic, Partitions: rt.s.eventsParts}, true)
	if err != nil {
		return fmt.Errorf("events topic: %w", err)
	}
	c, err := newConsumer(rt, rt.s.eventsTopic, rt.s.eventsGroup, []ConsumerOption{
		Ordering(ByKey), Concurrency(DefaultConcurrency),
		// The router retries an event as long as one of its handlers may;
		// each handler's own limit is applied below.
		RetryPolicy(r.policy()), NoDeadLetter(),
	})
	if err != nil {
		return err
	}
	c.handle = r.route
	return rt.registerStarted(c)
}

// policy is the router's record-level retry policy: the largest retry
// budget among the handlers (each handler's own budget is applied in
// route), at the pace of the handler that retries soonest (the smallest
// initial backoff; ties go to the first handler by event name and
// registration order), so that no handler waits longer than its own policy
// says and the choice is the same on every run.
func (r *eventRouter) policy() supervisor.Policy {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.handlers))
	for n := range r.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	var p supervisor.Policy
	budget := 0
	for i, n := range names {
		for j, h := range r.handlers[n] {
			hp := h.opts.policy
			if (i == 0 && j == 0) || hp.Initial < p.Initial {
				p = hp
			}
			budget = max(budget, hp.MaxRetries)
		}
	}
	p.MaxRetries = budget
	return p
}

// route fans one event out to every handler of its name that has not
// finished it yet, waits for them, applies each handler's own retry budget
// and dead-letters for a handler that gives up. It fails (for a retry of
// the record) while some handler still wants another attempt.
func (r *eventRouter) route(ctx context.Context, rec *kgo.Record, attempt int) error {
	name := ""
	for _, h := range rec.Headers {
		if h.Key == EventHeader {
			name = string(h.Value)
			break
		}
	}
	hs := r.handlers[name] // read-only after start
	if len(hs) == 0 {
		r.skipped.Add(1)
		r.rt.metrics.EventsSkipped.Inc()
		r.rt.log.Debug("event has no handler; skipped", "event", name, "partition", rec.Partition, "offset", rec.Offset)
		return nil
	}
	key := tp64{rec.Partition, rec.Offset}
	r.mu.Lock()
	st := r.pending[key]
	if st == nil {
		st = &eventState{finished: make([]bool, len(hs)), attempts: make([]int, len(hs))}
		r.pending[key] = st
	}
	r.mu.Unlock()

	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(hs))
	running := 0
	for i, h := range hs {
		if st.finished[i] {
			continue
		}
		st.attempts[i]++
		d := &eventDelivery{ctx: ctx, rec: rec, attempt: st.attempts[i], done: make(chan error, 1)}
		pid := h.pids[h.next.Add(1)%uint64(len(h.pids))]
		r.rt.sys.Root.Send(pid, d)
		running++
		go func(i int) {
			select {
			case err := <-d.done:
				results <- result{i, err}
			case <-ctx.Done():
				results <- result{i, ctx.Err()}
			}
		}(i)
	}
	var retry []error
	for range running {
		res := <-results
		if err := r.settle(ctx, hs[res.i], rec, st, res.i, res.err); err != nil {
			retry = append(retry, err)
		}
	}
	if len(retry) > 0 {
		return supervisor.RetryError(errors.Join(retry...))
	}
	r.mu.Lock()
	delete(r.pending, key)
	r.mu.Unlock()
	return nil
}

// settle applies handler i's outcome err to the event's state: done,
// dead-lettered or skipped (finished), or failed with attempts left. It
// returns the error to retry the event for, nil when the handler is
// finished with it.
func (r *eventRouter) settle(ctx context.Context, h *eventHandler, rec *kgo.Record, st *eventState, i int, err error) error {
	if err == nil {
		st.finished[i] = true
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	switch h.pipe.After(err, st.attempts[i]).Action {
	case supervisor.RetryAfter:
		r.rt.log.Warn("event handler failed", "event", h.name, "handler", h.id, "attempt", st.attempts[i], "error", err)
		return fmt.Errorf("%s: %w", h.id, err)
	case supervisor.Skip:
		r.rt.log.Error("event handler gave up; no dead-letter topic, skipping", "event", h.name, "handler", h.id,
			"partition", rec.Partition, "offset", rec.Offset, "attempts", st.attempts[i], "error", err)
		st.finished[i] = true
		return nil
	}
	if derr := r.deadLetter(ctx, h, rec, st.attempts[i], err); derr != nil {
		return derr
	}
	st.finished[i] = true
	return nil
}

func (r *eventRouter) deadLetter(ctx context.Context, h *eventHandler, rec *kgo.Record, attempts int, cause error) error {
	rt := r.rt
	cctx, cancel := context.WithTimeout(ctx, rt.s.requestTimeout)
	defer cancel()
	if err := rt.ensureDeadLetterTopic(cctx, h.dlq, rec.Topic); err != nil {
		return err
	}
	f := dlq.Failure{Group: rt.s.eventsGroup, Handler: h.id, Attempts: attempts, Err: cause, FailedAt: time.Now()}
	err := rt.prod.ProduceSync(cctx, dlq.Record(h.dlq, rec, f)).FirstErr()
	if err != nil && refusedForGood(err) {
		err = rt.prod.ProduceSync(cctx, rt.stub(h.dlq, rec, f, err)).FirstErr()
	}
	if err != nil {
		return fmt.Errorf("dead-letter write for %s: %w", h.id, err)
	}
	rt.log.Error("event dead-lettered", "event", h.name, "handler", h.id, "partition", rec.Partition,
		"offset", rec.Offset, "attempts", attempts, "error", cause)
	return nil
}
