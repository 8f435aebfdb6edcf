package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/examples/shop"
)

// Every result is acknowledged and reads back from the topic as the JSON
// the service published, keyed by its order, one order's record on one
// partition.
func TestProducer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := actortest.Broker(t)
	const n = 250
	acked, err := run(ctx, b.Addr(), n, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if acked != n {
		t.Fatalf("%d acknowledged, want %d", acked, n)
	}
	recs := actortest.ReadTopic(t, b, shop.PaymentsTopic, n)
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	seen := map[int64]bool{}
	partitions := map[int32]bool{}
	for _, r := range recs {
		var p shop.PaymentProcessed
		if err := json.Unmarshal(r.Value, &p); err != nil {
			t.Fatalf("%s/%d@%d: %v: %q", r.Topic, r.Partition, r.Offset, err, r.Value)
		}
		if p != payment(int(p.OrderID)) {
			t.Errorf("read %+v, published %+v", p, payment(int(p.OrderID)))
		}
		if string(r.Key) != strconv.FormatInt(p.OrderID, 10) {
			t.Errorf("order %d keyed %q", p.OrderID, r.Key)
		}
		if seen[p.OrderID] {
			t.Errorf("order %d twice", p.OrderID)
		}
		seen[p.OrderID] = true
		partitions[r.Partition] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct orders, want %d", len(seen), n)
	}
	if len(partitions) != 3 {
		t.Errorf("records on partitions %v, want all 3 of the declared topic", partitions)
	}
}

// Without brokers there is nothing to publish to: actors.New says how to
// point the service at a cluster.
func TestProducerNeedsBrokers(t *testing.T) {
	if _, err := run(context.Background(), "", 1, io.Discard); !errors.Is(err, actors.ErrNoBrokers) {
		t.Fatalf("run without brokers: %v, want actors.ErrNoBrokers", err)
	}
}
