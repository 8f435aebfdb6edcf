package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
)

// MaxBatchSize is the largest batch ConsumeBatch hands a handler.
const MaxBatchSize = partition.MaxBatch

// Batching is how ConsumeBatch cuts batches: at most Max records (1 to
// MaxBatchSize), and, when fewer are waiting, up to Wait for more before
// the batch runs as it is (zero: it runs at once). Wait is the latency a
// trickle of records pays for fuller batches.
type Batching struct {
	Max  int
	Wait time.Duration
	// Pipeline is, for ConsumeBatchAsync only, the most batches of a
	// partition out at once (zero: DefaultPipeline).
	Pipeline int
}

// FailedRecords is the error a batch handler returns to fail only some
// records of its batch: those at Indexes (into the slice it was given),
// with Err. The other records of the batch are done; the named ones are
// retried alone with the consumer's policy, then dead-lettered.
type FailedRecords = partition.FailedRecords

// FailRecords fails the records at indexes of a batch with err (see
// FailedRecords); a Permanent err dead-letters them without retries.
func FailRecords(err error, indexes ...int) error {
	return &FailedRecords{Indexes: indexes, Err: err}
}

// ConsumeBatch declares a consumer of topic in group whose handler gets
// records in batches: consecutive records of one partition, in offset
// order, at most b.Max of them, as soon as Max are waiting or the first
// of them has waited b.Wait, each decoded into T as with Consume. Batches run in
// partition order, one at a time per partition (Ordering(ByPartition),
// the default; ByKey and Unordered are an error).
//
// A failing batch is retried whole with the consumer's retry policy
// (MaxRetries, Backoff). When its attempts are spent, it is bisected to
// find the records that fail alone: each half runs once more, a failing
// half is split again, and a record that fails alone is dead-lettered
// with its own key, value and headers (or skipped with NoDeadLetter); the
// other records of the batch are handled and committed. A handler that
// knows which records failed returns FailRecords(err, indexes...): the
// others are done, and only those are retried alone, then dead-lettered.
// A record that does not decode is failed that way, for good. The
// records' metrics (actord_records_handled_total and the others) count
// records, not batches.
//
// A record of a batch may be handled more than once: a retried batch
// runs all its records again, and so does each half of a bisection.
func ConsumeBatch[T any](rt *Runtime, topic, group string, b Batching, fn func(context.Context, []Message[T]) error, opts ...ConsumerOption) error {
	if fn == nil {
		return fmt.Errorf("consumer %s/%s: nil batch handler", topic, group)
	}
	if b.Pipeline != 0 {
		return fmt.Errorf("consumer %s/%s: actors.Batching{Pipeline: %d}: only ConsumeBatchAsync runs batches of a partition at once", topic, group, b.Pipeline)
	}
	return declareBatch(rt, topic, group, b, func(c *consumer) *partition.Batch {
		dec := c.dec
		return &partition.Batch{Max: b.Max, Wait: b.Wait, Handle: func(ctx context.Context, recs []*kgo.Record, attempt int) error {
			d := decodeBatch[T](ctx, dec, recs, attempt)
			if len(d.msgs) == 0 {
				return d.failed(nil)
			}
			return d.failed(fn(ctx, d.msgs))
		}}
	}, opts)
}

// ConsumeBatchAsync is ConsumeBatch for a handler whose batches wait on
// something outside the process, a produce's acknowledgements or a bulk
// write: start begins handling a batch and returns at once with wait,
// which the runtime calls once, on a goroutine of its own, for the
// batch's outcome (nil, or an error as ConsumeBatch's handler returns
// it). A partition's next batch starts as soon as start returns, so up
// to b.Pipeline batches of a partition are out at once (zero:
// DefaultPipeline, at most MaxPipeline), while the in-flight cap
// (MaxInFlight) still bounds their records. Batches of a partition start
// one at a time in offset order, each after start has returned for the
// one before it, so what start sends in order (copies produced to one
// partition) stays in order. Offsets are committed in order: a batch's
// once every batch before it is finished.
//
// A failed batch is retried, bisected and dead-lettered as with
// ConsumeBatch (each of its later attempts calls start and then wait),
// while the partition's later batches go on: their records are then
// handled before the failed batch's retries, and their offsets wait for
// it.
func ConsumeBatchAsync[T any](rt *Runtime, topic, group string, b Batching, start func(context.Context, []Message[T]) (wait func() error), opts ...ConsumerOption) error {
	if start == nil {
		return fmt.Errorf("consumer %s/%s: nil batch handler", topic, group)
	}
	if b.Pipeline < 0 || b.Pipeline > MaxPipeline {
		return fmt.Errorf("consumer %s/%s: actors.Batching{Pipeline: %d}: must be between 1 and %d (0: %d)", topic, group, b.Pipeline, MaxPipeline, DefaultPipeline)
	}
	return declareBatch(rt, topic, group, b, func(c *consumer) *partition.Batch {
		dec := c.dec
		begin := func(ctx context.Context, recs []*kgo.Record, attempt int) func() error {
			d := decodeBatch[T](ctx, dec, recs, attempt)
			if len(d.msgs) == 0 {
				return func() error { return d.failed(nil) }
			}
			wait := start(ctx, d.msgs)
			return func() error {
				if wait == nil {
					return fmt.Errorf("consumer %s/%s: the batch handler returned no wait", topic, group)
				}
				return d.failed(wait())
			}
		}
		return &partition.Batch{Max: b.Max, Wait: b.Wait, Pipeline: b.Pipeline,
			Start: func(ctx context.Context, recs []*kgo.Record) func() error { return begin(ctx, recs, 1) },
			Handle: func(ctx context.Context, recs []*kgo.Record, attempt int) error {
				return begin(ctx, recs, attempt)()
			}}
	}, opts)
}

// DefaultPipeline is Batching.Pipeline when zero, for ConsumeBatchAsync.
const DefaultPipeline = partition.DefaultPipeline

// MaxPipeline is the largest Batching.Pipeline.
const MaxPipeline = partition.MaxPipeline

// declareBatch declares a batch consumer of topic in group whose
// partitions run the batch that build makes for it.
func declareBatch(rt *Runtime, topic, group string, b Batching, build func(*consumer) *partition.Batch, opts []ConsumerOption) error {
	if b.Max < 1 || b.Max > MaxBatchSize {
		return fmt.Errorf("consumer %s/%s: actors.Batching{Max: %d}: must be between 1 and %d", topic, group, b.Max, MaxBatchSize)
	}
	if b.Wait < 0 {
		return fmt.Errorf("consumer %s/%s: actors.Batching{Wait: %v}: must not be negative", topic, group, b.Wait)
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	if c.opts.ordering != ByPartition {
		return fmt.Errorf("consumer %s/%s: actors.Ordering(%v): a batch consumer runs in partition order only", topic, group, c.opts.ordering)
	}
	pb := build(c)
	// The consumer's own handler never runs: its partitions get pb
	// (group.batching).
	c.handle = func(context.Context, *kgo.Record, int) error {
		return fmt.Errorf("batch consumer %s/%s ran a single record", topic, group)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("consumer %s/%s: declare consumers before the runtime starts", topic, group)
	}
	if err := rt.add(c); err != nil {
		return err
	}
	rt.groups[group].batches.declare(topic, pb)
	return nil
}

// decodedBatch is a batch's records decoded: msgs, those that decoded, in
// order; bad, the indexes (into the batch) of those that did not, the
// first's failure first; at maps msgs back into the batch once a record
// has failed.
type decodedBatch[T any] struct {
	msgs    []Message[T]
	bad, at []int
	first   error
}

func decodeBatch[T any](ctx context.Context, dec Decoder, recs []*kgo.Record, attempt int) decodedBatch[T] {
	d := decodedBatch[T]{msgs: make([]Message[T], 0, len(recs))}
	if pass, ok := passThrough[T](dec); ok {
		for _, r := range recs {
			d.msgs = append(d.msgs, newMessage(r, attempt, pass(r)))
		}
		return d
	}
	cd, isCtx := dec.(contextDecoder)
	for i, r := range recs {
		var v T
		var err error
		if isCtx {
			err = cd.DecodeContext(ctx, r.Value, &v)
		} else {
			err = dec.Decode(r.Value, &v)
		}
		if err != nil {
			if d.bad == nil {
				d.at = make([]int, len(d.msgs), len(recs))
				for j := range d.at {
					d.at[j] = j
				}
				d.first = decodeFailure(r, err)
			}
			d.bad = append(d.bad, i)
			continue
		}
		if d.bad != nil {
			d.at = append(d.at, i)
		}
		d.msgs = append(d.msgs, newMessage(r, attempt, v))
	}
	return d
}

// failed is the batch's outcome given err, the handler's for msgs: with
// no record that failed to decode, err itself. Otherwise the undecodable
// records fail alone (each runs again by itself: its decode fails for
// good), with those the handler named (FailRecords, mapped back into the
// batch); an error for the whole of msgs fails the whole batch.
func (d decodedBatch[T]) failed(err error) error {
	if d.bad == nil {
		return err
	}
	bad := d.bad
	var fr *FailedRecords
	switch {
	case err == nil:
	case errors.As(err, &fr):
		for _, j := range fr.Indexes {
			if j >= 0 && j < len(d.at) {
				bad = append(bad, d.at[j])
			}
		}
	default:
		return err
	}
	return FailRecords(d.first, bad...)
}

// batchGroup is a group's batch consumers, by topic.
type batchGroup struct {
	mu sync.Mutex
	by map[string]*partition.Batch
}

func (bg *batchGroup) declare(topic string, b *partition.Batch) {
	bg.mu.Lock()
	defer bg.mu.Unlock()
	if bg.by == nil {
		bg.by = map[string]*partition.Batch{}
	}
	bg.by[topic] = b
}

// batching makes cfg, a partition config, run the batch consumer of its
// topic, if there is one.
func (g *group) batching(cfg *partition.Config) {
	g.batches.mu.Lock()
	defer g.batches.mu.Unlock()
	if b := g.batches.by[cfg.Topic]; b != nil {
		cfg.Batch, cfg.Handle = b, nil
	}
}
