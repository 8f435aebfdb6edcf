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
		return fmt.Errorf("consumer %s/%s: actors.Ordering(%v): a batch consumer (actors.ConsumeBatch) runs in partition order only", topic, group, c.opts.ordering)
	}
	dec := c.dec
	pb := &partition.Batch{Max: b.Max, Wait: b.Wait, Handle: func(ctx context.Context, recs []*kgo.Record, attempt int) error {
		msgs := make([]Message[T], 0, len(recs))
		// at maps msgs back to recs once a record has failed to decode.
		var bad, at []int
		var first error
		for i, r := range recs {
			var v T
			var err error
			if cd, ok := dec.(contextDecoder); ok {
				err = cd.DecodeContext(ctx, r.Value, &v)
			} else {
				err = dec.Decode(r.Value, &v)
			}
			if err != nil {
				if bad == nil {
					at = make([]int, len(msgs), len(recs))
					for j := range at {
						at[j] = j
					}
					first = decodeFailure(r, err)
				}
				bad = append(bad, i)
				continue
			}
			if bad != nil {
				at = append(at, i)
			}
			msgs = append(msgs, newMessage(r, attempt, v))
		}
		if bad == nil {
			return fn(ctx, msgs)
		}
		// The records that decoded run without those that did not; those
		// fail alone (each runs again by itself: its decode fails for good,
		// and a record the handler named runs alone through it).
		if len(msgs) > 0 {
			err := fn(ctx, msgs)
			var fr *FailedRecords
			switch {
			case err == nil:
			case errors.As(err, &fr):
				for _, j := range fr.Indexes {
					if j >= 0 && j < len(at) {
						bad = append(bad, at[j])
					}
				}
			default:
				return err // the whole batch again
			}
		}
		return FailRecords(first, bad...)
	}}
	// The consumer's own handler never runs: its partitions get b
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
