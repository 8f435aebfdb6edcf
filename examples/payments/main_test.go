package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// Every order is settled by the payments service's result: totals over the
// card limit declined, the others paid (2 in 5 orders are over it).
func TestPayments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := run(ctx, actortest.Broker(t).Addr(), 20, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (outcome{paid: 12, declined: 8}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
