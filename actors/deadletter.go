package actors

import (
	"context"
	"fmt"
	"slices"

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
			rt.prod.Produce(context.Background(), dlq.Record(topic, r, failure(f, "")), func(_ *kgo.Record, err error) { done(err) })
		}()
	}
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
