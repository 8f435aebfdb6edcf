package registry_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/schema"
)

// BenchmarkRegistryProduceConsume produces b.N orders through the embedded
// registry (Confluent framing) and consumes them with a typed consumer
// whose registry client starts empty, on the embedded broker. It reports
// the registry requests per record of each side, which must be 0 after
// the first (one registration, one lookup), and the records per second
// of each side (the consumer starts once everything is produced).
//
//	go test -run '^$' -bench RegistryProduceConsume -benchtime 100000x ./broker/registry/
func BenchmarkRegistryProduceConsume(b *testing.B) {
	br := actortest.Broker(b)
	reg, err := registryStart(b)
	if err != nil {
		b.Fatal(err)
	}
	actortest.CreateTopic(b, br, "orders", 4)
	s, _ := schema.For[order]()
	newClient := func() *schema.RegistryClient {
		c, err := schema.NewRegistryClient(schema.RegistryConfig{URLs: []string{reg.URL()}})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	prodRT := actortest.Runtime(b, br, actors.WithSchemaRegistry(newClient()))
	rt := actortest.Runtime(b, br, actors.WithSchemaRegistry(newClient()))
	var handled atomic.Int64
	if err := actors.Consume(rt, "orders", "bench", func(_ context.Context, m actors.Message[order]) error {
		handled.Add(1)
		return nil
	}, actors.WithSchema(s)); err != nil {
		b.Fatal(err)
	}
	actortest.Start(b, prodRT)
	p, err := actors.NewProducer[order](prodRT, "orders", actors.WithSchema(s))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := p.PublishAsync(ctx, order{ID: int64(i), Total: 1.5}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	produced := reg.Requests()
	produceTime := time.Since(start)
	start = time.Now()
	actortest.Start(b, rt)
	actortest.Eventually(b, 5*time.Minute, "every record consumed", func() bool { return handled.Load() >= int64(b.N) })
	consumeTime := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(produced)/float64(b.N), "producer-lookups/record")
	b.ReportMetric(float64(reg.Requests()-produced)/float64(b.N), "consumer-lookups/record")
	b.ReportMetric(float64(b.N)/produceTime.Seconds(), "produced/s")
	b.ReportMetric(float64(b.N)/consumeTime.Seconds(), "consumed/s")
	b.Logf("%d records: producer %d registry requests, consumer %d", b.N, produced, reg.Requests()-produced)
}
