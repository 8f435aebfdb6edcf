package handler_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// TestExecThroughRuntimeRetriesThenCommits runs an exec handler under a
// real consumer: the command asks for a retry (exit 75) on the first
// attempt and succeeds on the second, and the group's offset is committed
// past the record.
func TestExecThroughRuntimeRetriesThenCommits(t *testing.T) {
	b := startBroker(t)
	dir := t.TempDir()
	handled := filepath.Join(dir, "handled")
	script := writeScript(t, dir, "handle.sh", `if [ "$ACTORD_ATTEMPT" = 1 ]; then
  echo "not yet" >&2
  exit 75
fi
{ printf '%s attempt=%s ' "$ACTORD_KEY" "$ACTORD_ATTEMPT"; cat; echo; } >> '`+handled+`'
`)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	createTopic(t, b, "jobs")
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "jobs", Key: []byte("k1"), Value: []byte("payload")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	rt := newRuntime(t, b)
	fn, err := handler.New(config.Handler{Exec: &config.ExecHandler{Command: []string{script}}}, rt, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := actors.Consume[[]byte](rt, "jobs", "workers", fn, actors.MaxRetries(3), actors.Backoff(time.Millisecond, 5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}

	eventually(t, 10*time.Second, "the record handled", func() bool {
		b, _ := os.ReadFile(handled)
		return len(b) > 0
	})
	eventually(t, 10*time.Second, "the group's offset committed to the end", func() bool {
		offsets, err := adm.FetchOffsets(ctx, "workers")
		if errors.Is(err, kerr.GroupIDNotFound) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		o, ok := offsets.Lookup("jobs", 0)
		return ok && o.At == 1
	})
	got, err := os.ReadFile(handled)
	if err != nil {
		t.Fatal(err)
	}
	if want := "k1 attempt=2 payload\n"; string(got) != want {
		t.Errorf("handled %q, want %q (once, on the second attempt)", got, want)
	}
}
