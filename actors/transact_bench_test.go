package actors_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// BenchmarkForward measures a forward of b.N records of 100 B from one
// topic of 3 partitions to another on the embedded broker, one op a
// record's way from its partition to the output topic with its offset
// committed: exactly once (Transform, a transaction per partition and
// commit interval) against at least once (Consume producing each copy
// and waiting for its acknowledgement, as the daemon's forward does).
// Both run in partition order.
func BenchmarkForward(b *testing.B) {
	value := make([]byte, 100)
	for _, mode := range []string{"exactly-once", "at-least-once"} {
		b.Run(mode, func(b *testing.B) {
			br := actortest.Broker(b)
			actortest.CreateTopic(b, br, "in", 3)
			actortest.CreateTopic(b, br, "out", 3)
			recs := make([]*kgo.Record, b.N)
			for i := range recs {
				recs[i] = &kgo.Record{Key: []byte("k" + strconv.Itoa(i%64)), Value: value}
			}
			actortest.Produce(b, br, "in", recs...)
			rt := actortest.Runtime(b, br)
			var err error
			if mode == "exactly-once" {
				err = actors.Transform(rt, "in", "fwd", func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
					return []*kgo.Record{{Topic: "out", Key: m.Key, Value: m.Value}}, nil
				})
			} else {
				cl := rt.Client()
				err = actors.Consume(rt, "in", "fwd", func(ctx context.Context, m actors.Message[[]byte]) error {
					return cl.ProduceSync(ctx, &kgo.Record{Topic: "out", Key: m.Key, Value: m.Value}).FirstErr()
				})
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			actortest.Start(b, rt)
			actortest.WaitCommittedToEnd(b, br, "fwd", "in")
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if n := len(actortest.ReadCommitted(b, br, "out")); n < b.N {
				b.Fatal(fmt.Sprintf("%d of %d outputs committed", n, b.N))
			}
		})
	}
}
