package handler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/topics"
)

// forwardHandler produces each record to another topic.
type forwardHandler struct {
	topic  string
	client *kgo.Client
}

func newForward(c config.ForwardHandler, rt *actors.Runtime) (Func, error) {
	h, err := buildForward(c, rt)
	if err != nil {
		return nil, err
	}
	return h.handle, nil
}

func buildForward(c config.ForwardHandler, rt *actors.Runtime) (*forwardHandler, error) {
	if c.Topic == "" {
		return nil, errors.New("handler: forward needs a topic: forward: {topic: NAME}")
	}
	if err := topics.ValidateName(c.Topic); err != nil {
		return nil, fmt.Errorf("handler: forward: %w", err)
	}
	if rt == nil {
		return nil, errors.New("handler: forward needs a runtime to produce with")
	}
	return &forwardHandler{topic: c.Topic, client: rt.Client()}, nil
}

// handle returns once the record is acknowledged, so that the source
// offset is committed only after the copy is durable.
func (h *forwardHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	r := &kgo.Record{
		Topic:   h.topic,
		Key:     m.Key,
		Value:   m.Raw,
		Headers: append([]kgo.RecordHeader(nil), m.Headers...),
	}
	if err := h.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return actors.Retry(fmt.Errorf("forward to %s: %w", h.topic, err))
	}
	return nil
}

// flushWait bounds how long a forward batch waits in Flush for records
// other than its own (another producer of the runtime's client that keeps
// it busy); after it the batch's copies go out as lingering allows.
const flushWait = 100 * time.Millisecond

// handleBatch produces a copy of every record of the batch at once and
// returns once all of them are acknowledged, so that the batch's offsets
// are committed only after its copies are durable, and a batch costs one
// wait for acknowledgements instead of one a record. A copy that fails
// fails its record alone (actors.FailRecords): the others are done, and
// the failed ones are retried one by one with the consumer's policy, as
// a record at a time would be, so a bad record does not write the good
// ones' copies again.
//
// Run this way, a batch at a time, it sends at once rather than after
// the producer's linger (Flush): nothing more comes from the partition
// until the batch is acknowledged, so a linger would only add its
// length to every batch (none by default; producer.linger: 1ms would be
// 1 to 2 ms of about 2 ms a batch).
func (h *forwardHandler) handleBatch(ctx context.Context, ms []actors.Message[[]byte]) error {
	b := h.produce(ctx, ms)
	// Flush waits for every record buffered in the client, the other
	// partitions' batches too, so it is bounded by flushWait; the batch
	// waits for its own acknowledgements either way.
	fctx, cancel := context.WithTimeout(ctx, flushWait)
	h.client.Flush(fctx)
	cancel()
	return b.wait()
}

// startBatch is handleBatch begun: it produces the copies and returns
// the wait for their acknowledgements (actors.ConsumeBatchAsync). It does
// not flush: the partition's next batch is produced meanwhile, and goes
// out with whatever else is buffered when the request in flight returns
// (or after producer.linger, when one is set).
func (h *forwardHandler) startBatch(ctx context.Context, ms []actors.Message[[]byte]) func() error {
	return h.produce(ctx, ms).wait
}

// forwardBatch is a batch's copies on their way.
type forwardBatch struct {
	topic  string
	recs   []kgo.Record
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  error
	failed []*kgo.Record
}

// produce produces a copy of each of ms, in order.
func (h *forwardHandler) produce(ctx context.Context, ms []actors.Message[[]byte]) *forwardBatch {
	b := &forwardBatch{topic: h.topic, recs: make([]kgo.Record, len(ms))}
	b.wg.Add(len(ms))
	for i := range ms {
		m := &ms[i]
		r := &b.recs[i]
		r.Topic, r.Key, r.Value = h.topic, m.Key, m.Raw
		if len(m.Headers) > 0 {
			r.Headers = append([]kgo.RecordHeader(nil), m.Headers...)
		}
		h.client.Produce(ctx, r, b.promise)
	}
	return b
}

// promise is every copy's: one closure a batch, not one a record.
func (b *forwardBatch) promise(r *kgo.Record, err error) {
	if err != nil {
		b.mu.Lock()
		if b.first == nil {
			b.first = err
		}
		b.failed = append(b.failed, r)
		b.mu.Unlock()
	}
	b.wg.Done()
}

// wait waits for every copy's acknowledgement; the records whose copies
// were refused fail alone.
func (b *forwardBatch) wait() error {
	b.wg.Wait()
	if b.first == nil {
		return nil
	}
	idx := make([]int, 0, len(b.failed))
	for _, r := range b.failed {
		for i := range b.recs {
			if &b.recs[i] == r {
				idx = append(idx, i)
				break
			}
		}
	}
	return actors.FailRecords(actors.Retry(fmt.Errorf("forward to %s: %w", b.topic, b.first)), idx...)
}
