package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// Every order is published; one user's orders share a partition and keep
// their order; a value that does not fit the schema is refused.
func TestOrders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := run(ctx, actortest.Broker(t).Addr(), 12, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.published) != 12 {
		t.Fatalf("published %d orders, want 12", len(res.published))
	}
	partitionOf := map[int64]int32{}
	lastOffset := map[int32]int64{}
	for _, p := range res.published {
		if prev, ok := partitionOf[p.order.UserID]; ok && prev != p.receipt.Partition {
			t.Errorf("user %d: orders on partitions %d and %d", p.order.UserID, prev, p.receipt.Partition)
		}
		partitionOf[p.order.UserID] = p.receipt.Partition
		if last, ok := lastOffset[p.receipt.Partition]; ok && p.receipt.Offset <= last {
			t.Errorf("partition %d: offset %d after %d", p.receipt.Partition, p.receipt.Offset, last)
		}
		lastOffset[p.receipt.Partition] = p.receipt.Offset
	}
	if res.refused == nil || !strings.Contains(res.refused.Error(), "total") {
		t.Errorf("refused = %v, want an error naming the total field", res.refused)
	}
}
