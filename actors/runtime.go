// Package actors is what a service imports: the Runtime (the protoactor
// actor system, the franz-go clients and the producer), consumers with
// typed handlers or the service's own handler actors, producers, named
// events, the Message a handler sees and the error classification (Retry,
// Permanent) that drives retries and dead-lettering.
//
// A runtime is built from options and nothing else: actors.New(
// actors.Brokers("kafka:9092"), ...). It depends on neither the daemon's
// config package nor the embedded broker; for a broker in-process (demos,
// tests) start one with package broker, or actortest in tests, and pass
// its address. Options are typed by where they apply (RuntimeOption,
// ConsumerOption, EventOption, ProducerOption, PublishOption), so an
// option given where it means nothing does not compile, and a bad value
// is an error naming the option and the value.
//
// Every assigned topic partition is owned by a supervised partition actor
// that pulls its records and forwards them to handler actors. Delivery is
// at least once: an offset is committed only after its record and every
// earlier record of the partition are finished.
package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/metrics"
	"github.com/actord/actord/topics"
)

// Runtime runs consumers, producers and event handlers on one actor
// system. Build it with New; declare consumers before Start (or Run); stop
// with Stop (or by cancelling Run's context).
type Runtime struct {
	s   settings
	log *slog.Logger
	sys *actor.ActorSystem

	prod *kgo.Client
	// pub publishes for Producer and Emit: prod itself unless ProducerAcks
	// is leader or none, which the runtime's own writes never use.
	pub *kgo.Client
	// topics administers topics (reconcile, events and dead-letter
	// topics) through the producing client.
	topics  *topics.Admin
	metrics *metrics.Metrics
	httpSrv *metrics.Server
	console *statusConsole

	mu      sync.Mutex
	groups  map[string]*group
	order   []string
	started bool
	stopped bool

	declared []topics.Topic
	router   *eventRouter
	schemas  knownSchemas

	// stall watches partitions for stalls (StallTimeout); nil when off or
	// before Start.
	stall *stallWatch
	// tracing is nil when tracing is off (WithTracerProvider).
	tracing *tracing

	dlqMu      sync.Mutex
	dlqTopics  map[string]struct{} // dead-letter topics known to exist
	stopOnce   sync.Once
	stopResult error
}

// UnreachableError is Start's failure when no broker answered within the
// request timeout.
type UnreachableError struct {
	Brokers string
	Err     error
}

// Error names the bootstrap servers and the cause.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Kafka at %s: %v", e.Brokers, e.Err)
}

// Unwrap returns the client's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// New builds a runtime from opts. Brokers is required: a runtime talks to
// the cluster it is pointed at and never starts a broker of its own (for
// an embedded one, start it with package broker, or actortest in tests,
// and pass its address). Every option is checked here; a bad value is an
// error naming the option and the value, and nothing is started. New does
// not connect: Start does, and fails when no broker answers.
func New(opts ...RuntimeOption) (*Runtime, error) {
	s := defaultSettings()
	for _, o := range opts {
		o.applyRuntime(&s)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if s.clientID == "" {
		s.clientID = s.service
	}
	if s.eventsGroup == "" {
		s.eventsGroup = s.service
	}
	rt := &Runtime{s: s, log: s.log, groups: map[string]*group{}, dlqTopics: map[string]struct{}{}, tracing: newTracing(s.tracerProvider)}
	if rt.log == nil {
		rt.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	rt.metrics = metrics.New(s.registerer)
	rt.metrics.RegisterPartitions(rt.partitionStats)
	produced := newProduceHook(rt.metrics)
	producing := func(role string, acks Acks) []kgo.Opt {
		opts := append(rt.clientOpts(role),
			kgo.WithHooks(produced),
			// Topics are created on first produce where the broker allows it.
			kgo.AllowAutoTopicCreation(),
		)
		opts = append(opts, s.producer.opts(s.requestTimeout)...)
		return append(opts, ackOpts(acks)...)
	}
	prod, err := kgo.NewClient(producing("producer", AcksAll)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	rt.prod, rt.pub = prod, prod
	if s.producer.acks != AcksAll {
		if rt.pub, err = kgo.NewClient(producing("publisher", s.producer.acks)...); err != nil {
			prod.Close()
			return nil, fmt.Errorf("kafka client: %w", err)
		}
	}
	rt.topics = topics.NewAdmin(prod)
	logger := rt.log
	rt.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(quietHandler{logger.Handler()}).With("component", "protoactor")
	}))
	return rt, nil
}

// producing lists the runtime's producing clients, each once.
func (rt *Runtime) producing() []*kgo.Client {
	if rt.pub != rt.prod {
		return []*kgo.Client{rt.prod, rt.pub}
	}
	return []*kgo.Client{rt.prod}
}

// System is the protoactor actor system, for the service's own actors.
func (rt *Runtime) System() *actor.ActorSystem { return rt.sys }

// Logger is the runtime's logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.log }

// Brokers are the bootstrap servers the runtime was given.
func (rt *Runtime) Brokers() []string { return slices.Clone(rt.s.brokers) }

// EventsTopic is the topic that carries named events.
func (rt *Runtime) EventsTopic() string { return rt.s.eventsTopic }

// Client is the runtime's producing client, shared by producers and the
// dead-letter writer: it waits for every in-sync replica, with idempotent
// writes, whatever ProducerAcks says (with AcksLeader or AcksNone,
// producers publish through a second client).
func (rt *Runtime) Client() *kgo.Client { return rt.prod }

// Start reconciles declared topics and starts every declared consumer
// group. It returns once the groups' clients are running (joining happens
// in the background).
func (rt *Runtime) Start(ctx context.Context) error {
	rt.mu.Lock()
	if rt.started {
		rt.mu.Unlock()
		return errors.New("runtime already started")
	}
	rt.started = true
	router := rt.router
	rt.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, rt.s.requestTimeout)
	err := rt.prod.Ping(pctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("start interrupted: %w", ctx.Err())
		}
		return &UnreachableError{Brokers: strings.Join(rt.s.brokers, ","), Err: err}
	}
	if rt.s.metricsListen != "" {
		cons, err := rt.newConsole()
		if err != nil {
			return err
		}
		srv, err := metrics.ServeWith(rt.s.metricsListen, rt.metrics, rt.Ready, cons.Handler())
		if err != nil {
			cons.Close()
			cons.closeClient()
			return err
		}
		rt.httpSrv, rt.console = srv, cons
		rt.log.Info("serving the console at /, /metrics, /healthz and /readyz", "addr", srv.Addr(), "admin", rt.s.consoleToken != "")
	}
	if err := rt.reconcile(ctx); err != nil {
		return err
	}
	if router != nil {
		if err := router.start(ctx); err != nil {
			return err
		}
	}
	rt.mu.Lock()
	groups := make([]*group, 0, len(rt.order))
	for _, name := range rt.order {
		groups = append(groups, rt.groups[name])
	}
	rt.mu.Unlock()
	for _, g := range groups {
		if err := g.start(); err != nil {
			return err
		}
	}
	if d := rt.s.stallTimeout; d > 0 {
		rt.mu.Lock()
		rt.stall = newStallWatch(rt, d)
		rt.mu.Unlock()
		go rt.stall.run()
	}
	if rt.console != nil {
		rt.console.Start()
	}
	return nil
}

// Run starts the runtime, serves until ctx is cancelled, then stops it
// gracefully (drain, commit, leave the groups) within the drain timeout.
func (rt *Runtime) Run(ctx context.Context) error {
	if err := rt.Start(ctx); err != nil {
		rt.Stop(context.Background())
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), rt.s.drainTimeout+10*time.Second)
	defer cancel()
	return rt.Stop(sctx)
}

// Stop stops fetching, drains in-flight records (bounded by the drain
// timeout), commits, flushes producers, leaves the groups (waiting for
// that until ctx ends: a rebalance in progress can hold it) and shuts the
// actor system and the embedded broker down. It is safe to call twice.
func (rt *Runtime) Stop(ctx context.Context) error {
	rt.stopOnce.Do(func() {
		rt.mu.Lock()
		rt.stopped = true
		groups := make([]*group, 0, len(rt.order))
		for _, name := range rt.order {
			groups = append(groups, rt.groups[name])
		}
		rt.mu.Unlock()
		if rt.console != nil {
			// Sampling stops first: it asks the groups' clients for
			// offsets, which are closing; the page keeps the last snapshot
			// until the listener closes.
			rt.console.Close()
		}
		var errs []error
		each := func(f func(*group)) {
			var wg sync.WaitGroup
			for _, g := range groups {
				wg.Go(func() { f(g) })
			}
			wg.Wait()
		}
		// Handlers and dead letters produce until the partitions are
		// drained; leaving the groups, which can wait for a rebalance,
		// comes last.
		if rt.stall != nil {
			rt.stall.close()
		}
		each(func(g *group) { g.quiesce(ctx) })
		for _, cl := range rt.producing() {
			if cl.BufferedProduceRecords() > 0 {
				if err := cl.Flush(ctx); err != nil {
					errs = append(errs, fmt.Errorf("flushing producer: %w", err))
				}
			}
		}
		each(func(g *group) { g.leave(ctx) })
		for _, cl := range rt.producing() {
			cl.Close()
		}
		rt.closeParking()
		if rt.httpSrv != nil {
			rt.httpSrv.Close(ctx)
			// After the listener: an action still answering uses it.
			rt.console.closeClient()
		}
		rt.sys.Shutdown()
		rt.stopResult = errors.Join(errs...)
	})
	return rt.stopResult
}

// groupRolePrefix starts the role of a consumer group's client: the
// group's name follows.
const groupRolePrefix = "group-"

// clientOpts is where every client the runtime builds starts: the seed
// brokers, client ID and timeouts, the metrics hooks of a client in role
// (and the tracing hooks, when tracing is on), then the service's own
// KafkaOptions.
func (rt *Runtime) clientOpts(role string) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(rt.s.brokers...),
		kgo.ClientID(rt.s.clientID),
		kgo.RetryTimeout(rt.s.requestTimeout),
		// Refresh metadata soon after a broker comes back, not after
		// franz-go's default 5s.
		kgo.MetadataMinAge(500 * time.Millisecond),
		kgo.WithHooks(rt.metrics.KafkaHook(role)),
		kgo.WithLogger(kafkaLogger(rt.log, role)),
	}
	if rt.tracing != nil {
		group, ok := strings.CutPrefix(role, groupRolePrefix)
		if !ok {
			group = ""
		}
		opts = append(opts, kgo.WithHooks(rt.tracing.clientHook(rt.s.clientID, group)))
	}
	if strings.HasPrefix(role, groupRolePrefix) {
		opts = append(opts, rt.s.group.opts()...)
	}
	return append(opts, rt.s.kafkaOpts...)
}

// register adds a consumer to its group, creating the group on first use.
func (rt *Runtime) register(c *consumer) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("consumer %s/%s: declare consumers before the runtime starts", c.topic, c.group)
	}
	return rt.add(c)
}

// registerStarted adds the runtime's own consumers (the event router)
// during Start.
func (rt *Runtime) registerStarted(c *consumer) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.add(c)
}

func (rt *Runtime) add(c *consumer) error {
	g := rt.groupFor(c.group)
	if err := g.conflicts(c); err != nil {
		return err
	}
	return g.addConsumer(c)
}

// groupFor is the group named name, created on first use (under rt.mu).
func (rt *Runtime) groupFor(name string) *group {
	g, ok := rt.groups[name]
	if !ok {
		g = newGroup(rt, name)
		rt.groups[name] = g
		rt.order = append(rt.order, name)
	}
	return g
}
