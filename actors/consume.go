package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/schema"
	"github.com/actord/actord/supervisor"
	"github.com/actord/actord/topics"
)

// consumer is one topic consumed by one group.
type consumer struct {
	rt    *Runtime
	topic string
	group string
	opts  consumerOptions
	dec   Decoder

	handle partition.HandlerFunc
	// recycle is set where handle keeps nothing of a record past its
	// return (Consume's typed handlers: a Message holds copies of the
	// record's fields), so that finished records go back to the group
	// client's RecordPool (partition.Config.Recycle).
	recycle bool
	props   *actor.Props
	decode  func(*kgo.Record) (any, error)
	m       *consumerMetrics
	// circuit is the consumer's circuit breaker, shared by its partition
	// actors; nil when it is off.
	circuit *supervisor.Circuit
	// park is the consumer's retry topic (RetryTopic), nil without one.
	park *parking
	// notes are the partitions' stall notes (stall.go), by partition.
	notes sync.Map
}

// Delivery is what a service's own handler actor (ConsumeWith) receives:
// one attempt of one record, with Value holding the record decoded by the
// consumer's schema or decoder when one was given (nil otherwise). The
// actor must call Done exactly once, with nil, an error (retried) or a
// Permanent error. A panic in the actor is a failed attempt; the actor is
// restarted and the record is not lost.
type Delivery = partition.Delivery

// Consume declares a consumer of topic in group whose handler fn gets each
// record decoded into T (JSON by default; map[string]any works like the
// seed's dicts, []byte and string take the value as it is). A handler
// error is retried with backoff up to MaxRetries, then dead-lettered;
// Permanent errors and undecodable records are dead-lettered at once. A
// bad topic, group or option value is an error naming it, and nothing is
// declared.
func Consume[T any](rt *Runtime, topic, group string, fn func(context.Context, Message[T]) error, opts ...ConsumerOption) error {
	if fn == nil {
		return fmt.Errorf("consumer %s/%s: nil handler", topic, group)
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	c.handle = typed(c.dec, fn)
	c.recycle = true
	return rt.register(c)
}

// ConsumeWith declares a consumer whose records go to handler actors the
// service builds itself from props: each partition spawns Concurrency of
// them, and each receives *Delivery messages. With WithSchema or
// WithDecoder, Delivery.Value is the decoded value (map[string]any for a
// schema, whatever the decoder fills into an any otherwise) and a record
// that does not decode is dead-lettered before it reaches the actor.
func ConsumeWith(rt *Runtime, topic, group string, props *actor.Props, opts ...ConsumerOption) error {
	if props == nil {
		return fmt.Errorf("consumer %s/%s: nil props", topic, group)
	}
	c, err := newConsumer(rt, topic, group, opts)
	if err != nil {
		return err
	}
	c.props = props
	if c.opts.retryTopic != "" {
		return fmt.Errorf("consumer %s/%s: actors.RetryTopic(%q): not with ConsumeWith (the runtime runs parked records itself)", topic, group, c.opts.retryTopic)
	}
	if c.opts.decoder != nil || c.opts.schema != nil {
		c.decode = decodeAny(c.dec)
	}
	return rt.register(c)
}

// decodeAny is a ConsumeWith consumer's Decode: the value decoded by dec
// into an any, a record that does not decode a failure (decodeFailure).
func decodeAny(dec Decoder) func(*kgo.Record) (any, error) {
	return func(r *kgo.Record) (any, error) {
		var v any
		if err := dec.Decode(r.Value, &v); err != nil {
			return nil, decodeFailure(r, err)
		}
		return v, nil
	}
}

// applyConsumerOptions is the consumer options opts set over the
// defaults, not yet checked.
func applyConsumerOptions(rt *Runtime, opts []ConsumerOption) consumerOptions {
	o := consumerOptions{
		handling:    handling{policy: supervisor.DefaultPolicy()},
		concurrency: DefaultConcurrency,
		maxInFlight: rt.s.maxInFlight,
	}
	for _, opt := range opts {
		opt.applyConsumer(&o)
	}
	return o
}

func newConsumer(rt *Runtime, topic, group string, opts []ConsumerOption) (*consumer, error) {
	o := applyConsumerOptions(rt, opts)
	var errs []error
	if err := topics.ValidateName(topic); err != nil {
		errs = append(errs, err)
	}
	if group == "" {
		errs = append(errs, errors.New("group is required"))
	}
	errs = append(errs, o.check(topic))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("consumer %s/%s: %w", topic, group, err)
	}
	c := &consumer{rt: rt, topic: topic, group: group, opts: o, dec: rt.decoderFor(o.handling),
		m: newConsumerMetrics(rt.metrics, topic, group)}
	c.circuit = c.newCircuit()
	c.park = c.newParking()
	return c, nil
}

// decoderFor is the decoder the options settle on: Avro with a schema,
// the given decoder, else JSON.
func (rt *Runtime) decoderFor(h handling) Decoder {
	switch {
	case h.schema != nil:
		return rt.avroDecoder(h.schema)
	case h.decoder != nil:
		return h.decoder
	}
	return JSON{}
}

// typed runs fn with each record decoded into T by dec; a record that does
// not decode is a poison record (a permanent failure, never retried),
// unless the decoder could not reach its schema registry, which is
// retried.
func typed[T any](dec Decoder, fn func(context.Context, Message[T]) error) partition.HandlerFunc {
	if pass, ok := passThrough[T](dec); ok {
		return func(ctx context.Context, r *kgo.Record, attempt int) error {
			return fn(ctx, newMessage(r, attempt, pass(r)))
		}
	}
	if cd, ok := dec.(contextDecoder); ok {
		// Avro: a registry that cannot answer is waited for within the
		// attempt's context (avroDecoder.DecodeContext).
		return func(ctx context.Context, r *kgo.Record, attempt int) error {
			var v T
			if err := cd.DecodeContext(ctx, r.Value, &v); err != nil {
				return decodeFailure(r, err)
			}
			return fn(ctx, newMessage(r, attempt, v))
		}
	}
	return func(ctx context.Context, r *kgo.Record, attempt int) error {
		var v T
		if err := dec.Decode(r.Value, &v); err != nil {
			return decodeFailure(r, err)
		}
		return fn(ctx, newMessage(r, attempt, v))
	}
}

// passThrough is, when T is []byte and dec the default JSON decoder
// (which passes bytes through), the record's value as T: the decoder is
// skipped, and the value it would fill (an allocation a record).
func passThrough[T any](dec Decoder) (func(*kgo.Record) T, bool) {
	if _, ok := dec.(JSON); !ok {
		return nil, false
	}
	f, ok := any(func(r *kgo.Record) []byte { return r.Value }).(func(*kgo.Record) T)
	return f, ok
}

// contextDecoder is a Decoder whose decoding may wait on I/O within the
// attempt's context.
type contextDecoder interface {
	DecodeContext(ctx context.Context, data []byte, v any) error
}

// decodeFailure classifies a decode error by the schema package's error
// types: a registry that could not be reached is retried; malformed data,
// an unknown or incompatible schema and a value that does not fit the
// type are permanent.
func decodeFailure(r *kgo.Record, err error) error {
	de := &DecodeError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err}
	if schema.Transient(err) {
		return supervisor.RetryError(de)
	}
	return supervisor.PermanentError(de)
}

func (c *consumer) partitionConfig(p int32) partition.Config {
	cfg := partition.Config{
		Group: c.group, Topic: c.topic, Partition: p,
		Ordering: c.opts.ordering, Concurrency: c.opts.concurrency, MaxInFlight: c.opts.maxInFlight,
		Pipeline:       supervisor.Pipeline{Policy: c.opts.policy, DeadLetter: !c.opts.noDeadLetter},
		HandlerTimeout: c.opts.handlerTimeout,
		Circuit:        c.circuit,
		Handle:         c.handle, HandlerProps: c.props, Decode: c.decode,
		Logger: c.rt.log,
		Hooks:  c.m.hooks(),
	}
	if !c.opts.noDeadLetter {
		cfg.DeadLetter = c.rt.deadLetterFunc(c.opts.deadLetter)
	}
	if c.park != nil {
		cfg.Park = c.park.config(c.opts.retrySchedule, p)
	}
	if t := c.rt.tracing; t != nil {
		cfg.Hooks.Attempt = t.attemptHook(c.group)
	}
	if c.rt.s.stallTimeout > 0 && cfg.Handle != nil {
		cfg.Handle = c.note(p).wrap(cfg.Handle)
	}
	return cfg
}
