package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/dlq"
	"github.com/actord/actord/partition"
)

// DefaultTransactionalIDPrefix starts the transactional ID of every
// exactly-once partition when TransactionalIDPrefix is not given.
const DefaultTransactionalIDPrefix = "actord-"

// TransactionalIDPrefix sets how the transactional IDs of exactly-once
// consumers (Transform) begin: each partition of such a consumer writes
// under the ID prefix + "<group>-<topic>-<partition>", the same on every
// member and across restarts, so that whichever member owns the
// partition next fences the one before (its open transaction is aborted,
// its writes refused). Two runtimes that consume the same group, topic
// and partition on one cluster must share the prefix; runtimes of
// different clusters or applications that could reuse group names give
// theirs apart. Not empty. Default DefaultTransactionalIDPrefix.
func TransactionalIDPrefix(p string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if p == "" {
			s.bad("actors.TransactionalIDPrefix(%q): must not be empty", p)
		}
		s.txnPrefix = p
	})
}

// Transform declares an exactly-once consumer of topic in group: fn gets
// each record decoded into T, like Consume's handler, and returns the
// records it produces (each with its Topic set; Key, Value and Headers as
// it likes). The outputs of the records of a partition, the dead letters
// of its failed records and its consumed offsets are written in one Kafka
// transaction per batch (the records finished in a commit interval, or
// before a revoke or a stop), so that a reader with read_committed
// isolation sees the outputs of each input exactly once, through crashes,
// restarts and rebalances.
//
// What is exactly once is Kafka to Kafka: the records fn returns. A side
// effect of fn itself (a call to another service, a write to a database)
// happens at least once, as with Consume: a batch that does not commit
// runs again.
//
// An attempt's outputs join the transaction only when fn returns nil, so
// a failed attempt's outputs are never written and its retries run as
// with Consume (retries, backoff, then the dead-letter topic, inside the
// transaction). A transaction that fails (a refused output, a commit the
// broker refuses, the member fenced) is aborted and the partition runs
// again from its last committed offset.
//
// Exactly-once consumers run in partition order (Ordering(ByPartition),
// the default): a batch's committed offset must cover exactly the records
// whose outputs are in the transaction, which a partition's one record at
// a time gives. Ordering(ByKey) and Ordering(Unordered) are an error.
//
// Each assigned partition has its own transactional producer (a franz-go
// client with transactional ID TransactionalIDPrefix + group-topic-
// partition), initialized when the partition is assigned, before its
// committed offset is fetched: the previous owner is fenced first.
func Transform[T any](rt *Runtime, topic, group string, fn func(context.Context, Message[T]) ([]*kgo.Record, error), opts ...ConsumerOption) error {
	if fn == nil {
		return fmt.Errorf("consumer %s/%s: nil transform", topic, group)
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	if rt.s.group.readUncommitted {
		return fmt.Errorf("consumer %s/%s: actors.ReadUncommitted() and an exactly-once consumer (actors.Transform): its outputs must follow committed inputs only", topic, group)
	}
	if c.opts.ordering != ByPartition {
		return fmt.Errorf("consumer %s/%s: actors.Ordering(%v): an exactly-once consumer (actors.Transform) runs in partition order only, so that each transaction commits the offsets of exactly the records whose outputs it holds", topic, group, c.opts.ordering)
	}
	tf := &transform{run: transformRun(c.dec, fn)}
	// The consumer's own handler never runs: every partition gets one bound
	// to its transaction (group.transactional).
	c.handle = func(context.Context, *kgo.Record, int) error {
		return errors.New("exactly-once consumer without a transaction")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("consumer %s/%s: declare consumers before the runtime starts", topic, group)
	}
	if err := rt.add(c); err != nil {
		return err
	}
	rt.groups[group].eos.declare(topic, tf)
	return nil
}

// transformRun decodes a record into T with dec, as Consume does (a
// record that does not decode is a poison record), and runs fn on it.
func transformRun[T any](dec Decoder, fn func(context.Context, Message[T]) ([]*kgo.Record, error)) func(context.Context, *kgo.Record, int) ([]*kgo.Record, error) {
	return func(ctx context.Context, r *kgo.Record, attempt int) ([]*kgo.Record, error) {
		var v T
		if raw, ok := any(&v).(*[]byte); ok {
			if _, isJSON := dec.(JSON); isJSON {
				*raw = r.Value
				return fn(ctx, newMessage(r, attempt, v))
			}
		}
		var err error
		if cd, ok := dec.(contextDecoder); ok {
			err = cd.DecodeContext(ctx, r.Value, &v)
		} else {
			err = dec.Decode(r.Value, &v)
		}
		if err != nil {
			return nil, decodeFailure(r, err)
		}
		return fn(ctx, newMessage(r, attempt, v))
	}
}

// transform is an exactly-once consumer's function on raw records.
type transform struct {
	run func(ctx context.Context, r *kgo.Record, attempt int) ([]*kgo.Record, error)
}

// eosGroup is a group's exactly-once side: its transforms by topic and
// the transaction of each of their partition actors.
type eosGroup struct {
	mu         sync.Mutex
	transforms map[string]*transform
	txns       map[*partition.Handle]*transactor
	// refused are the records (by partition and offset) whose outputs
	// were in a produce the broker refused for good (a record batch too
	// large, an invalid record). A refusal names a whole batch of
	// outputs, so such a record is a suspect: when it runs again after
	// the abort, its outputs go in a transaction of their own (addAlone);
	// refused there, it is sure, fails for good and is dead-lettered, so
	// that the partition moves on.
	refused map[tp]map[int64]refusal
}

// refusal is why the broker refused outputs of a record, and whether
// they were its own alone.
type refusal struct {
	err  error
	sure bool
}

// refuse records that the broker refused outputs of the record at offset
// of k for good, among others unless sure.
func (e *eosGroup) refuse(k tp, offset int64, err error, sure bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.refused == nil {
		e.refused = map[tp]map[int64]refusal{}
	}
	if e.refused[k] == nil {
		e.refused[k] = map[int64]refusal{}
	}
	e.refused[k][offset] = refusal{err: err, sure: sure || e.refused[k][offset].sure}
}

// refusalOf is what the broker refused of the record at offset of k.
func (e *eosGroup) refusalOf(k tp, offset int64) (refusal, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.refused[k][offset]
	return f, ok
}

// accepted forgets a suspect whose outputs the broker took alone.
func (e *eosGroup) accepted(k tp, offset int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.refused[k], offset)
}

func (e *eosGroup) declare(topic string, tf *transform) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.transforms == nil {
		e.transforms = map[string]*transform{}
	}
	e.transforms[topic] = tf
}

func (e *eosGroup) transform(topic string) *transform {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.transforms[topic]
}

func (e *eosGroup) bind(h *partition.Handle, t *transactor) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.txns == nil {
		e.txns = map[*partition.Handle]*transactor{}
	}
	e.txns[h] = t
	t.h.Store(h)
}

func (e *eosGroup) take(h *partition.Handle) *transactor {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.txns[h]
	delete(e.txns, h)
	return t
}

// commit commits the transactions of the drained partition actors hs and
// closes them, in parallel: the revoke and the stop of exactly-once
// partitions. A transaction that cannot commit is aborted; its records
// run again on the partition's next owner.
func (e *eosGroup) commit(ctx context.Context, hs map[tp]*partition.Handle) {
	var wg sync.WaitGroup
	for _, h := range hs {
		if t := e.take(h); t != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.close(ctx, true)
			}()
		}
	}
	wg.Wait()
}

// drop aborts and closes the transaction of h, a partition actor dropped
// without a commit (lost, crashed, its topic recreated), in the
// background, and returns where the partition's next actor must start so
// that nothing the transaction held is skipped: the transaction's last
// committed offset, else its first record, else fallback. A partition
// that is not exactly-once returns fallback.
func (e *eosGroup) drop(h *partition.Handle, fallback int64) int64 {
	t := e.take(h)
	if t == nil {
		return fallback
	}
	at := t.resume(fallback)
	go t.close(context.Background(), false)
	return at
}

// transactional makes cfg, the partition config of an exactly-once
// consumer's partition, write through a transaction of its own: the
// handler's outputs and the dead letters go into it, and nothing is
// marked on the group client (the offsets are committed in the
// transaction). It returns nil for other consumers. The transactional
// producer is initialized here, within the assignment and before the
// partition's committed offset is fetched, so that the previous owner is
// fenced and its open transaction aborted before this member reads where
// to start.
func (g *group) transactional(cl *kgo.Client, c *consumer, p int32, cfg *partition.Config) (*transactor, error) {
	tf := g.eos.transform(c.topic)
	if tf == nil {
		return nil, nil
	}
	t, err := newTransactor(g, cl, c, p)
	if err != nil {
		return nil, err
	}
	cfg.Mark = nil
	cfg.Handle = func(ctx context.Context, r *kgo.Record, attempt int) error {
		outs, err := tf.run(ctx, r, attempt)
		if err != nil {
			return err
		}
		return t.add(ctx, r, outs)
	}
	if cfg.DeadLetter != nil {
		cfg.DeadLetter = t.deadLetterFunc(c.opts.deadLetter)
	}
	return t, nil
}

// transactor is one exactly-once partition's transactional producer and
// the state of its open transaction. Records of the partition reach it
// one at a time, in offset order (partition mode): each successful
// attempt's outputs, or a dead letter, join the open transaction and move
// next past their record, so the offset a commit writes covers exactly
// the records whose outputs the transaction holds.
type transactor struct {
	g     *group
	group *kgo.Client // the group's client: member ID and generation, offsets-only commits
	cl    *kgo.Client // transactional, this partition's alone
	id    string
	topic string
	// topicID is the consumed topic's ID, which TxnOffsetCommit names.
	topicID [16]byte
	part    int32
	log     *slog.Logger
	h       atomic.Pointer[partition.Handle]

	// failed is the first produce error of the open transaction; once
	// set, nothing more joins it and it is aborted.
	failed atomic.Pointer[error]
	kick   chan struct{} // ends the commit wait early: a produce failed
	stop   chan struct{}
	loop   chan struct{} // closed when the commit loop returns

	closeOnce sync.Once

	mu sync.Mutex
	// open: BeginTransaction was called and EndTransaction not yet.
	open bool
	// next is the offset after the last record whose outputs are in the
	// open transaction (or committed); first is the first record finished
	// since the last commit; committed the last committed offset. -1:
	// none.
	next      kgo.EpochOffset
	first     int64
	committed int64
	closed    bool
	// aborted is the cause of the abort that closed t, if one did.
	aborted error
}

// errTransactionClosed fails what is handed to a transaction that was
// closed (revoked, stopped) or failed: the partition actor is on its way
// out and the record stays uncommitted.
var errTransactionClosed = errors.New("the partition's transaction is closed")

func newTransactor(g *group, groupCl *kgo.Client, c *consumer, p int32) (*transactor, error) {
	id := g.rt.txnPrefix() + g.name + "-" + c.topic + "-" + strconv.Itoa(int(p))
	// The runtime's client settings (clientOpts) without its per-role
	// metrics hook: a client per partition would register the same
	// instruments again.
	opts := []kgo.Opt{
		kgo.SeedBrokers(g.rt.s.brokers...),
		kgo.ClientID(g.rt.s.clientID),
		kgo.RetryTimeout(g.rt.s.requestTimeout),
		kgo.MetadataMinAge(500 * time.Millisecond),
		kgo.TransactionalID(id),
	}
	if g.rt.tracing != nil {
		opts = append(opts, kgo.WithHooks(g.rt.tracing.clientHook(g.rt.s.clientID, g.name)))
	}
	cl, err := kgo.NewClient(append(opts, g.rt.s.kafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("transactional producer %s: %w", id, err)
	}
	t := &transactor{g: g, group: groupCl, cl: cl, id: id, topic: c.topic, part: p,
		log:  g.log.With("topic", c.topic, "partition", p, "transactional_id", id),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), loop: make(chan struct{}),
		next: kgo.EpochOffset{Epoch: -1, Offset: -1}, first: -1, committed: -1}
	// InitProducerID now: it fences the partition's previous owner and
	// aborts its open transaction, before this member fetches the
	// partition's committed offset (franz-go fetches it once the
	// assignment callback returns, and waits for pending transactional
	// offsets: require_stable).
	ctx, cancel := context.WithTimeout(context.Background(), g.rt.s.requestTimeout)
	defer cancel()
	if _, _, err := cl.ProducerID(ctx); err != nil {
		// Not fatal: franz-go initializes it with the first transaction,
		// and a record's outputs are then refused if another producer
		// took the ID. But until then the previous owner is not fenced
		// before the offset fetch, so say so.
		t.log.Warn("cannot initialize the transactional producer within the assignment; it is initialized with the first transaction", "error", err)
	}
	if err := t.lookupTopicID(ctx); err != nil {
		t.log.Warn("cannot look up the topic's ID; looked up again at the first commit", "error", err)
	}
	go t.run()
	return t, nil
}

// lookupTopicID finds the consumed topic's ID, which TxnOffsetCommit
// names topics by (v6 and later), if t does not know it yet.
func (t *transactor) lookupTopicID(ctx context.Context) error {
	if t.topicID != ([16]byte{}) {
		return nil
	}
	details, err := kadm.NewClient(t.cl).ListTopics(ctx, t.topic)
	if err == nil {
		err = details[t.topic].Err
	}
	if err != nil {
		return fmt.Errorf("topic %s: %w", t.topic, err)
	}
	t.topicID = details[t.topic].ID
	return nil
}

// txnPrefix is the transactional ID prefix the options settle on.
func (rt *Runtime) txnPrefix() string {
	if rt.s.txnPrefix == "" {
		return DefaultTransactionalIDPrefix
	}
	return rt.s.txnPrefix
}

// add puts the outputs of r's successful attempt into the open
// transaction (beginning one if none is open) and moves next past r. An
// output without a topic fails the attempt for good, before anything of
// it is produced. Once the transaction has failed or is closed, add
// waits for ctx (the partition actor is being replaced) and returns its
// error, so that r is neither finished nor dead-lettered.
func (t *transactor) add(ctx context.Context, r *kgo.Record, outs []*kgo.Record) error {
	for i, o := range outs {
		if o == nil || o.Topic == "" {
			return Permanent(fmt.Errorf("transform output %d of %d has no topic", i+1, len(outs)))
		}
	}
	k := tp{t.topic, t.part}
	f, suspect := t.g.eos.refusalOf(k, r.Offset)
	if suspect && f.sure && len(outs) > 0 {
		return Permanent(fmt.Errorf("the broker refused an output of this record: %w", f.err))
	}
	t.mu.Lock()
	if t.closed || t.failed.Load() != nil {
		t.mu.Unlock()
		<-ctx.Done()
		return fmt.Errorf("%w: %w", errTransactionClosed, ctx.Err())
	}
	if suspect && len(outs) > 0 {
		return t.addAlone(ctx, r, outs)
	}
	if len(outs) > 0 {
		if err := t.begin(); err != nil {
			t.mu.Unlock()
			<-ctx.Done()
			return fmt.Errorf("%w: %w", errTransactionClosed, ctx.Err())
		}
		off := r.Offset
		for _, o := range outs {
			t.cl.Produce(t.g.rt.traceFrom(r), o, func(_ *kgo.Record, err error) {
				if err != nil && refusedForGood(err) {
					t.g.eos.refuse(k, off, err, false)
				}
				t.produced(nil, err)
			})
		}
	}
	t.advance(r)
	t.mu.Unlock()
	return nil
}

// addAlone is add for a suspect record (see eosGroup.refused): it
// commits the open transaction, then writes r's outputs in a
// transaction of their own and waits for them. If the broker refuses
// them for good, that transaction is aborted (it holds nothing else),
// and r fails for good, to be dead-lettered. t.mu is held; addAlone
// unlocks it.
func (t *transactor) addAlone(ctx context.Context, r *kgo.Record, outs []*kgo.Record) error {
	k := tp{t.topic, t.part}
	cctx, cancel := context.WithTimeout(context.Background(), t.g.rt.s.requestTimeout)
	defer cancel()
	gone := func(err error) error {
		t.fail(err)
		t.mu.Unlock()
		<-ctx.Done()
		return fmt.Errorf("%w: %w", errTransactionClosed, ctx.Err())
	}
	if err := t.commitLocked(cctx); err != nil {
		return gone(err)
	}
	if err := t.begin(); err != nil {
		return gone(err)
	}
	var mu sync.Mutex
	var perr error
	for _, o := range outs {
		t.cl.Produce(t.g.rt.traceFrom(r), o, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if perr == nil {
				perr = err
			}
		})
	}
	if err := t.cl.Flush(cctx); err != nil {
		return gone(t.abort(cctx, fmt.Errorf("flushing the transaction: %w", err)))
	}
	mu.Lock()
	err := perr
	mu.Unlock()
	switch {
	case err == nil:
		t.g.eos.accepted(k, r.Offset)
		t.advance(r)
		t.mu.Unlock()
		return nil
	case !refusedForGood(err):
		return gone(t.abort(cctx, err))
	}
	if aerr := t.cl.AbortBufferedRecords(cctx); aerr != nil {
		return gone(t.abort(cctx, aerr))
	}
	if aerr := t.cl.EndTransaction(cctx, kgo.TryAbort); aerr != nil {
		t.open = false
		return gone(t.abort(cctx, aerr))
	}
	t.open = false
	t.g.eos.refuse(k, r.Offset, err, true)
	t.mu.Unlock()
	return Permanent(fmt.Errorf("the broker refused an output of this record: %w", err))
}

// begin opens a transaction if none is open. t.mu is held.
func (t *transactor) begin() error {
	if t.open {
		return nil
	}
	if err := t.cl.BeginTransaction(); err != nil {
		t.fail(fmt.Errorf("beginning a transaction: %w", err))
		return err
	}
	t.open = true
	return nil
}

// advance moves next past r, the record just finished. t.mu is held.
func (t *transactor) advance(r *kgo.Record) {
	if t.first < 0 {
		t.first = r.Offset
	}
	t.next = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
}

// produced is the promise of every record produced in the transaction.
func (t *transactor) produced(_ *kgo.Record, err error) {
	if err != nil {
		t.fail(err)
	}
}

// fail records the transaction's first failure and wakes the commit loop,
// which aborts it.
func (t *transactor) fail(err error) {
	if t.failed.CompareAndSwap(nil, &err) {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// deadLetterFunc writes dead letters into the partition's transaction:
// the record finishes (and the partition moves on) once its dead letter
// is written in the open transaction; the commit makes both visible with
// the offset past it.
func (t *transactor) deadLetterFunc(topic string) partition.DeadLetterFunc {
	rt := t.g.rt
	return func(r *kgo.Record, f partition.Failure, done func(error)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), rt.s.requestTimeout)
			err := rt.ensureDeadLetterTopic(ctx, topic, r.Topic)
			cancel()
			if err != nil {
				done(err)
				return
			}
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.closed || t.failed.Load() != nil {
				done(errTransactionClosed)
				return
			}
			if err := t.begin(); err != nil {
				done(errTransactionClosed)
				return
			}
			t.cl.Produce(rt.traceFrom(r), dlq.Record(topic, r, failure(f, "")), func(_ *kgo.Record, err error) {
				t.produced(nil, err)
				done(err)
			})
			t.advance(r)
		}()
	}
}

// run commits the open transaction every commit interval until the
// transactor is closed. A transaction that fails is aborted and the
// partition rewound to its last committed offset (rewind).
func (t *transactor) run() {
	defer close(t.loop)
	tick := time.NewTicker(t.g.rt.s.commitInterval)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		case <-t.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.g.rt.s.requestTimeout)
		err := t.commit(ctx)
		cancel()
		if err != nil {
			t.rewind(err)
			return
		}
	}
}

// commit commits the open transaction: it flushes the outputs, commits
// the offset past the last record in it (AddOffsetsToTxn and
// TxnOffsetCommit, fenced by the group generation), then ends the
// transaction. Records that produced nothing since the last commit have
// their offset committed by the group client instead: no transaction
// holds anything of theirs. An error means the transaction was aborted
// (or is being aborted by the broker) and t is closed.
func (t *transactor) commit(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.commitLocked(ctx)
}

// commitLocked is commit with t.mu held. On a transactor closed by an
// abort it returns the abort's cause.
func (t *transactor) commitLocked(ctx context.Context) error {
	if t.closed {
		return t.aborted
	}
	if ferr := t.failed.Load(); ferr != nil {
		return t.abort(ctx, *ferr)
	}
	if t.next.Offset < 0 || t.next.Offset <= t.committed {
		return nil
	}
	if !t.open {
		var err error
		t.group.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{t.topic: {t.part: t.next}},
			func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, cerr error) {
				err = cerr
				for _, rt := range resp.Topics {
					for _, rp := range rt.Partitions {
						err = errors.Join(err, kerr.ErrorForCode(rp.ErrorCode))
					}
				}
			})
		if err != nil {
			// Nothing is lost: the next commit carries it.
			t.log.Warn("offset commit failed; the next commit retries it", "offset", t.next.Offset, "error", err)
			return nil
		}
		t.committed, t.first = t.next.Offset, -1
		return nil
	}
	if err := t.cl.Flush(ctx); err != nil {
		return t.abort(ctx, fmt.Errorf("flushing the transaction: %w", err))
	}
	if ferr := t.failed.Load(); ferr != nil {
		return t.abort(ctx, *ferr)
	}
	if err := t.commitOffset(ctx); err != nil {
		return t.abort(ctx, fmt.Errorf("committing offset %d in the transaction: %w", t.next.Offset, err))
	}
	if err := t.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return t.abort(ctx, fmt.Errorf("committing the transaction: %w", err))
	}
	t.open = false
	t.committed, t.first = t.next.Offset, -1
	return nil
}

// commitOffset adds the group's offsets to the open transaction and
// writes the offset past its last record, with the group's member ID and
// generation, so that the coordinator refuses the commit of a member
// that lost the generation (KIP-447). t.mu is held.
func (t *transactor) commitOffset(ctx context.Context) error {
	if err := t.lookupTopicID(ctx); err != nil {
		return err
	}
	pid, epoch, err := t.cl.ProducerID(ctx)
	if err != nil {
		return err
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = t.id, pid, epoch, t.g.name
	if err := retryConcurrent(ctx, func() error {
		resp, err := add.RequestWith(ctx, t.cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}); err != nil {
		return fmt.Errorf("AddOffsetsToTxn: %w", err)
	}
	member, gen := t.group.GroupMetadata()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = t.id, t.g.name, pid, epoch
	req.MemberID, req.Generation = member, gen
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic, rt.TopicID = t.topic, t.topicID
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = t.part, t.next.Offset, t.next.Epoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return retryConcurrent(ctx, func() error {
		resp, err := req.RequestWith(ctx, t.cl)
		if err != nil {
			return err
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// retryConcurrent runs fn again while the broker answers
// CONCURRENT_TRANSACTIONS (the last transaction's markers are still being
// written), with a short backoff, until ctx ends.
func retryConcurrent(ctx context.Context, fn func() error) error {
	backoff := 10 * time.Millisecond
	for {
		err := fn()
		if !errors.Is(err, kerr.ConcurrentTransactions) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// abort aborts the open transaction after cause and closes t: its
// partition must start again from the last committed offset. t.mu is
// held.
func (t *transactor) abort(ctx context.Context, cause error) error {
	t.closed, t.aborted = true, cause
	if t.open {
		if err := t.cl.AbortBufferedRecords(ctx); err != nil {
			t.log.Warn("aborting buffered records", "error", err)
		}
		if err := t.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
			// The broker aborts it at the transaction timeout, or
			// the next owner's InitProducerID does at once.
			t.log.Warn("aborting the transaction", "error", err)
		}
		t.open = false
	}
	return cause
}

// resume is where the partition's next actor must start: the last
// committed offset, else the first record finished since, else
// fallback.
func (t *transactor) resume(fallback int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.committed >= 0:
		return t.committed
	case t.first >= 0:
		return t.first
	}
	return fallback
}

// rewind replaces the partition actor after a failed transaction: the
// records since the last commit run again, in a new transaction of a new
// producer (which fences whatever is left of this one).
func (t *transactor) rewind(cause error) {
	at := t.resume(-1)
	h := t.h.Load()
	t.closeClient()
	if off, ok := t.fetchCommitted(); ok {
		// The broker's word over t's: an end of transaction whose answer
		// was lost may have committed after all.
		at = off
	}
	t.log.Error("transaction aborted; the partition runs again from its last committed offset", "from_offset", at, "error", cause)
	if h != nil && t.g.eos.take(h) != nil {
		t.g.rewind(h, at)
	}
}

// fetchCommitted is the partition's committed offset as the group
// coordinator has it, once no transaction of it is pending
// (require_stable), and whether there is one.
func (t *transactor) fetchCommitted() (int64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), t.g.rt.s.requestTimeout)
	defer cancel()
	resp, err := kadm.NewClient(t.group).FetchOffsets(kadm.RequireStable(ctx), t.g.name)
	if err != nil {
		t.log.Warn("cannot fetch the committed offset; starting from the last one this member committed", "error", err)
		return 0, false
	}
	o, ok := resp.Lookup(t.topic, t.part)
	if !ok || o.Err != nil || o.At < 0 {
		return 0, false
	}
	return o.At, true
}

// close ends the transactor: with commit, after its partition actor has
// drained, the open transaction is committed (aborted if it cannot be);
// without, it is aborted. Then the producer is closed.
func (t *transactor) close(ctx context.Context, commit bool) {
	close(t.stop)
	<-t.loop
	cctx, cancel := context.WithTimeout(ctx, t.g.rt.s.requestTimeout)
	defer cancel()
	if commit {
		if err := t.commit(cctx); err != nil {
			t.log.Warn("transaction aborted at the partition's end; its records run again on the next owner", "error", err)
		}
	}
	t.mu.Lock()
	if !t.closed {
		_ = t.abort(cctx, nil)
	}
	t.mu.Unlock()
	t.closeClient()
}

// rewind stops the partition actor h without a commit and starts a new
// one at offset, on the poll loop (respawnCrashed), as after a crash.
func (g *group) rewind(h *partition.Handle, offset int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, cur := range g.parts {
		if cur == h {
			delete(g.parts, k)
			h.Drop()
			g.respawn = append(g.respawn, respawn{k, offset})
		}
	}
	g.wake()
	g.pollWake.wake()
}

// closeClient closes the transactional producer once.
func (t *transactor) closeClient() { t.closeOnce.Do(t.cl.Close) }

// pollWaker lets another goroutine end the group's PollFetches early: the
// poll loop starts queued partition actors (respawnCrashed) only between
// polls, and a poll waits for records as long as none come.
type pollWaker struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	woken  bool
}

// context is the context of one poll, under parent; done must be called
// when the poll returns.
func (w *pollWaker) context(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.woken {
		w.woken = false
		cancel()
	}
	w.cancel = cancel
	return ctx, func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
		cancel()
	}
}

// wake ends the poll in progress, or the next one at once.
func (w *pollWaker) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		w.cancel()
		return
	}
	w.woken = true
}
