package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
	"github.com/actord/actord/partition"
	"github.com/actord/actord/topics"
)

// Dead-letter headers added to every dead-lettered record, beside its own:
// the format is package dlq's, named here for handlers that look at them.
const (
	HeaderDLQTopic     = dlq.HeaderTopic
	HeaderDLQPartition = dlq.HeaderPartition
	HeaderDLQOffset    = dlq.HeaderOffset
	HeaderDLQTimestamp = dlq.HeaderTimestamp
	HeaderDLQGroup     = dlq.HeaderGroup
	HeaderDLQError     = dlq.HeaderError
	HeaderDLQAttempts  = dlq.HeaderAttempts
	HeaderDLQFailedAt  = dlq.HeaderFailedAt
	// HeaderDLQHandler names, on a dead-lettered event, the handler that
	// gave up on it.
	HeaderDLQHandler = dlq.HeaderHandler
)

// ReadDeadLetters reads the dead-letter topic topic from its start to its
// end at the time of the call, through the runtime's client, and returns
// the letters parsed (see dlq.Read for the options and dlq.Letter for what
// each says). Records of the topic that are not dead letters come back
// with Letter.Err set.
func ReadDeadLetters(ctx context.Context, rt *Runtime, topic string, opts ...dlq.ReadOption) ([]dlq.Letter, error) {
	return dlq.Read(ctx, rt.prod, topic, opts...)
}

func failure(f partition.Failure, handler string) dlq.Failure {
	return dlq.Failure{Group: f.Group, Handler: handler, Attempts: f.Attempts, Err: f.Err, FailedAt: f.FailedAt}
}

// deadLetterFunc writes to topic, creating it on first use with the source
// topic's partition count. The callback fires once the write is
// acknowledged (acks=all) or failed.
func (rt *Runtime) deadLetterFunc(topic string) partition.DeadLetterFunc {
	return func(r *kgo.Record, f partition.Failure, done func(error)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), rt.s.requestTimeout)
			err := rt.ensureDeadLetterTopic(ctx, topic, r.Topic)
			cancel()
			if err != nil {
				done(err)
				return
			}
			df := failure(f, "")
			rt.prod.Produce(rt.traceFrom(r), dlq.Record(topic, r, df), func(_ *kgo.Record, err error) {
				if err == nil || !refusedForGood(err) {
					done(err) // a transient failure: the partition retries the write
					return
				}
				rt.deadLetterStub(topic, r, df, err, done)
			})
		}()
	}
}

// refusedForGood reports whether the broker refused a dead letter in a way
// that no retry can change: the record is too large for the dead-letter
// topic, or not a valid record for it. Authorization and every other
// error may be fixed while the partition retries.
func refusedForGood(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord)
}

// deadLetterStub writes the stub of r (its coordinates, no key, value or
// headers; see dlq.Stub) after the broker refused r itself for good, so
// that the partition moves on and nothing is lost: r stays in its source
// topic. A stub that fails too is retried by the partition.
func (rt *Runtime) deadLetterStub(topic string, r *kgo.Record, f dlq.Failure, cause error, done func(error)) {
	rt.prod.Produce(rt.traceFrom(r), rt.stub(topic, r, f, cause), func(_ *kgo.Record, err error) { done(err) })
}

// stub is the stub dead letter of r, which the broker refused for good
// with cause, logged and counted: consumers and event handlers alike.
func (rt *Runtime) stub(topic string, r *kgo.Record, f dlq.Failure, cause error) *kgo.Record {
	rt.log.Error("dead letter refused by the broker; writing a stub with the record's coordinates instead (the record stays in its source topic)",
		"dlq", topic, "handler", f.Handler, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", cause)
	rt.metrics.DeadLetterStubs.WithLabelValues(topic).Inc()
	return dlq.Stub(topic, r, f, cause.Error())
}

func (rt *Runtime) ensureDeadLetterTopic(ctx context.Context, topic, source string) error {
	rt.dlqMu.Lock()
	defer rt.dlqMu.Unlock()
	if _, ok := rt.dlqTopics[topic]; ok {
		return nil
	}
	parts, rf := int32(1), int16(0)
	if info, err := rt.topics.Describe(ctx, source); err == nil && info.Partitions > 0 {
		parts, rf = info.Partitions, info.ReplicationFactor
	}
	err := rt.topics.Create(ctx, topics.Topic{Name: topic, Partitions: parts, ReplicationFactor: rf}, true)
	if err != nil {
		return fmt.Errorf("creating dead-letter topic %q: %w", topic, err)
	}
	rt.dlqTopics[topic] = struct{}{}
	return nil
}

// reconcile creates and grows the declared topics, and logs drift it must
// not fix.
func (rt *Runtime) reconcile(ctx context.Context) error {
	rt.mu.Lock()
	decl := slices.Clone(rt.declared)
	rt.mu.Unlock()
	if len(decl) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, rt.s.requestTimeout)
	defer cancel()
	rep, err := rt.topics.Reconcile(ctx, decl)
	if err != nil {
		return fmt.Errorf("reconciling topics: %w", err)
	}
	for _, c := range rep.Created {
		rt.log.Info("topic created", "topic", c)
	}
	for _, g := range rep.Grown {
		rt.log.Info("topic partitions grown", "topic", g.Topic, "from", g.From, "to", g.To)
	}
	for _, d := range rep.Drift {
		rt.log.Warn("topic drift", "drift", d)
	}
	return nil
}

// DeclareTopic adds a topic to reconcile at Start (the seed's `class
// OrderTopic(Topic)`): created when missing, its partitions grown when
// fewer, drift in other settings logged.
func DeclareTopic(rt *Runtime, t topics.Topic) error {
	if err := t.Validate(); err != nil {
		return err
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.declared = append(rt.declared, t)
	return nil
}
