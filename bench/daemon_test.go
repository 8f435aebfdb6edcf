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
// this process (the runtime, handler.New with the log and the forward
// kinds, the defaults otherwise) over the embedded broker, for profiling:
//
//	ACTORD_DAEMON_PROFILE=log go test -run DaemonHandlers -cpuprofile cpu.out ./bench/
//
// ACTORD_DAEMON_PROFILE is log or forward; unset, the test is skipped.
func TestDaemonHandlersInProcess(t *testing.T) {
	kind := os.Getenv("ACTORD_DAEMON_PROFILE")
	if kind == "" {
		t.Skip("set ACTORD_DAEMON_PROFILE=log or forward to run")
	}
	const n = 500_000
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
	fn, err := handler.New(h, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	done := make(chan struct{})
	count := func(ctx context.Context, m actors.Message[[]byte]) error {
		err := fn(ctx, m)
		if err == nil && handled.Add(1) == n {
			close(done)
		}
		return err
	}
	if err := actors.Consume(rt, topic, e.Name("group"), count); err != nil {
		t.Fatal(err)
	}
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
	t.Logf("%s: %d records in %v: %.0f records/s", kind, n, span, float64(n)/span.Seconds())
}
