package bench

import (
	"context"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmarks run only with -bench; `go test ./...` runs none of them
// and starts no broker. Consume and produce benchmarks share one embedded
// broker, started on first use; one op is one record.

var (
	envOnce sync.Once
	env     *Env
	envErr  error
)

func sharedEnv(b *testing.B) *Env {
	b.Helper()
	envOnce.Do(func() { env, envErr = Start() })
	if envErr != nil {
		b.Fatal(envErr)
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.Close()
	}
	os.Exit(code)
}

// BenchmarkDispatch is the partition actor's hot path without a broker.
func BenchmarkDispatch(b *testing.B) {
	for _, s := range DispatchSides() {
		b.Run(s.Name, DispatchBenchmark(s))
	}
}

// BenchmarkCodec is one Order encoded or decoded, JSON against Avro.
func BenchmarkCodec(b *testing.B) {
	for _, c := range CodecBenchmarks() {
		b.Run(c.Name, c.F)
	}
}

// BenchmarkConsume consumes b.N records (100 bytes, 3 partitions, 1,000
// keys) written beforehand to a fresh topic, through each consume side.
// The op includes the group join; allocs/op is per record, the in-process
// broker's fetch serving included.
func BenchmarkConsume(b *testing.B) {
	for _, s := range ConsumeSides(16) {
		b.Run(benchName(s.Name), func(b *testing.B) {
			e := sharedEnv(b)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			topic := e.Name("bench-consume")
			if err := e.CreateTopic(ctx, topic, 3); err != nil {
				b.Fatal(err)
			}
			if err := e.Fill(ctx, topic, b.N, 1000); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			r, err := e.ConsumeAll(ctx, s, topic, b.N, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(r.Rate(), "rec/s")
		})
	}
}

// BenchmarkProduce sends b.N orders through each produce side to a fresh
// topic of 3 partitions and flushes.
func BenchmarkProduce(b *testing.B) {
	for _, s := range ProduceSides() {
		b.Run(benchName(s.Name), func(b *testing.B) {
			e := sharedEnv(b)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			topic := e.Name("bench-produce")
			if err := e.CreateTopic(ctx, topic, 3); err != nil {
				b.Fatal(err)
			}
			// Every run starts from the same heap, as in CompareProducers:
			// the broker keeps what earlier runs sent until their topic goes.
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			d, err := s.Run(ctx, e, topic, b.N, 1000)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/d.Seconds(), "rec/s")
			if err := e.DeleteTopic(ctx, topic); err != nil {
				b.Fatal(err)
			}
		})
	}
}
