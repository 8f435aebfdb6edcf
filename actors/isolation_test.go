package actors_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// A record of an aborted transaction reaches no handler by default (read
// committed); with actors.ReadUncommitted it does. Both consumers handle
// the committed record after it.
func TestIsolationLevel(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "txn", 1)
	cl := actortest.Client(t, b, kgo.TransactionalID("isolation-test"), kgo.DefaultProduceTopic("txn"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		value  string
		commit kgo.TransactionEndTry
	}{{"aborted", kgo.TryAbort}, {"committed", kgo.TryCommit}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(c.value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, c.commit); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		opts []actors.RuntimeOption
		want []string
	}{
		{"read_committed", nil, []string{"committed"}},
		{"read_uncommitted", []actors.RuntimeOption{actors.ReadUncommitted()}, []string{"aborted", "committed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := actortest.Runtime(t, b, c.opts...)
			var mu sync.Mutex
			var got []string
			if err := actors.Consume(rt, "txn", "g-"+c.name, func(_ context.Context, m actors.Message[string]) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, m.Value)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			// The committed record comes after the aborted one: once it is
			// handled, the aborted one was handed over or never will be.
			actortest.Eventually(t, 30*time.Second, "the committed record handled", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) > 0 && got[len(got)-1] == "committed"
			})
			// The topic ends with the commit marker: the group's offset
			// passes it, as a Java consumer's does (no lag of 1 left).
			actortest.WaitCommittedToEnd(t, b, "g-"+c.name, "txn")
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("handled %q, want %q", got, c.want)
			}
		})
	}
}

// ReadUncommitted beside an exactly-once consumer is refused, naming both.
func TestReadUncommittedRefusesTransform(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ReadUncommitted())
	err := actors.Transform(rt, "in", "g", func(context.Context, actors.Message[string]) ([]*kgo.Record, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), "actors.ReadUncommitted()") || !strings.Contains(err.Error(), "actors.Transform") {
		t.Fatalf("Transform with ReadUncommitted: %v, want an error naming both", err)
	}
}

// A group whose committed offset is a transaction's marker (as franz-go
// consumers, actord's before, left it) is moved past it on its next
// start, though no record comes to mark.
func TestCommittedMarkerIsPassed(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "txn-end", 1)
	cl := actortest.Client(t, b, kgo.TransactionalID("marker-test"), kgo.DefaultProduceTopic("txn-end"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("only")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// The record is at offset 0, the marker at 1: commit 1.
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "txn-end", Partition: 0, At: 1, LeaderEpoch: -1})
	if err := kadm.NewClient(actortest.Client(t, b)).CommitAllOffsets(ctx, "at-marker", offs); err != nil {
		t.Fatal(err)
	}
	rt := actortest.Runtime(t, b)
	var handled atomic.Int64
	if err := actors.Consume(rt, "txn-end", "at-marker", func(context.Context, actors.Message[string]) error {
		handled.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "at-marker", "txn-end")
	if n := handled.Load(); n != 0 {
		t.Errorf("%d records handled again, want 0", n)
	}
}
