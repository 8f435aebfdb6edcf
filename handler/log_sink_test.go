package handler_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/supervisor"
)

func devFull(t *testing.T) {
	t.Helper()
	if f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err != nil {
		t.Skip("no /dev/full")
	} else {
		f.Close()
	}
}

// A sink that refuses every write (a full disk): the attempt keeps writing
// the line again until its context ends, then fails as a retry.
func TestLogFullDiskRetriesTheWriteUntilTheContextEnds(t *testing.T) {
	devFull(t)
	fn := newHandler(t, config.Handler{Log: &config.LogHandler{File: "/dev/full"}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begun := time.Now()
	err := fn(ctx, message())
	if err == nil {
		t.Fatal("a write to /dev/full succeeded")
	}
	if d := supervisor.Decide(err); d != supervisor.Retry {
		t.Errorf("failed write is %v, want retry: %v", d, err)
	}
	if took := time.Since(begun); took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("attempt returned after %v, want when its context ended (300ms)", took)
	}
}

// Under a consumer: records logged to a full disk are never dead-lettered
// (the sink failed, not they) and stay uncommitted.
func TestLogFullDiskDeadLettersNothing(t *testing.T) {
	devFull(t)
	b := startBroker(t)
	createTopic(t, b, "audit")
	createTopic(t, b, "audit.dlq")
	actortest.Produce(t, b, "audit", actortest.Value("a"), actortest.Value("b"), actortest.Value("c"))
	rt := newRuntime(t, b)
	fn := newHandler(t, config.Handler{Log: &config.LogHandler{File: "/dev/full"}}, rt)
	if err := actors.Consume[[]byte](rt, "audit", "auditors", fn, actors.MaxRetries(1),
		actors.Backoff(time.Millisecond, 5*time.Millisecond), actors.DeadLetterTopic("audit.dlq")); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	// Long enough for today's behaviour (each write fails at once) to
	// dead-letter all three records many times over.
	time.Sleep(2 * time.Second)
	if n := actortest.EndOffsets(t, b, "audit.dlq")[0]; n != 0 {
		t.Errorf("%d records dead-lettered because the log file's disk is full, want 0", n)
	}
	actortest.Stop(t, rt)
	if c := actortest.Committed(t, b, "auditors", "audit"); c[0] != 0 {
		t.Errorf("committed %v though nothing was written, want nothing", c)
	}
}
