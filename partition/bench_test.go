package partition_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
)

// BenchmarkDispatch measures the partition actor alone in each mode: one op
// is one record delivered in batches of 500 (waiting while the partition is
// full, as the poll loop does), run by a no-op handler and marked. Records
// carry 1,000 keys. It is bench/dispatch.go's benchmark, kept beside the
// code so that a change to the actor is measured where it is made.
func BenchmarkDispatch(b *testing.B) {
	for _, m := range []struct {
		name        string
		ordering    partition.Ordering
		concurrency int
	}{
		{"partition", partition.ByPartition, 1},
		{"key-c16", partition.ByKey, 16},
		{"unordered-c16", partition.Unordered, 16},
	} {
		b.Run(m.name, func(b *testing.B) { benchDispatch(b, m.ordering, m.concurrency) })
	}
}

func benchDispatch(b *testing.B, ordering partition.Ordering, concurrency int) {
	const batch = 500
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte("k" + strconv.Itoa(i))
	}
	value := make([]byte, 100)
	recs := make([]kgo.Record, b.N)
	ptrs := make([]*kgo.Record, b.N)
	for i := range recs {
		recs[i] = kgo.Record{Topic: "bench", Offset: int64(i), Key: keys[i%len(keys)], Value: value}
		ptrs[i] = &recs[i]
	}
	done := make(chan struct{})
	room := make(chan struct{}, 1)
	target := int64(b.N)
	h := partition.Spawn(sys.Root, sys.Root, partition.Config{
		Group: "bench", Topic: "bench", Ordering: ordering, Concurrency: concurrency,
		Handle: func(context.Context, *kgo.Record, int) error { return nil },
		Mark: func(_ int32, next int64) {
			if next == target {
				close(done)
			}
		},
		Room: func() {
			select {
			case room <- struct{}{}:
			default:
			}
		},
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for h.Full() {
			<-room
		}
		h.Deliver(ptrs[i:min(i+batch, b.N)])
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d records not all marked within a minute", b.N)
	}
	b.StopTimer()
	h.Drain(5 * time.Second)
}
