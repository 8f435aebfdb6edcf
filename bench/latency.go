package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
)

// LatencyResult is one side's produce-to-handler-start latencies.
type LatencyResult struct {
	Name    string
	Samples []time.Duration // sorted
}

// Quantile is the q-th quantile (0..1) of the samples.
func (r LatencyResult) Quantile(q float64) time.Duration {
	if len(r.Samples) == 0 {
		return 0
	}
	return r.Samples[int(q*float64(len(r.Samples)-1)+0.5)]
}

// Max is the largest sample.
func (r LatencyResult) Max() time.Duration {
	if len(r.Samples) == 0 {
		return 0
	}
	return r.Samples[len(r.Samples)-1]
}

// sender publishes one value without waiting for its acknowledgement.
type sender func(ctx context.Context, key string, value []byte) error

// LatencySides returns the sides of the latency comparison: a raw franz-go
// producer and poll loop, then actord's Producer[[]byte] and a consumer in
// partition mode, each sending at once (the runtime's default) and
// lingering 1 ms. The linger is most of the second pair's latency: a
// record at 1,000 a second to 3 partitions waits the whole of it for
// company, and Go's timers make that 1.1 to 2 ms.
func LatencySides() []Side {
	return []Side{
		{Name: "raw franz-go produce + poll loop", Raw: true},
		{Name: "actord Producer + partition mode", Ordering: actors.ByPartition},
		{Name: "raw franz-go, linger 1 ms", Raw: true, Linger: time.Millisecond},
		{Name: "actord, ProducerLinger(1ms)", Ordering: actors.ByPartition, Linger: time.Millisecond},
	}
}

// Latency produces to a fresh 3-partition topic at rate records per second
// for d and measures, per record, the time from just before the send to
// the start of its handler (the send time travels in the value). The
// consumer joins and sees a warm-up record first, so joining is not
// measured.
func (e *Env) Latency(ctx context.Context, s Side, rate int, d time.Duration) (LatencyResult, error) {
	topic := e.Name("latency")
	if err := e.CreateTopic(ctx, topic, 3); err != nil {
		return LatencyResult{}, err
	}
	n := int(d.Seconds() * float64(rate))
	samples := make([]time.Duration, n)
	var taken, warm atomic.Int64
	c, err := e.StartConsumer(s, topic, e.Name("group"), func(_ int32, v []byte) {
		now := time.Now().UnixNano()
		if len(v) < 8 {
			return
		}
		sent := int64(binary.BigEndian.Uint64(v))
		if sent == 0 {
			warm.Add(1)
			return
		}
		if i := taken.Add(1) - 1; i < int64(len(samples)) {
			samples[i] = time.Duration(now - sent)
		}
	})
	if err != nil {
		return LatencyResult{}, err
	}
	defer c.Stop()
	send, closeSend, err := e.sender(s, topic)
	if err != nil {
		return LatencyResult{}, err
	}
	defer closeSend()

	// Warm up: a record every 20 ms until the consumer has joined and
	// handled one.
	deadline := time.Now().Add(30 * time.Second)
	for warm.Load() == 0 {
		if time.Now().After(deadline) {
			return LatencyResult{}, fmt.Errorf("%s: consumer never started", s.Name)
		}
		if err := send(ctx, "warm", make([]byte, ValueSize)); err != nil {
			return LatencyResult{}, err
		}
		time.Sleep(20 * time.Millisecond) // pacing the warm-up sends
	}
	time.Sleep(200 * time.Millisecond) // let the warm-up traffic settle

	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		v := make([]byte, ValueSize)
		binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
		if err := send(ctx, "k"+strconv.Itoa(i%1000), v); err != nil {
			return LatencyResult{}, err
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for taken.Load() < int64(n) {
		if time.Now().After(deadline) {
			return LatencyResult{}, fmt.Errorf("%s: %d of %d records handled", s.Name, taken.Load(), n)
		}
		time.Sleep(10 * time.Millisecond) // polling for the last records
	}
	slices.Sort(samples)
	return LatencyResult{Name: s.Name, Samples: samples}, nil
}

// CompareLatency runs Latency for every side rounds times, alternating
// the order of the sides between rounds, and keeps each side's round
// with the median p99.
func (e *Env) CompareLatency(ctx context.Context, sides []Side, rate int, d time.Duration, rounds int) ([]LatencyResult, error) {
	runs, err := alternateRuns(len(sides), rounds, func(i int) (LatencyResult, error) { return e.Latency(ctx, sides[i], rate, d) })
	if err != nil {
		return nil, err
	}
	out := make([]LatencyResult, len(sides))
	for i, rs := range runs {
		out[i] = medianBy(rs, func(r LatencyResult) time.Duration { return r.Quantile(0.99) })
	}
	return out, nil
}

// sender returns the producing half of side s: a raw franz-go client with
// the runtime producer's settings, or actord's Producer[[]byte], lingering
// s.Linger.
func (e *Env) sender(s Side, topic string) (sender, func(), error) {
	if s.Raw {
		opts := e.ProducerOpts()
		if s.Linger > 0 {
			opts = append(opts, kgo.ProducerLinger(s.Linger))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, key string, v []byte) error {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: v}, nil)
			return nil
		}, cl.Close, nil
	}
	var opts []actors.RuntimeOption
	if s.Linger > 0 {
		opts = append(opts, actors.ProducerLinger(s.Linger))
	}
	rt, err := e.Runtime(opts...)
	if err != nil {
		return nil, nil, err
	}
	p, err := actors.NewProducer[[]byte](rt, topic)
	if err != nil {
		StopRuntime(rt)
		return nil, nil, err
	}
	return func(ctx context.Context, key string, v []byte) error {
		return p.PublishAsync(ctx, v, nil, actors.Key(key))
	}, func() { StopRuntime(rt) }, nil
}
