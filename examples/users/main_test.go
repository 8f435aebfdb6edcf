package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// Each user gets exactly one welcome mail and one settings record, though
// the settings actor retried for user 2.
func TestUsers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := run(ctx, actortest.Broker(t).Addr(), 6, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := int64(1); id <= 6; id++ {
		if l.mails[id] != 1 || l.settings[id] != 1 {
			t.Errorf("user %d: %d welcome mails, %d settings; want 1 and 1", id, l.mails[id], l.settings[id])
		}
	}
	if !l.busy[2] {
		t.Error("the settings actor never retried user 2")
	}
}
