package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/schema"
	"github.com/actord/actord/topics"
)

// Receipt says where a published record landed.
type Receipt struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Encoder turns a value into record bytes. Encoding happens before
// anything is sent: a value that fails encoding produces nothing.
type Encoder interface {
	Encode(v any) ([]byte, error)
}

// Encode implements Encoder for JSON, the default ([]byte and string are
// sent as they are).
func (JSON) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return json.Marshal(v)
}

// ProducerOption tunes a producer (NewProducer, NewKeyedProducer).
type ProducerOption interface{ applyProducer(*producerOptions) }

// PublishOption tunes one Publish, PublishAsync or Emit call.
type PublishOption interface{ applyPublish(*recordOptions) }

// RecordOption applies to every record of a producer, or to the records
// of one call: Key and Header.
type RecordOption interface {
	ProducerOption
	PublishOption
}

// recordOptions are what a record gets beside its value.
type recordOptions struct {
	key     []byte
	hasKey  bool
	headers []kgo.RecordHeader
	errs    []error
}

type producerOptions struct {
	recordOptions
	enc    Encoder
	schema *schema.Schema
}

func (o *recordOptions) bad(format string, args ...any) {
	o.errs = append(o.errs, fmt.Errorf(format, args...))
}

type recordOpt func(*recordOptions)

func (f recordOpt) applyProducer(o *producerOptions) { f(&o.recordOptions) }
func (f recordOpt) applyPublish(o *recordOptions)    { f(o) }

// Key sets the record key explicitly (per producer, or per Publish call,
// which wins over the producer's key and its key function).
func Key(k string) RecordOption {
	return recordOpt(func(o *recordOptions) { o.key, o.hasKey = []byte(k), true })
}

// Header adds a record header (per producer, or per Publish call, after
// the producer's). The name must not be empty.
func Header(name, value string) RecordOption {
	return recordOpt(func(o *recordOptions) {
		if name == "" {
			o.bad("actors.Header(%q, %q): the header name is empty", name, value)
			return
		}
		o.headers = append(o.headers, kgo.RecordHeader{Key: name, Value: []byte(value)})
	})
}

type producerOpt func(*producerOptions)

func (f producerOpt) applyProducer(o *producerOptions) { f(o) }

// WithEncoder sets how values become bytes. Default JSON.
func WithEncoder(e Encoder) ProducerOption {
	return producerOpt(func(o *producerOptions) {
		if e == nil {
			o.bad("actors.WithEncoder(nil): want an encoder")
		}
		o.enc = e
	})
}

// Producer publishes values of type T to one topic: the seed's
// @producer(topic=...). It is safe for concurrent use.
type Producer[T any] struct {
	rt    *Runtime
	topic string
	opts  producerOptions
	keyFn func(T) string
}

// NewProducer returns a producer of T to topic. It publishes through the
// runtime's producing client, whose settings are runtime options
// (ProducerAcks: acks=all with idempotence by default; ProducerCompression,
// ProducerLinger, ProducerBatchMaxBytes, MaxBufferedRecords,
// RecordRetries, DeliveryTimeout); everything buffered is flushed when the
// runtime stops. A bad topic name or option value is an error naming it.
func NewProducer[T any](rt *Runtime, topic string, opts ...ProducerOption) (*Producer[T], error) {
	return newProducer[T](rt, topic, nil, opts)
}

// NewKeyedProducer returns a producer of T to topic that derives each
// record's key from its value with key. Records with one key land on one
// partition (Kafka's murmur2 partitioner, as Java clients do), so their
// order holds. key's parameter type is the producer's T, so a key
// function of another type does not compile.
func NewKeyedProducer[T any](rt *Runtime, topic string, key func(T) string, opts ...ProducerOption) (*Producer[T], error) {
	if key == nil {
		return nil, fmt.Errorf("producer %s: nil key function (use NewProducer for records without a key)", topic)
	}
	return newProducer(rt, topic, key, opts)
}

func newProducer[T any](rt *Runtime, topic string, key func(T) string, opts []ProducerOption) (*Producer[T], error) {
	if err := topics.ValidateName(topic); err != nil {
		return nil, fmt.Errorf("producer %s: %w", topic, err)
	}
	p := &Producer[T]{rt: rt, topic: topic, keyFn: key}
	for _, o := range opts {
		o.applyProducer(&p.opts)
	}
	if p.opts.enc != nil && p.opts.schema != nil {
		p.opts.bad("actors.WithEncoder and actors.WithSchema both given: a schema encodes values itself")
	}
	if err := errors.Join(p.opts.errs...); err != nil {
		return nil, fmt.Errorf("producer %s: %w", topic, err)
	}
	if p.opts.schema != nil {
		p.opts.enc = rt.avroEncoder(topic, p.opts.schema)
	}
	if p.opts.enc == nil {
		p.opts.enc = JSON{}
	}
	return p, nil
}

// Topic is the topic the producer writes to.
func (p *Producer[T]) Topic() string { return p.topic }

// Publish encodes v, sends it and waits for the broker to acknowledge it
// as ProducerAcks says (every in-sync replica by default). It fails
// without sending anything when v does not encode, when the topic does not
// exist (and the broker will not create it), when the broker cannot be
// reached within the delivery timeout, or when ctx ends first.
func (p *Producer[T]) Publish(ctx context.Context, v T, opts ...PublishOption) (Receipt, error) {
	r, err := p.record(v, opts)
	if err != nil {
		return Receipt{}, err
	}
	res := p.rt.pub.ProduceSync(ctx, r)
	out, err := res.First()
	if err != nil {
		return Receipt{}, p.wrap(err)
	}
	return Receipt{Topic: out.Topic, Partition: out.Partition, Offset: out.Offset}, nil
}

// PublishAsync encodes v and sends it without waiting; done (optional) is
// called once with the outcome. An encoding error is returned at once and
// nothing is sent.
func (p *Producer[T]) PublishAsync(ctx context.Context, v T, done func(Receipt, error), opts ...PublishOption) error {
	val, key, headers, err := p.encode(v, opts)
	if err != nil {
		return err
	}
	if done == nil {
		p.rt.pub.Produce(ctx, &kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, nil)
		return nil
	}
	// One allocation carries the record and done; asyncPromise, a plain
	// function, finds done from the record, so no closure is allocated per
	// record.
	a := &asyncRecord{rec: kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, done: done}
	p.rt.pub.Produce(ctx, &a.rec, asyncPromise)
	return nil
}

// asyncRecord is a record published with PublishAsync and its callback.
type asyncRecord struct {
	rec  kgo.Record // first field: &rec and the asyncRecord share an address
	done func(Receipt, error)
}

// asyncPromise is the promise of every asyncRecord. franz-go calls a
// promise with the very *Record given to Produce, here always the rec of
// an asyncRecord, so the conversion recovers that asyncRecord.
func asyncPromise(r *kgo.Record, err error) {
	a := (*asyncRecord)(unsafe.Pointer(r))
	if err != nil {
		a.done(Receipt{}, wrapProduceErr(r.Topic, err))
		return
	}
	a.done(Receipt{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}, nil)
}

// Flush waits until every record published so far is acknowledged.
func (p *Producer[T]) Flush(ctx context.Context) error { return p.rt.pub.Flush(ctx) }

func (p *Producer[T]) record(v T, call []PublishOption) (*kgo.Record, error) {
	val, key, headers, err := p.encode(v, call)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, nil
}

// encode is v's value, key and headers under the producer's options and
// then the call's.
func (p *Producer[T]) encode(v T, call []PublishOption) (val, key []byte, headers []kgo.RecordHeader, err error) {
	o := &p.opts.recordOptions
	if len(call) > 0 {
		o = &recordOptions{key: o.key, hasKey: o.hasKey, headers: append([]kgo.RecordHeader(nil), o.headers...)}
		for _, c := range call {
			c.applyPublish(o)
		}
		if err := errors.Join(o.errs...); err != nil {
			return nil, nil, nil, fmt.Errorf("producer %s: %w", p.topic, err)
		}
	}
	if val, err = p.opts.enc.Encode(v); err != nil {
		return nil, nil, nil, fmt.Errorf("producer %s: encoding %T: %w", p.topic, v, err)
	}
	switch {
	case o.hasKey:
		key = o.key
	case p.keyFn != nil:
		key = keyBytes(p.keyFn(v))
	}
	headers = o.headers
	if p.rt.tracing != nil && o == &p.opts.recordOptions && len(headers) > 0 {
		// The tracing hook adds the trace context to the record's headers
		// in place: the producer's own headers, shared by its records,
		// must not be appended to or written by concurrent calls.
		headers = slices.Clone(headers)
	}
	return val, key, headers, nil
}

// keyBytes is k's bytes without a copy: strings are immutable and neither
// franz-go nor the runtime's hooks write to a record's key. An empty key
// stays an empty, non-nil slice (a zero-length key, not a null one), as
// []byte(k) gives.
func keyBytes(k string) []byte {
	if k == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(k), len(k))
}

func (p *Producer[T]) wrap(err error) error { return wrapProduceErr(p.topic, err) }

func wrapProduceErr(topic string, err error) error {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("producer %s: topic %q does not exist (create it with `actord topics create %s` or declare it): %w", topic, topic, topic, err)
	}
	return fmt.Errorf("producer %s: %w", topic, err)
}
