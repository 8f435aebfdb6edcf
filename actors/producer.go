package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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

// ProducerOption is an Option given to a producer or one Publish call: the
// same type as consumer options, so WithSchema serves both.
type ProducerOption = Option

type producerOptions struct {
	keyFn   any // func(T) string, checked against T
	key     []byte
	hasKey  bool
	headers []kgo.RecordHeader
	enc     Encoder
}

// KeyBy derives each record's key from its value. Records with one key
// land on one partition (Kafka's murmur2 partitioner, as Java clients do),
// so their order holds.
func KeyBy[T any](fn func(T) string) ProducerOption {
	return func(o *options) { o.prod.keyFn = fn }
}

// Key sets the record key explicitly (per producer, or per Publish call).
func Key(k string) ProducerOption {
	return func(o *options) { o.prod.key, o.prod.hasKey = []byte(k), true }
}

// Header adds a record header (per producer, or per Publish call).
func Header(k, v string) ProducerOption {
	return func(o *options) {
		o.prod.headers = append(o.prod.headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
}

// WithEncoder sets how values become bytes. Default JSON.
func WithEncoder(e Encoder) ProducerOption { return func(o *options) { o.prod.enc = e } }

// Producer publishes values of type T to one topic: the seed's
// @producer(topic=...). It is safe for concurrent use.
type Producer[T any] struct {
	rt    *Runtime
	topic string
	opts  producerOptions
	keyFn func(T) string
}

// NewProducer returns a producer of T to topic. The runtime's client is
// idempotent with acks=all; everything buffered is flushed when the
// runtime stops.
func NewProducer[T any](rt *Runtime, topic string, opts ...ProducerOption) (*Producer[T], error) {
	p := &Producer[T]{rt: rt, topic: topic}
	var all options
	for _, o := range opts {
		o(&all)
	}
	p.opts = all.prod
	if all.schema != nil {
		p.opts.enc = rt.avroEncoder(topic, all.schema)
	}
	if p.opts.enc == nil {
		p.opts.enc = JSON{}
	}
	if p.opts.keyFn != nil {
		fn, ok := p.opts.keyFn.(func(T) string)
		if !ok {
			var zero T
			return nil, fmt.Errorf("producer %s: KeyBy takes a func(%T) string, got %T", topic, zero, p.opts.keyFn)
		}
		p.keyFn = fn
	}
	if topic == "" {
		return nil, errors.New("producer: topic is required")
	}
	return p, nil
}

// Topic is the topic the producer writes to.
func (p *Producer[T]) Topic() string { return p.topic }

// Publish encodes v, sends it and waits for every in-sync replica to
// acknowledge it (acks=all). It fails without sending anything when v does
// not encode, when the topic does not exist (and the broker will not
// create it), when the broker cannot be reached within
// kafka.request_timeout, or when ctx ends first.
func (p *Producer[T]) Publish(ctx context.Context, v T, opts ...ProducerOption) (Receipt, error) {
	r, err := p.record(v, opts)
	if err != nil {
		return Receipt{}, err
	}
	res := p.rt.prod.ProduceSync(ctx, r)
	out, err := res.First()
	if err != nil {
		return Receipt{}, p.wrap(err)
	}
	return Receipt{Topic: out.Topic, Partition: out.Partition, Offset: out.Offset}, nil
}

// PublishAsync encodes v and sends it without waiting; done (optional) is
// called once with the outcome. An encoding error is returned at once and
// nothing is sent.
func (p *Producer[T]) PublishAsync(ctx context.Context, v T, done func(Receipt, error), opts ...ProducerOption) error {
	val, key, headers, err := p.encode(v, opts)
	if err != nil {
		return err
	}
	if done == nil {
		p.rt.prod.Produce(ctx, &kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, nil)
		return nil
	}
	// One allocation carries the record and done; asyncPromise, a plain
	// function, finds done from the record, so no closure is allocated per
	// record.
	a := &asyncRecord{rec: kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, done: done}
	p.rt.prod.Produce(ctx, &a.rec, asyncPromise)
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
func (p *Producer[T]) Flush(ctx context.Context) error { return p.rt.prod.Flush(ctx) }

func (p *Producer[T]) record(v T, call []ProducerOption) (*kgo.Record, error) {
	val, key, headers, err := p.encode(v, call)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: headers}, nil
}

// encode is v's value, key and headers under the producer's options and
// then the call's.
func (p *Producer[T]) encode(v T, call []ProducerOption) (val, key []byte, headers []kgo.RecordHeader, err error) {
	o := &p.opts
	if len(call) > 0 {
		all := &options{prod: p.opts}
		all.prod.headers = append([]kgo.RecordHeader(nil), p.opts.headers...)
		for _, c := range call {
			c(all)
		}
		o = &all.prod
	}
	if val, err = o.enc.Encode(v); err != nil {
		return nil, nil, nil, fmt.Errorf("producer %s: encoding %T: %w", p.topic, v, err)
	}
	switch {
	case o.hasKey:
		key = o.key
	case p.keyFn != nil:
		key = keyBytes(p.keyFn(v))
	}
	return val, key, o.headers, nil
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
