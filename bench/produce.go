package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/schema"
)

// Order is the value the produce comparison sends: about 100 bytes of
// JSON.
type Order struct {
	ID         int64  `json:"id"`
	Customer   string `json:"customer"`
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
	Note       string `json:"note"`
}

// NewOrder is the i-th order; its customer (the record key) is one of
// keys.
func NewOrder(i, keys int) Order {
	return Order{
		ID: int64(i), Customer: "customer-" + strconv.Itoa(i%keys), SKU: "SKU-4711-XL",
		Quantity: 1 + i%5, PriceCents: 1999, Note: "leave at the door",
	}
}

// ProduceResult is one side's run of n records.
type ProduceResult struct {
	Name    string
	Records int
	// Elapsed runs from the first send to the last acknowledgement (Flush).
	Elapsed         time.Duration
	AllocsPerRecord float64
}

// Rate is records per second.
func (r ProduceResult) Rate() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// ProduceSide sends n orders to a topic and flushes.
type ProduceSide struct {
	Name string
	Run  func(ctx context.Context, e *Env, topic string, n, keys int) (time.Duration, error)
}

// ProduceSides are the sides of the produce comparison, baseline first:
// franz-go Produce of json.Marshal'd orders, actord's Producer[Order]
// (PublishAsync) with JSON and with Avro (WithSchema: the schema
// package's serde, single-object framing),
// and, as the wire's ceiling, franz-go Produce of one pre-encoded value. The raw clients carry the runtime producer's
// settings (acks=all, idempotent, no linger), so batching is the same.
func ProduceSides() []ProduceSide {
	return []ProduceSide{
		{Name: "raw franz-go, json.Marshal", Run: produceRaw(false)},
		{Name: "actord Producer[T], JSON", Run: produceActord(false)},
		{Name: "actord Producer[T], Avro", Run: produceActord(true)},
		{Name: "raw franz-go, pre-encoded", Run: produceRaw(true)},
	}
}

// ProducerOpts are the runtime producer's client settings
// (actors/runtime.go), for the raw sides: uncompressed, as the runtime
// writes by default (franz-go's own default is snappy, which halves what
// the in-process broker copies and stores: with it, the raw side of
// scenario 3 had the broker allocate 65 MB for 900,000 records against
// 233 MB for actord's).
func (e *Env) ProducerOpts() []kgo.Opt {
	return append(e.ClientOpts(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(actors.DefaultCompression.Codec()),
		kgo.ProducerLinger(actors.DefaultProducerLinger),
		kgo.RecordDeliveryTimeout(RequestTimeout),
	)
}

func produceRaw(preEncoded bool) func(ctx context.Context, e *Env, topic string, n, keys int) (time.Duration, error) {
	return func(ctx context.Context, e *Env, topic string, n, keys int) (time.Duration, error) {
		cl, err := kgo.NewClient(e.ProducerOpts()...)
		if err != nil {
			return 0, err
		}
		defer cl.Close()
		var failed firstError
		promise := func(_ *kgo.Record, err error) { failed.set(err) }
		fixed, _ := json.Marshal(NewOrder(0, keys))
		start := time.Now()
		for i := range n {
			o := NewOrder(i, keys)
			v := fixed
			if !preEncoded {
				if v, err = json.Marshal(o); err != nil {
					return 0, err
				}
			}
			cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(o.Customer), Value: v}, promise)
		}
		if err := cl.Flush(ctx); err != nil {
			return 0, err
		}
		if err := failed.get(); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
}

func produceActord(avro bool) func(ctx context.Context, e *Env, topic string, n, keys int) (time.Duration, error) {
	return func(ctx context.Context, e *Env, topic string, n, keys int) (time.Duration, error) {
		rt, err := e.Runtime()
		if err != nil {
			return 0, err
		}
		defer StopRuntime(rt)
		var opts []actors.ProducerOption
		if avro {
			s, err := schema.For[Order]()
			if err != nil {
				return 0, err
			}
			opts = append(opts, actors.WithSchema(s))
		}
		p, err := actors.NewKeyedProducer(rt, topic, func(o Order) string { return o.Customer }, opts...)
		if err != nil {
			return 0, err
		}
		var failed firstError
		done := func(_ actors.Receipt, err error) { failed.set(err) }
		start := time.Now()
		for i := range n {
			if err := p.PublishAsync(ctx, NewOrder(i, keys), done); err != nil {
				return 0, err
			}
		}
		if err := p.Flush(ctx); err != nil {
			return 0, err
		}
		if err := failed.get(); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
}

// CompareProducers runs every side rounds times, each run to a fresh
// topic of 3 partitions, alternating the order between rounds, and keeps
// each side's fastest run.
func (e *Env) CompareProducers(ctx context.Context, sides []ProduceSide, n, keys, rounds int) ([]ProduceResult, error) {
	best := make([]ProduceResult, len(sides))
	err := alternate(len(sides), rounds, func(i int) error {
		s := sides[i]
		topic := e.Name("produce")
		if err := e.CreateTopic(ctx, topic, 3); err != nil {
			return err
		}
		runtime.GC()
		m0, _ := allocs()
		d, err := s.Run(ctx, e, topic, n, keys)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		m1, _ := allocs()
		// The broker keeps every record in memory: free them for the
		// scenarios after this one.
		if err := e.DeleteTopic(ctx, topic); err != nil {
			return err
		}
		r := ProduceResult{Name: s.Name, Records: n, Elapsed: d, AllocsPerRecord: float64(m1-m0) / float64(n)}
		if best[i].Records == 0 || r.Elapsed < best[i].Elapsed {
			best[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return best, nil
}

// firstError keeps the first error reported from produce callbacks
// without allocating on the success path.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
