package main

import (
	"context"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// The lamp succeeds on its third attempt; the piano (4 attempts), the
// unicorn (1) and the poison record (1) are dead-lettered; after the fix
// the replay handles the piano and the unicorn, and the poison record is
// dead-lettered again.
func TestErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := run(ctx, actortest.Broker(t).Addr(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantHandled := map[int64]int{1: 1, 2: 3, 3: 1, 4: 1, 6: 1}
	if !maps.Equal(res.handled, wantHandled) {
		t.Errorf("handled (order -> attempt) = %v, want %v", res.handled, wantHandled)
	}
	if res.deadLettered != 3 || res.replayed != 3 {
		t.Errorf("dead-lettered %d, replayed %d; want 3 and 3", res.deadLettered, res.replayed)
	}
	if len(res.deadLettersAt) != 4 {
		t.Fatalf("%d dead letters at the end, want 4: %+v", len(res.deadLettersAt), res.deadLettersAt)
	}
	want := []struct{ attempts, err string }{
		{"4", "inventory service unavailable"}, // the piano
		{"1", "unknown product"},               // the unicorn
		{"1", "cannot decode"},                 // the poison record
		{"1", "cannot decode"},                 // the poison record, replayed
	}
	for i, w := range want {
		d := res.deadLettersAt[i]
		if d.attempts != w.attempts || !strings.Contains(d.err, w.err) {
			t.Errorf("dead letter %d = %+v, want %s attempt(s) and an error with %q", i, d, w.attempts, w.err)
		}
	}
}
