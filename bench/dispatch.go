package bench

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

// DispatchBatch is the records per delivered batch in the dispatch
// benchmark.
const DispatchBatch = 500

// DispatchBenchmark measures the partition actor alone, without a broker:
// one op is one record delivered (in batches of DispatchBatch, the way the
// group's poll loop does, waiting while the actor is at its in-flight cap),
// run by a no-op handler, and its offset marked for commit. Side gives
// the ordering mode and concurrency; records carry 1,000 keys.
func DispatchBenchmark(s Side) func(*testing.B) {
	return func(b *testing.B) {
		sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(slog.DiscardHandler)
		}))
		defer sys.Shutdown()
		keys := make([][]byte, 1000)
		for i := range keys {
			keys[i] = []byte("k" + strconv.Itoa(i))
		}
		value := make([]byte, ValueSize)
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
			Group: "bench", Topic: "bench", Ordering: s.Ordering, Concurrency: s.Concurrency,
			MaxInFlight: s.MaxInFlight, Pipeline: supervisor.Pipeline{Policy: supervisor.DefaultPolicy()},
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
		for i := 0; i < b.N; i += DispatchBatch {
			for h.Full() {
				<-room
			}
			h.Deliver(ptrs[i:min(i+DispatchBatch, b.N)])
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatalf("%d records not all marked within a minute", b.N)
		}
		b.StopTimer()
		h.Drain(5 * time.Second)
	}
}

// DispatchSides are the modes the dispatch benchmark covers.
func DispatchSides() []Side {
	return []Side{
		{Name: "partition", Ordering: partition.ByPartition},
		{Name: "key-c16", Ordering: partition.ByKey, Concurrency: 16},
		{Name: "unordered-c16", Ordering: partition.Unordered, Concurrency: 16},
	}
}
