package actors_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
			// (The topic ends with a commit marker, which no record
			// covers: the group's offset stays one below the end.)
			actortest.Eventually(t, 30*time.Second, "the committed record handled", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) > 0 && got[len(got)-1] == "committed"
			})
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
