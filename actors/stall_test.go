package actors_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

func stalledGauge(rt *actors.Runtime, group, topic, partition string) float64 {
	var m dto.Metric
	rt.Metrics().PartitionStalled.WithLabelValues(group, topic, partition).(prometheus.Metric).Write(&m)
	return m.GetGauge().GetValue()
}

// A handler that blocks trips the stall detector within the timeout and a
// tick: Ready names the partition and the record (offset, attempt, the
// last error), the gauge is 1, a warning says so; once the handler lets
// go, the partition moves and all of it clears.
func TestStallTimeoutReportsABlockedHandler(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "stuck", 1)
	lines := &logLines{}
	rt := actortest.Runtime(t, b, actors.StallTimeout(time.Second),
		actors.WithLogger(slog.New(slog.NewJSONHandler(lines, nil))))
	release := make(chan struct{})
	err := actors.Consume(rt, "stuck", "stuckers", func(ctx context.Context, m actors.Message[string]) error {
		if m.Offset == 0 && m.Attempt == 1 {
			return errors.New("downstream down")
		}
		if m.Offset == 0 {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "stuck", actortest.Value("a"), actortest.Value("b"), actortest.Value("c"))
	start := time.Now()
	var ready error
	actortest.Eventually(t, 10*time.Second, "Ready reports the stalled partition", func() bool {
		ready = rt.Ready(context.Background())
		return ready != nil && strings.Contains(ready.Error(), "stalled")
	})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reported after %s with a 1s stall timeout", d)
	}
	for _, want := range []string{"group stuckers: partition stuck/0 stalled", "offset 0", "attempt 2", "last error (attempt 1): downstream down"} {
		if !strings.Contains(ready.Error(), want) {
			t.Errorf("Ready: %v; want it to say %q", ready, want)
		}
	}
	if g := stalledGauge(rt, "stuckers", "stuck", "0"); g != 1 {
		t.Errorf("actord_partition_stalled %v, want 1", g)
	}
	lines.mu.Lock()
	logged := strings.Contains(lines.buf.String(), `"msg":"partition stalled`)
	lines.mu.Unlock()
	if !logged {
		t.Error("no partition stalled warning logged")
	}
	close(release)
	actortest.WaitCommittedToEnd(t, b, "stuckers", "stuck")
	actortest.Eventually(t, 10*time.Second, "the stall clears", func() bool {
		return rt.Ready(context.Background()) == nil && stalledGauge(rt, "stuckers", "stuck", "0") == 0
	})
}

// A slow partition that keeps finishing records never stalls, though each
// record takes a third of the timeout and all of them three times it.
func TestStallTimeoutIgnoresASlowMovingPartition(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "slow", 1)
	rt := actortest.Runtime(t, b, actors.StallTimeout(time.Second))
	err := actors.Consume(rt, "slow", "slowpokes", func(ctx context.Context, m actors.Message[string]) error {
		select { // the handler's slow work
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	for range 10 {
		actortest.Produce(t, b, "slow", actortest.Value("v"))
	}
	actortest.Eventually(t, 30*time.Second, "every record handled, never stalled", func() bool {
		if err := rt.Ready(context.Background()); err != nil && strings.Contains(err.Error(), "stalled") {
			t.Fatalf("a moving partition reported stalled: %v", err)
		}
		return actortest.CommittedToEnd(t, b, "slowpokes", "slow")
	})
	if g := stalledGauge(rt, "slowpokes", "slow", "0"); g != 0 {
		t.Errorf("actord_partition_stalled %v, want 0", g)
	}
}

func TestStallTimeoutRefusesNegative(t *testing.T) {
	_, err := actors.New(actors.Brokers("127.0.0.1:1"), actors.StallTimeout(-time.Second))
	if err == nil || !strings.Contains(err.Error(), "actors.StallTimeout(-1s): must be 0 (off) or positive") {
		t.Fatalf("err = %v", err)
	}
}

// While the consumer's circuit is open (the downstream unavailable) its
// partitions do not move, and the stall detector stays quiet: an open
// circuit is a known, handled state. Once the downstream is back, the
// records flow and nothing was reported.
func TestStallTimeoutIsQuietWhileTheCircuitIsOpen(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "down", 1)
	rt := actortest.Runtime(t, b, actors.StallTimeout(time.Second))
	var up atomic.Bool
	err := actors.Consume(rt, "down", "waiters", func(ctx context.Context, m actors.Message[string]) error {
		if !up.Load() {
			return actors.Unavailable(errors.New("downstream down"))
		}
		return nil
	}, fastRetries(), actors.WithCircuit(actors.CircuitSettings{ProbeInitial: 200 * time.Millisecond, ProbeMax: 400 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "down", actortest.Value("a"), actortest.Value("b"))
	// Three stall timeouts with the circuit open, each look finding the
	// partition unmoved: none may report it.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if err := rt.Ready(context.Background()); err != nil && strings.Contains(err.Error(), "stalled") {
			t.Fatalf("Ready reports a stall while the circuit is open: %v", err)
		}
		if g := stalledGauge(rt, "waiters", "down", "0"); g != 0 {
			t.Fatalf("actord_partition_stalled %v while the circuit is open", g)
		}
		time.Sleep(50 * time.Millisecond)
	}
	up.Store(true)
	actortest.WaitCommittedToEnd(t, b, "waiters", "down")
}

// A handler that blocks on a record's first attempt is reported on that
// attempt, with no error to tell (first attempts leave no note: the hot
// path stores nothing).
func TestStallTimeoutReportsAFirstAttempt(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "stuck-first", 1)
	rt := actortest.Runtime(t, b, actors.StallTimeout(time.Second))
	release := make(chan struct{})
	defer close(release)
	err := actors.Consume(rt, "stuck-first", "first", func(ctx context.Context, m actors.Message[string]) error {
		if m.Offset == 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "stuck-first", actortest.Value("a"), actortest.Value("b"))
	var ready error
	actortest.Eventually(t, 10*time.Second, "Ready reports the stalled partition", func() bool {
		ready = rt.Ready(context.Background())
		return ready != nil && strings.Contains(ready.Error(), "stalled")
	})
	if s := ready.Error(); !strings.Contains(s, "offset 1, attempt 1") || strings.Contains(s, "last error") {
		t.Errorf("Ready: %v; want it on offset 1, attempt 1, with no error", ready)
	}
}
