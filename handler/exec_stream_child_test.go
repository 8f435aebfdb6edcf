//go:build linux

package handler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// An answer longer than maxStreamLine is out of protocol, named as such.
func TestStreamAnswerTooLong(t *testing.T) {
	ch, err := startStream([]string{"/bin/sh", "-c", `read -r l; head -c 70000 /dev/zero | tr '\0' x; echo`}, &kgo.Record{Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ch.kill(); ch.wait() }()
	_, err = ch.exchange([]byte("{}\n"))
	var pe *protocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "answered a line longer than 65536 bytes") {
		t.Fatalf("exchange: %v, want a protocol error naming the length", err)
	}
}

// A child that exits between records is started again for the next one,
// which does not fail for it; the dead child's pipes are closed.
func TestStreamChildExitedBetweenRecords(t *testing.T) {
	a := &streamActor{argv: []string{"/bin/sh", "-c", `read -r l; echo "0 ok"`}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	defer a.stop()
	d := &actors.Delivery{Ctx: context.Background(), Record: &kgo.Record{Topic: "t", Offset: 0}, Attempt: 1}
	if err := a.handle(d); err != nil {
		t.Fatalf("first record: %v", err)
	}
	first := a.ch
	actortest.Eventually(t, 10*time.Second, "the child to exit", func() bool {
		select {
		case <-first.exited:
			return true
		default:
			return false
		}
	})
	if err := a.handle(d); err != nil {
		t.Fatalf("second record, after the child exited: %v, want it handled by a new child", err)
	}
	if a.ch == first || a.ch.cmd.Process.Pid == first.cmd.Process.Pid {
		t.Error("the dead child was used again")
	}
	if first.stdin.Fd() != ^uintptr(0) || first.stdout.Fd() != ^uintptr(0) {
		t.Error("the dead child's pipes are still open")
	}
}
