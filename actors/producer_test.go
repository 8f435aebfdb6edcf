package actors_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

type orderCreated struct {
	Event   string  `json:"event"`
	OrderID int     `json:"order_id"`
	UserID  int     `json:"user_id"`
	Total   float64 `json:"total"`
}

func TestPublishWaitsAndReturnsCoordinates(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 3)
	rt := actortest.Runtime(t, b)
	p, err := actors.NewKeyedProducer(rt, "orders", func(o orderCreated) string { return "user-1" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r1, err := p.Publish(ctx, orderCreated{Event: "order.created", OrderID: 123, UserID: 456, Total: 99.99})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := p.Publish(ctx, orderCreated{OrderID: 124}, actors.Header("source", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Partition != r2.Partition || r2.Offset != r1.Offset+1 {
		t.Fatalf("same key landed at %+v then %+v", r1, r2)
	}
	// Maps work like the seed's dicts.
	mp, _ := actors.NewProducer[map[string]any](rt, "orders")
	if _, err := mp.Publish(ctx, map[string]any{"event": "order.created", "order_id": 125}, actors.Key("user-1")); err != nil {
		t.Fatal(err)
	}
	recs := actortest.ReadTopic(t, b, "orders", 3)
	var got orderCreated
	json.Unmarshal(recs[0].Value, &got)
	if got.OrderID != 123 || got.Total != 99.99 || string(recs[0].Key) != "user-1" {
		t.Fatalf("first record %+v key %q", got, recs[0].Key)
	}
	if header(recs[1], "source") != "test" {
		t.Fatalf("per-call header missing")
	}
	if !strings.Contains(string(recs[2].Value), `"order_id":125`) {
		t.Fatalf("map value %s", recs[2].Value)
	}
}

// Keys land where Kafka's Java client puts them: murmur2 of the key,
// positive, modulo the partition count. Vectors from Kafka's UtilsTest.
func TestKeyPlacementMatchesKafkaMurmur2(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "keyed", 10)
	rt := actortest.Runtime(t, b)
	p, _ := actors.NewProducer[string](rt, "keyed")
	vectors := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	}
	for key, h := range vectors {
		want := (h & 0x7fffffff) % 10
		r, err := p.Publish(context.Background(), "v", actors.Key(key))
		if err != nil {
			t.Fatal(err)
		}
		if r.Partition != want {
			t.Errorf("key %q went to partition %d, Kafka's partitioner picks %d", key, r.Partition, want)
		}
	}
}

func TestProducerErrors(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	actortest.CreateTopic(t, b, "orders", 1)
	rt := actortest.Runtime(t, b, actors.RequestTimeout(2*time.Second))
	ctx := context.Background()

	t.Run("encoding", func(t *testing.T) {
		p, _ := actors.NewProducer[any](rt, "orders")
		if _, err := p.Publish(ctx, make(chan int)); err == nil || !strings.Contains(err.Error(), "encoding") {
			t.Fatalf("err = %v", err)
		}
		if e := actortest.EndOffsets(t, b, "orders")[0]; e != 0 {
			t.Fatalf("a failed encoding produced %d records", e)
		}
	})
	t.Run("unknown topic", func(t *testing.T) {
		p, _ := actors.NewProducer[string](rt, "no-such-topic")
		start := time.Now()
		_, err := p.Publish(ctx, "x")
		if err == nil || !strings.Contains(err.Error(), `"no-such-topic" does not exist`) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		p, _ := actors.NewProducer[string](rt, "orders")
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := p.Publish(c, "x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable broker", func(t *testing.T) {
		dead := actortest.Broker(t)
		addr := dead.Addr()
		dead.Close()
		rt2 := actortest.Runtime(t, actortest.At(addr), actors.RequestTimeout(time.Second))
		p, _ := actors.NewProducer[string](rt2, "orders")
		start := time.Now()
		if _, err := p.Publish(ctx, "x"); err == nil {
			t.Fatal("publish to a dead broker succeeded")
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("unreachable broker took %v to fail", d)
		}
	})
}

// Everything published asynchronously is flushed when the runtime stops.
func TestStopFlushesAsyncPublishes(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 3)
	rt := actortest.Runtime(t, b)
	p, _ := actors.NewProducer[int](rt, "orders")
	var acked atomic.Int64
	const n = 5000
	for i := range n {
		if err := p.PublishAsync(context.Background(), i, func(actors.Receipt, error) { acked.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	actortest.Stop(t, rt)
	var total int64
	for _, e := range actortest.EndOffsets(t, b, "orders") {
		total += e
	}
	if total != n || acked.Load() != n {
		t.Fatalf("after stop: %d in the topic, %d acknowledged, want %d", total, acked.Load(), n)
	}
}

// PublishAsync reports each record's coordinates, or its error, to done;
// keys from NewKeyedProducer's key function reach the wire as given, an empty one as a zero-length
// key rather than a null one.
func TestPublishAsyncReportsOutcomes(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	actortest.CreateTopic(t, b, "async", 3)
	rt := actortest.Runtime(t, b, actors.RequestTimeout(2*time.Second))
	ctx := context.Background()
	p, err := actors.NewKeyedProducer(rt, "async", func(o orderCreated) string { return o.Event })
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"user-1", "", "user-2", "user-1", ""}
	receipts := make([]actors.Receipt, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		err := p.PublishAsync(ctx, orderCreated{Event: k, OrderID: i}, func(r actors.Receipt, err error) {
			receipts[i], errs[i] = r, err
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	byPlace := map[actors.Receipt]*kgo.Record{}
	for _, r := range actortest.ReadTopic(t, b, "async", len(keys)) {
		byPlace[actors.Receipt{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}] = r
	}
	for i, k := range keys {
		if errs[i] != nil {
			t.Fatalf("record %d: %v", i, errs[i])
		}
		r := byPlace[receipts[i]]
		if r == nil {
			t.Fatalf("record %d: receipt %+v names no record", i, receipts[i])
		}
		var got orderCreated
		json.Unmarshal(r.Value, &got)
		if got.OrderID != i || string(r.Key) != k || r.Key == nil {
			t.Fatalf("record %d at %+v: value %+v key %q (nil %v)", i, receipts[i], got, r.Key, r.Key == nil)
		}
	}

	missing, _ := actors.NewProducer[string](rt, "no-such-topic")
	failed := make(chan error, 1)
	if err := missing.PublishAsync(ctx, "x", func(r actors.Receipt, err error) {
		if r != (actors.Receipt{}) {
			err = fmt.Errorf("receipt %+v with error %w", r, err)
		}
		failed <- err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if err == nil || !strings.Contains(err.Error(), `"no-such-topic" does not exist`) || !errors.Is(err, kerr.UnknownTopicOrPartition) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("done was not called for a record to a missing topic")
	}
}
