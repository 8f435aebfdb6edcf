package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
	"github.com/actord/actord/topics"
)

// consumer is one topic consumed by one group.
type consumer struct {
	rt    *Runtime
	topic string
	group string
	opts  options

	handle partition.HandlerFunc
	props  *actor.Props
	m      *consumerMetrics
}

// Delivery is what a service's own handler actor (ConsumeWith) receives:
// one attempt of one record. The actor must call Done exactly once, with
// nil, an error (retried) or a Permanent error. A panic in the actor is a
// failed attempt; the actor is restarted and the record is not lost.
type Delivery = partition.Delivery

// Consume declares a consumer of topic in group whose handler fn gets each
// record decoded into T (JSON by default; map[string]any works like the
// seed's dicts, []byte and string take the value as it is). A handler
// error is retried with backoff up to MaxRetries, then dead-lettered;
// Permanent errors and undecodable records are dead-lettered at once.
func Consume[T any](rt *Runtime, topic, group string, fn func(context.Context, Message[T]) error, opts ...Option) error {
	if fn == nil {
		return errors.New("actors.Consume: nil handler")
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	c.handle = typed(c.opts.decoder, fn)
	return rt.register(c)
}

// ConsumeWith declares a consumer whose records go to handler actors the
// service builds itself from props: each partition spawns Concurrency of
// them, and each receives *Delivery messages.
func ConsumeWith(rt *Runtime, topic, group string, props *actor.Props, opts ...Option) error {
	if props == nil {
		return errors.New("actors.ConsumeWith: nil props")
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	c.props = props
	return rt.register(c)
}

func newConsumer(rt *Runtime, topic, group string, opts []Option) (*consumer, error) {
	if err := topics.ValidateName(topic); err != nil {
		return nil, fmt.Errorf("consumer %s/%s: %w", topic, group, err)
	}
	if group == "" {
		return nil, fmt.Errorf("consumer of %q: group is required", topic)
	}
	o := defaultOptions()
	o.maxInFlight = rt.cfg.Runtime.MaxInFlight
	o = rt.resolve(o, opts)
	if o.deadLetter == "" {
		o.deadLetter = topic + ".dlq"
	}
	return &consumer{rt: rt, topic: topic, group: group, opts: o, m: newConsumerMetrics(rt.metrics, topic, group)}, nil
}

// resolve applies opts over o and settles what they leave open: the retry
// policy's defaults and the decoder (Avro with a schema, else JSON).
func (rt *Runtime) resolve(o options, opts []Option) options {
	for _, opt := range opts {
		opt(&o)
	}
	o.policy = o.policy.WithDefaults()
	if o.schema != nil && o.decoder == nil {
		o.decoder = rt.avroDecoder(o.schema)
	}
	if o.decoder == nil {
		o.decoder = JSON{}
	}
	return o
}

// typed runs fn with each record decoded into T by dec; a record that does
// not decode is a poison record: a permanent failure, never retried.
func typed[T any](dec Decoder, fn func(context.Context, Message[T]) error) partition.HandlerFunc {
	if raw, ok := any(fn).(func(context.Context, Message[[]byte]) error); ok {
		if _, ok := dec.(JSON); ok {
			// The default decoder passes []byte through: skip it, and the
			// allocation of a value it would fill.
			return func(ctx context.Context, r *kgo.Record, attempt int) error {
				return raw(ctx, newMessage(r, attempt, r.Value))
			}
		}
	}
	return func(ctx context.Context, r *kgo.Record, attempt int) error {
		var v T
		if err := dec.Decode(r.Value, &v); err != nil {
			return supervisor.PermanentError(&DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err})
		}
		return fn(ctx, newMessage(r, attempt, v))
	}
}

func (c *consumer) partitionConfig(p int32) partition.Config {
	cfg := partition.Config{
		Group: c.group, Topic: c.topic, Partition: p,
		Ordering: c.opts.ordering, Concurrency: c.opts.concurrency, MaxInFlight: c.opts.maxInFlight,
		Policy: c.opts.policy, HandlerTimeout: c.opts.handlerTimeout,
		Handle: c.handle, HandlerProps: c.props,
		Logger: c.rt.log,
		Hooks:  c.m.hooks(),
	}
	if !c.opts.noDeadLetter {
		cfg.DeadLetter = c.rt.deadLetterFunc(c.opts.deadLetter)
	}
	return cfg
}
