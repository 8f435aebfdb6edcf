package bench

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// TestDaemonHandlersInProcess runs the daemon scenario's handler path in
// this process (the runtime, handler.NewBatch with the log and the
// forward kinds under actors.ConsumeBatch, as actord start declares them,
// the defaults otherwise) over the embedded broker, for profiling:
//
//	ACTORD_DAEMON_PROFILE=log ACTORD_DAEMON_CPU=cpu.out go test -run DaemonHandlers ./bench/
//
// ACTORD_DAEMON_PROFILE is log or forward; unset, the test is skipped.
// ACTORD_DAEMON_CPU, when set, is the file a CPU profile of the consuming
// alone (not the filling before it) is written to.
func TestDaemonHandlersInProcess(t *testing.T) {
	kind := os.Getenv("ACTORD_DAEMON_PROFILE")
	if kind == "" {
		t.Skip("set ACTORD_DAEMON_PROFILE=log or forward to run")
	}
	const n = 1_000_000
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	topic := e.Name("daemon")
	if err := e.CreateTopic(ctx, topic, 3); err != nil {
		t.Fatal(err)
	}
	if err := e.FillJSON(ctx, topic, n, 1000); err != nil {
		t.Fatal(err)
	}
	rt, err := e.Runtime()
	if err != nil {
		t.Fatal(err)
	}
	defer StopRuntime(rt)
	var h config.Handler
	switch kind {
	case "log":
		h.Log = &config.LogHandler{File: filepath.Join(t.TempDir(), "out.log")}
	case "forward":
		target := e.Name("forwarded")
		if err := e.CreateTopic(ctx, target, 3); err != nil {
			t.Fatal(err)
		}
		h.Forward = &config.ForwardHandler{Topic: target}
	default:
		t.Fatalf("ACTORD_DAEMON_PROFILE=%q: want log or forward", kind)
	}
	// As actord start declares it: in batches (handler.NewBatch), in
	// partition order.
	bh, ok, err := handler.NewBatch(h, rt, nil)
	if err != nil || !ok {
		t.Fatalf("NewBatch: %v, %v", ok, err)
	}
	var handled, batches, inside atomic.Int64
	done := make(chan struct{})
	counted := func(t0 time.Time, n0 int, err error) error {
		inside.Add(int64(time.Since(t0)))
		batches.Add(1)
		if err == nil && handled.Add(int64(n0)) == n {
			close(done)
		}
		return err
	}
	var count handler.Batch
	if bh.Start != nil {
		count.Start = func(ctx context.Context, ms []actors.Message[[]byte]) func() error {
			t0 := time.Now()
			wait := bh.Start(ctx, ms)
			return func() error { return counted(t0, len(ms), wait()) }
		}
	} else {
		count.Handle = func(ctx context.Context, ms []actors.Message[[]byte]) error {
			t0 := time.Now()
			return counted(t0, len(ms), bh.Handle(ctx, ms))
		}
	}
	if err := count.Declare(rt, topic, e.Name("group")); err != nil {
		t.Fatal(err)
	}
	defer profileCPU(t, os.Getenv("ACTORD_DAEMON_CPU"))()
	e.armFetchClock()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%d of %d handled", handled.Load(), n)
	}
	span := time.Since(e.fetchClock())
	t.Logf("%s: %d records in %v: %.0f records/s; %d batches of %.0f records on average, %v each from its start to its end",
		kind, n, span, float64(n)/span.Seconds(), batches.Load(), float64(n)/float64(batches.Load()), time.Duration(inside.Load()/batches.Load()))
}
