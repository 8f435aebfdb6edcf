package main

import (
	"context"
	"io"
	"maps"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// The stock keeper covers orders in the partition's order until an item
// runs out; the rest are backordered.
func TestEmbedding(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := run(ctx, actortest.Broker(t).Addr(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.reserved != 5 || res.backordered != 2 {
		t.Errorf("%d reserved, %d backordered; want 5 and 2", res.reserved, res.backordered)
	}
	if want := map[string]int{"widget": 0, "gadget": 0}; !maps.Equal(res.stock, want) {
		t.Errorf("stock left %v, want %v", res.stock, want)
	}
}
