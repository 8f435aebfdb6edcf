//go:build linux

package handler

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pipeScript reads three records, answers them last first, reads three
// more and exits 3 without answering them: every child of it does so.
const pipeScript = `import json, sys
recs = [json.loads(sys.stdin.readline()) for _ in range(3)]
for r in reversed(recs):
    print(r["offset"], "ok", flush=True)
for _ in range(3):
    sys.stdin.readline()
sys.stderr.write("dying with three in flight\n")
sys.exit(3)
`

// outcome is one record's Done.
type outcome struct {
	offset int64
	err    error
}

func newTestPool(t *testing.T, script string, n int) (*streamPool, *sharedStream) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	path := filepath.Join(t.TempDir(), "child.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newStreamPool([]string{"/usr/bin/python3", path}, n, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := p.attach(&kgo.Record{Topic: "t", Partition: 2})
	t.Cleanup(func() { p.detach(s) })
	return p, s
}

// running is s's child.
func running(s *sharedStream) *pipedChild {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// sendAll sends records at offsets, all in flight at once, and collects
// their outcomes by offset.
func sendAll(t *testing.T, s *sharedStream, ctx context.Context, offsets ...int64) map[int64]error {
	t.Helper()
	out := make(chan outcome, len(offsets))
	for _, off := range offsets {
		s.send(ctx, &kgo.Record{Topic: "t", Partition: 2, Offset: off, Value: []byte("v")}, 1, func(err error) { out <- outcome{off, err} })
	}
	got := map[int64]error{}
	timeout := time.After(20 * time.Second)
	for range offsets {
		select {
		case o := <-out:
			if _, dup := got[o.offset]; dup {
				t.Fatalf("offset %d finished twice", o.offset)
			}
			got[o.offset] = o.err
		case <-timeout:
			t.Fatalf("outcomes so far %v: the rest never finished", got)
		}
	}
	return got
}

// Several records in flight in one child: answers out of order are
// matched by offset; a child that dies with three in flight fails each
// of the three (none is lost, none done), and the next records start a
// new child.
func TestPipelinedChildAnswersByOffsetAndFailsAllInFlightWhenItDies(t *testing.T) {
	_, s := newTestPool(t, pipeScript, 4)
	for off, err := range sendAll(t, s, context.Background(), 10, 11, 12) {
		if err != nil {
			t.Errorf("offset %d: %v, want done (answered out of order)", off, err)
		}
	}
	first := running(s)
	if first == nil {
		t.Fatal("no child running after three answers")
	}
	s.mu.Lock()
	inFlight := len(first.pending)
	s.mu.Unlock()
	if inFlight != 0 {
		t.Fatalf("%d records in flight after every answer came, want none", inFlight)
	}
	for off, err := range sendAll(t, s, context.Background(), 13, 14, 15) {
		want := "no answer for offset " + itoa(int32(off)) + ": exited with exit status 3: dying with three in flight"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("offset %d: %v, want a failed attempt containing %q", off, err, want)
		}
	}
	// The attempts that failed are tried again in a new child.
	for off, err := range sendAll(t, s, context.Background(), 13, 14, 15) {
		if err != nil {
			t.Errorf("offset %d, second attempt: %v, want done by a new child", off, err)
		}
	}
	if now := running(s); now == nil || now == first || now.ch.cmd.Process.Pid == first.ch.cmd.Process.Pid {
		t.Error("the dead child was used again")
	}
	if first.ch.stdin.Fd() != ^uintptr(0) || first.ch.stdout.Fd() != ^uintptr(0) {
		t.Error("the dead child's pipes are still open")
	}
}

// A record past its handler timeout kills the child: it fails as timed
// out, the others in flight fail naming it, and the child is gone.
func TestPipelinedTimeoutFailsEveryRecordInFlight(t *testing.T) {
	_, s := newTestPool(t, "import sys, time\nfor line in sys.stdin:\n    pass\n", 4)
	out := make(chan outcome, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for i, off := range []int64{1, 2, 3} {
		c := context.Background()
		if i == 1 {
			c = ctx
		}
		s.send(c, &kgo.Record{Topic: "t", Partition: 2, Offset: off}, 1, func(err error) { out <- outcome{off, err} })
	}
	pc := running(s)
	for range 3 {
		select {
		case o := <-out:
			want := "no answer for offset " + itoa(int32(o.offset)) + ": killed with its process group: offset 2 had no answer in time"
			if o.offset == 2 {
				want = "no answer for offset 2 in time: killed with its process group"
			}
			if o.err == nil || !strings.Contains(o.err.Error(), want) {
				t.Errorf("offset %d: %v, want %q", o.offset, o.err, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the records in flight never failed")
		}
	}
	select {
	case <-pc.ch.exited:
	default:
		t.Error("the child is still running")
	}
}

// An answer for an offset not in flight is out of protocol: every record
// in flight fails, naming it.
func TestPipelinedAnswerForAnotherOffset(t *testing.T) {
	_, s := newTestPool(t, "import sys\nsys.stdin.readline()\nprint(99, 'ok', flush=True)\nsys.stdin.read()\n", 4)
	for off, err := range sendAll(t, s, context.Background(), 5, 6) {
		if err == nil || !strings.Contains(err.Error(), `answered out of protocol: answered "99 ok": no record at offset 99 is in flight`) {
			t.Errorf("offset %d: %v, want the protocol error", off, err)
		}
	}
}

// Handler actors of a partition share children, up to n each; the last
// to detach stops the child.
func TestStreamPoolAttach(t *testing.T) {
	p := newStreamPool([]string{"/bin/cat"}, 2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r0, r1 := &kgo.Record{Topic: "t", Partition: 0}, &kgo.Record{Topic: "t", Partition: 1}
	a, b, c, d := p.attach(r0), p.attach(r0), p.attach(r0), p.attach(r1)
	if a != b || a == c || a == d || c == d {
		t.Fatalf("slots %p %p %p %p: want two actors of partition 0 on one slot, the third on another, partition 1 on its own", a, b, c, d)
	}
	p.detach(a)
	if e := p.attach(r0); e != a {
		t.Error("a slot with room was not reused")
	}
	for _, s := range []*sharedStream{a, a, c, d} {
		p.detach(s)
	}
	if len(p.parts) != 0 {
		t.Errorf("slots left after every actor detached: %v", p.parts)
	}
}
