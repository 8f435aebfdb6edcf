package actors_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// BenchmarkTracing is the cost of tracing per record, produced and then
// handled through the embedded broker (one op is one record's way from
// PublishAsync to its handler): off (no tracer provider) against on (the
// SDK sampling every trace, batching spans to an exporter that drops
// them, so the export's own cost is not counted). The difference is what
// tracing adds: the producer span, the trace headers, the receive span
// and the attempt's process span. README, Tracing, has the figures.
func BenchmarkTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			br := actortest.Broker(b)
			opts := []actors.RuntimeOption{actors.WithLogger(actortest.Logger())}
			if on {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				defer tp.Shutdown(context.Background())
				opts = append(opts, actors.WithTracerProvider(tp))
			}
			actortest.CreateTopic(b, br, "bench", 1)
			rt := actortest.Runtime(b, br, opts...)
			var handled atomic.Int64
			done := make(chan struct{})
			target := int64(b.N)
			err := actors.Consume(rt, "bench", "bench", func(_ context.Context, _ actors.Message[[]byte]) error {
				if handled.Add(1) == target {
					close(done)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			actortest.Start(b, rt)
			p, err := actors.NewProducer[[]byte](rt, "bench")
			if err != nil {
				b.Fatal(err)
			}
			value := make([]byte, 100)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := p.PublishAsync(ctx, value, nil); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				b.Fatalf("handled %d of %d records in 2m", handled.Load(), b.N)
			}
			b.StopTimer()
		})
	}
}
