package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// The demo runs end to end on free ports: every order charged, settled and
// notified, every user welcomed and configured, the gateway timeouts and
// the busy settings store retried, the poison record dead-lettered once
// (skipped by notifications), and nothing left uncommitted.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const orders, users = 300, 30
	sum, err := run(ctx, options{orders: orders, users: users, listen: "127.0.0.1:0", metrics: "127.0.0.1:0", exit: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantDeclined := 0
	for i := 1; i <= orders; i++ {
		if price(i) > cardLimit {
			wantDeclined++
		}
	}
	if sum.paid != orders-wantDeclined || sum.declined != wantDeclined {
		t.Errorf("%d paid, %d declined; want %d and %d", sum.paid, sum.declined, orders-wantDeclined, wantDeclined)
	}
	if sum.notified != orders || sum.welcomed != users || sum.configs != users {
		t.Errorf("%d notified, %d welcomed, %d configured; want %d, %d, %d", sum.notified, sum.welcomed, sum.configs, orders, users, users)
	}
	if sum.produced["orders"] != orders+1 || sum.produced["payments"] != orders || sum.produced["events"] != users || sum.produced["orders.dlq"] != 1 {
		t.Errorf("produced %v", sum.produced)
	}
	want := map[string]groupSummary{
		paymentsGroup:      {handled: orders, retried: 8, dead: 1}, // orders 13, 53, ... 293 time out once
		notificationsGroup: {handled: orders, dead: 1},
		ordersGroup:        {handled: orders},
		usersGroup:         {handled: users, retried: 1}, // user 7's settings
	}
	for _, g := range sum.groups {
		w := want[g.group]
		if g.handled != w.handled || g.retried != w.retried || g.dead != w.dead || g.lag != 0 {
			t.Errorf("%s: handled %d, retried %d, dead %d, lag %d; want %d, %d, %d, 0", g.group, g.handled, g.retried, g.dead, g.lag, w.handled, w.retried, w.dead)
		}
	}
	if len(sum.deadLetters) != 1 {
		t.Errorf("dead letters %q, want the poison record", sum.deadLetters)
	}
}
