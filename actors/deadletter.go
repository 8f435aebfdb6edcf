package actors

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/topics"
)

// Dead-letter headers added to every dead-lettered record, beside its own.
const (
	HeaderDLQTopic     = "actord.dlq.topic"
	HeaderDLQPartition = "actord.dlq.partition"
	HeaderDLQOffset    = "actord.dlq.offset"
	HeaderDLQTimestamp = "actord.dlq.timestamp"
	HeaderDLQGroup     = "actord.dlq.group"
	HeaderDLQError     = "actord.dlq.error"
	HeaderDLQAttempts  = "actord.dlq.attempts"
	HeaderDLQFailedAt  = "actord.dlq.failed_at"
)

// DeadLetterRecord is the record written to the dead-letter topic for r:
// its key, value and headers, plus the actord.dlq.* headers.
func DeadLetterRecord(dlq string, r *kgo.Record, f partition.Failure) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+8)
	hs = append(hs, r.Headers...)
	errText := ""
	if f.Err != nil {
		errText = f.Err.Error()
	}
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderDLQTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderDLQTimestamp, Value: []byte(r.Timestamp.UTC().Format(time.RFC3339Nano))},
		kgo.RecordHeader{Key: HeaderDLQGroup, Value: []byte(f.Group)},
		kgo.RecordHeader{Key: HeaderDLQError, Value: []byte(errText)},
		kgo.RecordHeader{Key: HeaderDLQAttempts, Value: []byte(strconv.Itoa(f.Attempts))},
		kgo.RecordHeader{Key: HeaderDLQFailedAt, Value: []byte(f.FailedAt.UTC().Format(time.RFC3339Nano))},
	)
	return &kgo.Record{Topic: dlq, Key: r.Key, Value: r.Value, Headers: hs}
}

// deadLetterFunc writes to dlq, creating it on first use with the source
// topic's partition count. The callback fires once the write is
// acknowledged (acks=all) or failed.
func (rt *Runtime) deadLetterFunc(dlq string) partition.DeadLetterFunc {
	return func(r *kgo.Record, f partition.Failure, done func(error)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), rt.s.requestTimeout)
			err := rt.ensureDeadLetterTopic(ctx, dlq, r.Topic)
			cancel()
			if err != nil {
				done(err)
				return
			}
			rt.prod.Produce(context.Background(), DeadLetterRecord(dlq, r, f), func(_ *kgo.Record, err error) { done(err) })
		}()
	}
}

func (rt *Runtime) ensureDeadLetterTopic(ctx context.Context, dlq, source string) error {
	rt.dlqMu.Lock()
	defer rt.dlqMu.Unlock()
	if _, ok := rt.dlqTopics[dlq]; ok {
		return nil
	}
	parts, rf := int32(1), int16(0)
	if info, err := rt.topics.Describe(ctx, source); err == nil && info.Partitions > 0 {
		parts, rf = info.Partitions, info.ReplicationFactor
	}
	err := rt.topics.Create(ctx, topics.Topic{Name: dlq, Partitions: parts, ReplicationFactor: rf}, true)
	if err != nil {
		return fmt.Errorf("creating dead-letter topic %q: %w", dlq, err)
	}
	rt.dlqTopics[dlq] = struct{}{}
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
