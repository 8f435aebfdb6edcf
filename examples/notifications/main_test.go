package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// Every order published is notified exactly once, decoded with the
// service's reader schema.
func TestNotifications(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sent, err := run(ctx, actortest.Broker(t).Addr(), 20, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 20 {
		t.Fatalf("sent %d notifications, want 20: %q", len(sent), sent)
	}
	for i := 1; i <= 20; i++ {
		if want := fmt.Sprintf("Order #%d confirmed!", i); !slices.Contains(sent, want) {
			t.Errorf("missing %q", want)
		}
	}
}
