package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/partition"
)

// group is one consumer group: one franz-go group client, one poll loop,
// and a supervisor actor whose children are the partition actors of the
// current generation.
type group struct {
	rt   *Runtime
	name string
	// cons holds the group's consumers by topic, replaced whole (under
	// consMu) when one is added: a topic-pattern consumer adds one per
	// matching topic while the group runs, and readers (the poll loop,
	// the console, the stall watch) take it without a lock.
	cons   atomic.Pointer[map[string]*consumer]
	consMu sync.Mutex
	// patterns are the group's topic-pattern consumers (pattern.go).
	patterns []*patternConsumer
	log      *slog.Logger

	cl *kgo.Client
	// pool is cl's RecordPool when pooled (every consumer recycles): the
	// slices its fetched records are decoded into, back once the
	// partition actors recycled them.
	pool     partition.RecordPool
	pooled   bool
	sup      *actor.PID
	stopPoll context.CancelFunc
	polled   chan struct{}
	// room wakes a poll loop waiting for a full partition to drain.
	room chan struct{}

	mu      sync.Mutex
	parts   map[tp]*partition.Handle
	respawn []respawn
	// recreated are the topics being subscribed afresh because their
	// topic ID changed, until their partitions are assigned again.
	recreated map[string]bool

	// fetch and commit are the partitions whose fetches and commits fail,
	// for the log and Ready.
	fetch, commit *fetchHealth

	// pollWake cuts a poll short so that a partition queued in respawn
	// is started without waiting for records of another partition.
	pollWake pollWaker
	// eos is the group's exactly-once side: its Transform consumers and
	// their partitions' transactions (transact.go).
	eos eosGroup
	// batches are the group's ConsumeBatch consumers (batch.go).
	batches batchGroup
	// controls are the partitions' last transaction markers (control.go),
	// under mu.
	controls map[tp]*control

	joined atomic.Bool
	// closing is set once the group is being stopped: an assignment that
	// comes while it leaves starts no partition actor.
	closing atomic.Bool
}

type tp struct {
	topic     string
	partition int32
}

func newGroup(rt *Runtime, name string) *group {
	log := rt.log.With("group", name)
	g := &group{rt: rt, name: name, parts: map[tp]*partition.Handle{}, controls: map[tp]*control{},
		recreated: map[string]bool{}, room: make(chan struct{}, 1), log: log,
		fetch: newFetchHealth(log, "fetch"), commit: newFetchHealth(log, "commit")}
	g.cons.Store(&map[string]*consumer{})
	return g
}

// consumers are the group's consumers by topic; the map is never
// modified once returned.
func (g *group) consumers() map[string]*consumer { return *g.cons.Load() }

// addConsumer adds c, refusing a second consumer of its topic.
func (g *group) addConsumer(c *consumer) error {
	g.consMu.Lock()
	defer g.consMu.Unlock()
	old := *g.cons.Load()
	if _, dup := old[c.topic]; dup {
		return fmt.Errorf("consumer %s/%s: topic %q already has a consumer in group %q", c.topic, c.group, c.topic, c.group)
	}
	m := maps.Clone(old)
	m[c.topic] = c
	g.cons.Store(&m)
	return nil
}

// groupActor supervises the partition actors: it spawns them (so they are
// its children) and stops a crashed one rather than restarting it with
// empty offset state; the group then hands the partition's records to a
// fresh actor from the last marked offset.
type groupActor struct{ g *group }

type spawnReq struct{ cfg partition.Config }

func (a *groupActor) Receive(c actor.Context) {
	if m, ok := c.Message().(*spawnReq); ok {
		c.Respond(partition.Spawn(c, c.ActorSystem().Root, m.cfg))
	}
}

// HandleFailure implements actor.SupervisorStrategy for partition actors:
// a crash of the machinery (not of a handler, which is caught below it)
// stops the actor and leaves its uncommitted records for redelivery.
func (a *groupActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	a.g.log.Error("partition actor crashed; stopping it, its uncommitted records will be redelivered", "actor", child.Id, "reason", fmt.Sprint(reason))
	sup.StopChildren(child)
	a.g.crashed(child)
}

func (g *group) topics() []string {
	ts := make([]string, 0, len(g.consumers()))
	for t := range g.consumers() {
		ts = append(ts, t)
	}
	return ts
}

func (g *group) start() error {
	base := g.rt.clientOpts("group-" + g.name)
	// The supervisor exists before the client: assignment may come at once.
	g.sup = g.rt.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &groupActor{g: g} }))
	reset := kgo.NewOffset().AtStart()
	for _, c := range g.consumers() {
		if c.opts.fromLatest {
			reset = kgo.NewOffset().AtEnd()
		}
	}
	for _, p := range g.patterns {
		if p.opts.fromLatest {
			reset = kgo.NewOffset().AtEnd()
		}
	}
	// Before base, whose last options are the service's own kgo options.
	base = append(append(g.rt.s.metadataAge(len(g.patterns) > 0), g.consumeOpts()...), base...)
	g.pooled = g.recycles()
	if g.pooled {
		// Records decoded into pooled slices, which the partition actors
		// give back as records finish (partition.Config.Recycle): the
		// records are the client's largest allocation per fetch, and
		// the collections they cost took a fifth of key mode's speed.
		base = append(base, kgo.WithPools(&g.pool))
	}
	cl, err := kgo.NewClient(append(base,
		kgo.SessionTimeout(g.rt.s.sessionTimeout),
		// Small fetches: one per partition comes on top of the in-flight cap.
		kgo.FetchMaxPartitionBytes(int32(g.rt.s.fetchBytes)),
		kgo.ConsumerGroup(g.name),
		kgo.ConsumeResetOffset(reset),
		// Read committed by default: records of aborted transactions (an
		// exactly-once producer's failed batches) are never delivered; for
		// topics without transactions this costs nothing (ReadUncommitted).
		kgo.FetchIsolationLevel(g.rt.s.group.isolation()),
		// Transaction markers come with the records, so that a mark can
		// pass the marker that ends a partition (control.go).
		kgo.KeepControlRecords(),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(g.rt.s.commitInterval),
		kgo.AutoCommitCallback(g.committed),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(g.assigned),
		kgo.OnPartitionsRevoked(g.revoked),
		kgo.OnPartitionsLost(g.lost),
		// A resumed partition waits behind a fetch the broker holds for
		// partitions with nothing new; keep that hold short.
		kgo.FetchMaxWait(50*time.Millisecond),
	)...)
	if err != nil {
		return fmt.Errorf("group %s: kafka client: %w", g.name, err)
	}
	// Under mu: a metrics scrape may look at the client while Start runs.
	g.mu.Lock()
	g.cl = cl
	g.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	g.stopPoll = cancel
	g.polled = make(chan struct{})
	go g.poll(ctx)
	attrs := []any{"topics", g.topics()}
	if len(g.patterns) > 0 {
		ps := make([]string, len(g.patterns))
		for i, p := range g.patterns {
			ps[i] = p.pattern
		}
		attrs = append(attrs, "patterns", ps)
	}
	g.log.Info("consumer group started", attrs...)
	return nil
}

// poll is the group's one poll loop. It never blocks on a handler: each
// batch goes to its partition actor's mailbox. A partition at its
// in-flight cap holds the next poll for a while (waitForRoom), then is
// paused.
func (g *group) poll(ctx context.Context) {
	defer close(g.polled)
	for {
		g.waitForRoom(ctx)
		// Whole fetches: a paused partition has its buffered records
		// dropped and fetched again on resume, so taking them in small
		// slices would re-fetch the backlog over and over.
		pctx, polled := g.pollWake.context(ctx)
		fetches := g.cl.PollFetches(pctx)
		polled()
		if fetches.IsClientClosed() || ctx.Err() != nil {
			g.cl.AllowRebalance()
			return
		}
		var recreated []string
		fetches.EachError(func(t string, p int32, err error) {
			if ctx.Err() != nil || pctx.Err() != nil && errors.Is(err, context.Canceled) {
				// Cut short by pollWake: a respawn is waiting.
				return
			}
			g.fetch.failed(t, p, err)
			if t != "" && errors.Is(err, kerr.UnknownTopicID) && !slices.Contains(recreated, t) {
				recreated = append(recreated, t)
			}
		})
		fed := false
		g.mu.Lock()
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			k := tp{p.Topic, p.Partition}
			if h := g.parts[k]; h != nil && len(p.Records) > 0 {
				recs := g.dropControl(k, h, p.Records)
				if len(recs) > 0 {
					g.consumers()[p.Topic].m.received.Add(float64(len(recs)))
					h.Deliver(recs)
					fed = true
				}
				g.fetch.moved(p.Topic, p.Partition)
			}
		})
		g.mu.Unlock()
		if fed {
			// Let the partition actors just fed run before this goroutine
			// polls again. Deliver readied them on this P, but the poll
			// that follows readies franz-go's fetch goroutines and the
			// broker's, which would run first: on an idle 2-core machine
			// the hop from here to the partition actor took 60-90 µs a
			// record at 1,000 records/s (5 µs with the yield), most of
			// what actord added to the raw loop's produce-to-handler
			// latency (bench/RESULTS.md, scenario 4). Under load a poll
			// carries thousands of records, and one yield a poll is
			// nothing.
			runtime.Gosched()
		}
		for _, t := range recreated {
			g.resubscribe(t)
		}
		g.respawnCrashed()
		g.cl.AllowRebalance()
	}
}

// resubscribe subscribes to topic afresh: its fetches fail with
// UNKNOWN_TOPIC_ID, so the topic the client holds (by its ID) is gone and
// a topic of the same name is there, deleted and recreated or on a broker
// that replaced the last one without its data. franz-go never adopts the
// new ID by itself (the old offsets mean nothing in the new topic); it
// resumes once the topic is purged from the client and added back. The
// topic's partition actors are dropped without a commit when they are
// revoked (franz-go refuses a commit of a recreated topic by name, which
// would land on the new one), and the new topic is consumed from the
// group's committed offsets, or from the reset offset where it has none.
func (g *group) resubscribe(topic string) {
	g.mu.Lock()
	again := g.recreated[topic]
	g.recreated[topic] = true
	g.mu.Unlock()
	if again {
		return
	}
	g.log.Warn("topic has a new topic ID (deleted and recreated, or the broker replaced without its data): dropping its partitions without a commit and subscribing to it afresh", "topic", topic)
	g.rt.metrics.Rebalances.WithLabelValues(g.name, "recreated").Inc()
	g.cl.PurgeTopicsFromConsuming(topic)
	g.cl.AddConsumeTopics(topic)
	g.fetch.forget(topic)
	g.commit.forget(topic)
}

// holdFull is how long a full partition (partition.Handle.Full) may hold
// the group's next poll while another partition has room for records.
const holdFull = 50 * time.Millisecond

// recycles reports whether every consumer of the group recycles its
// records, so that its client decodes them into the group's RecordPool (a
// consumer that does not would leave the pool's rounded-up slices to the
// collector: more garbage than without it).
func (g *group) recycles() bool {
	if len(g.patterns) > 0 {
		return false
	}
	for _, c := range g.consumers() {
		if !c.recycles() {
			return false
		}
	}
	return true
}

// recycles reports whether c's handling keeps nothing of a record past
// its attempt, so that its finished records may be recycled: Consume's
// handlers, but not with a handler timeout (an abandoned attempt still
// runs with its record) or parking (its queues keep records).
func (c *consumer) recycles() bool {
	return c.recycle && c.opts.handlerTimeout == 0 && c.park == nil
}

// waitForRoom returns when the group may poll: when no partition is full.
// While one is, franz-go keeps the next fetch buffered, as it does for a
// hand-written loop busy with the last one, and the poll waits for the
// partition to drain: as long as it takes if every partition is full (no
// other could take records), up to holdFull if another has room. A
// partition still full then is paused: its buffered records are dropped
// and fetched again when it resumes at half its cap. So the in-flight cap
// holds, plus one and a half fetches per partition, and a slow partition
// cannot starve the others.
func (g *group) waitForRoom(ctx context.Context) {
	var recheck *time.Ticker
	var roomSince time.Time
	for {
		full, room := g.capacity()
		if len(full) == 0 {
			break
		}
		switch {
		case !room:
			roomSince = time.Time{}
		case roomSince.IsZero():
			roomSince = time.Now()
		case time.Since(roomSince) >= holdFull:
			for _, h := range full {
				h.Pause()
			}
			return
		}
		if recheck == nil {
			// Wake-ups come from the partitions (Config.Room) and from
			// rebalances; the ticker ends the hold when no event does.
			recheck = time.NewTicker(holdFull / 2)
			defer recheck.Stop()
		}
		select {
		case <-g.room:
		case <-recheck.C:
		case <-ctx.Done():
			return
		}
	}
}

// capacity lists the partitions at their in-flight cap and reports
// whether any other partition has room.
func (g *group) capacity() (full []*partition.Handle, room bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range g.parts {
		if h.Full() {
			full = append(full, h)
		} else if h.HasRoom() {
			room = true
		}
	}
	return full, room
}

// wake ends a waitForRoom early so that it looks again.
func (g *group) wake() {
	select {
	case g.room <- struct{}{}:
	default:
	}
}

func (g *group) assigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	if g.closing.Load() {
		return
	}
	g.joined.Store(true)
	g.rt.metrics.Rebalances.WithLabelValues(g.name, "assigned").Inc()
	g.mu.Lock()
	for topic := range assigned {
		delete(g.recreated, topic)
	}
	g.mu.Unlock()
	for topic, ps := range assigned {
		c := g.consumerOf(topic)
		if c == nil {
			continue
		}
		for _, p := range ps {
			h, err := g.spawn(cl, c, p)
			if err != nil {
				g.log.Error("cannot start partition actor", "topic", topic, "partition", p, "error", err)
				continue
			}
			g.mu.Lock()
			g.parts[tp{topic, p}] = h
			g.mu.Unlock()
		}
		g.log.Info("partitions assigned", "topic", topic, "partitions", ps)
	}
	g.wake()
}

func (g *group) spawn(cl *kgo.Client, c *consumer, p int32) (*partition.Handle, error) {
	topic := c.topic
	cfg := c.partitionConfig(p)
	ctl := g.newControl(tp{topic, p})
	cfg.Mark = func(epoch int32, offset int64) {
		if c := ctl.offset.Load(); c == offset {
			// Every record before a transaction marker is done: the mark
			// passes the marker (control.go).
			epoch, offset = ctl.epoch.Load(), c+1
		}
		cl.MarkCommitOffsets(map[string]map[int32]kgo.EpochOffset{topic: {p: {Epoch: epoch, Offset: offset}}})
	}
	cfg.Pause = func() { cl.PauseFetchPartitions(map[string][]int32{topic: {p}}) }
	cfg.Resume = func() { cl.ResumeFetchPartitions(map[string][]int32{topic: {p}}) }
	cfg.Room = g.wake
	// Only records of the pool are recycled: Recycle on any other is a
	// wasted call a record.
	cfg.Recycle = g.pooled && c.recycles()
	g.batching(&cfg)
	tx, err := g.transactional(cl, c, p, &cfg)
	if err != nil {
		return nil, err
	}
	res, err := g.rt.sys.Root.RequestFuture(g.sup, &spawnReq{cfg: cfg}, 10*time.Second).Result()
	if err != nil {
		if tx != nil {
			tx.close(context.Background(), false)
		}
		return nil, err
	}
	h := res.(*partition.Handle)
	if tx != nil {
		g.eos.bind(h, tx)
	}
	return h, nil
}

// committed logs a failed interval commit: the records stay uncommitted
// and the next commit carries them.
// Repeated failures of a partition are logged once an interval, with
// their count (fetchHealth).
func (g *group) committed(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	if err != nil {
		g.commit.failed("", -1, fmt.Errorf("%w (the next commit retries it)", err))
		return
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
				g.commit.failed(t.Topic, p.Partition, fmt.Errorf("%w (the next commit retries it)", e))
			} else {
				g.commit.moved(t.Topic, p.Partition)
			}
		}
	}
}

// revoked drains the revoked partitions' actors (bounded by the drain
// timeout), commits what they finished, and stops them.
func (g *group) revoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	hs := g.take(revoked)
	g.rt.metrics.Rebalances.WithLabelValues(g.name, "revoked").Inc()
	g.mu.Lock()
	for k, h := range hs {
		if g.recreated[k.topic] {
			// The topic these records came from is gone.
			h.Drop()
			g.eos.drop(h, -1)
			delete(hs, k)
		}
	}
	g.mu.Unlock()
	g.drainAndCommit(ctx, hs)
	if len(hs) > 0 {
		g.log.Info("partitions revoked", "partitions", fmt.Sprint(revoked))
	}
}

// drainAndCommit drains the partition actors of hs (each bounded by the
// drain timeout), stops them and commits what they finished.
func (g *group) drainAndCommit(ctx context.Context, hs map[tp]*partition.Handle) {
	var wg sync.WaitGroup
	for key, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !h.Drain(g.rt.s.drainTimeout) {
				g.log.Warn("drain timed out; unfinished records stay uncommitted", "topic", key.topic, "partition", key.partition)
			}
		}()
	}
	wg.Wait()
	// Exactly-once partitions commit their offsets in their transactions.
	g.eos.commit(ctx, hs)
	cctx, cancel := context.WithTimeout(ctx, g.rt.s.requestTimeout)
	defer cancel()
	if err := g.cl.CommitMarkedOffsets(cctx); err != nil {
		g.log.Error("commit on revoke failed; uncommitted records will be redelivered", "error", err)
	}
}

// lost stops the lost partitions' actors without committing: another
// member may own them already.
func (g *group) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	g.rt.metrics.Rebalances.WithLabelValues(g.name, "lost").Inc()
	for _, h := range g.take(lost) {
		h.Drop()
		g.eos.drop(h, -1)
	}
	if len(lost) > 0 {
		g.log.Warn("partitions lost", "partitions", fmt.Sprint(lost))
	}
}

// takeAll forgets every partition actor and returns them.
func (g *group) takeAll() map[tp]*partition.Handle {
	defer g.wake()
	g.mu.Lock()
	defer g.mu.Unlock()
	hs := g.parts
	g.parts = map[tp]*partition.Handle{}
	return hs
}

func (g *group) take(m map[string][]int32) map[tp]*partition.Handle {
	defer g.wake()
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[tp]*partition.Handle{}
	for topic, ps := range m {
		for _, p := range ps {
			k := tp{topic, p}
			if h, ok := g.parts[k]; ok {
				out[k] = h
				delete(g.parts, k)
			}
		}
	}
	return out
}

// crashed forgets a crashed partition actor and queues its partition for
// a fresh actor: the poll loop respawns it and rewinds fetching to the
// last offset the old one marked, so nothing it held is skipped.
func (g *group) crashed(pid *actor.PID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, h := range g.parts {
		if h.PID().Equal(pid) {
			delete(g.parts, k)
			h.Drop()
			// An exactly-once partition starts again where its
			// transactions committed, not where its actor marked.
			g.respawn = append(g.respawn, respawn{k, g.eos.drop(h, h.ResumeOffset())})
		}
	}
	g.wake()
	g.pollWake.wake()
}

type respawn struct {
	tp
	offset int64
}

// respawnCrashed runs on the poll goroutine before AllowRebalance, where
// SetOffsets cannot race a revoke.
func (g *group) respawnCrashed() {
	g.mu.Lock()
	todo := g.respawn
	g.respawn = nil
	g.mu.Unlock()
	for _, r := range todo {
		c := g.consumers()[r.topic]
		h, err := g.spawn(g.cl, c, r.partition)
		if err != nil {
			g.log.Error("cannot restart partition actor", "topic", r.topic, "partition", r.partition, "error", err)
			continue
		}
		g.mu.Lock()
		g.parts[r.tp] = h
		g.mu.Unlock()
		if r.offset >= 0 {
			g.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{r.topic: {r.partition: {Epoch: -1, Offset: r.offset}}})
		}
		g.log.Warn("partition actor restarted", "topic", r.topic, "partition", r.partition, "from_offset", r.offset)
	}
}

// quiesce ends the poll loop, then drains and commits every partition.
// It comes before leave: franz-go leaves only once a join in flight
// returns, and the coordinator holds a join until the rebalance
// completes, up to the rebalance timeout (60 s).
func (g *group) quiesce(ctx context.Context) {
	if g.cl == nil {
		return
	}
	g.closing.Store(true)
	g.stopPoll()
	select {
	case <-g.polled:
	case <-ctx.Done():
	}
	if hs := g.takeAll(); len(hs) > 0 {
		g.drainAndCommit(ctx, hs)
		g.log.Info("partitions released", "partitions", len(hs))
	}
}

// leave closes the client, which leaves the group, waiting for that until
// ctx ends.
func (g *group) leave(ctx context.Context) {
	if g.cl == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		g.cl.CloseAllowingRebalance()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// What was handled is committed (or its commit failure logged):
		// nothing is lost by going. The coordinator drops this member
		// after its session timeout.
		g.log.Warn("leaving the group did not finish in time (a rebalance is in progress); the coordinator drops this member after kafka.session_timeout")
	}
	g.rt.sys.Root.Stop(g.sup)
	g.log.Info("consumer group stopped")
}
