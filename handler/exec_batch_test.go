package handler_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// The exec handler with batch: {max, wait} runs its command once per
// batch, the records as JSON lines on stdin. A command that fails every
// batch holding the poison record (exit 1) gets it isolated: exactly that
// record is dead-lettered, every other record is handled once, in order.
func TestExecBatch(t *testing.T) {
	b := startBroker(t)
	createTopic(t, b, "orders")
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.jsonl")
	script := writeScript(t, dir, "batch.sh", `input=$(cat)
case "$input" in *'"value":"poison"'*) echo "poison in batch of $ACTORD_COUNT from $ACTORD_FIRST_OFFSET" >&2; exit 1 ;; esac
printf '%s\n' "$input" >> `+out+`
`)
	const n = 120
	recs := make([]*kgo.Record, n)
	var want []string
	for i := range recs {
		v := strconv.Itoa(i)
		if i == 50 {
			v = "poison"
		} else {
			want = append(want, v)
		}
		recs[i] = &kgo.Record{Value: []byte(v)}
	}
	actortest.Produce(t, b, "orders", recs...)
	rt := newRuntime(t, b)
	fn, batching, err := handler.NewExecBatch(config.ExecHandler{Command: []string{script}, Batch: &config.Batch{Max: 30, Wait: 20 * time.Millisecond}}, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := actors.ConsumeBatch(rt, "orders", "batcher", batching, fn, actors.MaxRetries(1), actors.Backoff(time.Millisecond, 5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	dead := actortest.ReadTopic(t, b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "batcher", "orders")
	if string(dead[0].Value) != "poison" {
		t.Errorf("dead-lettered %q, want the poison record", dead[0].Value)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec handler.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, rec.Value.(string))
	}
	if !slices.Equal(got, want) {
		t.Errorf("handled %d records (first %q), want the %d others once each, in order", len(got), got[:min(len(got), 5)], len(want))
	}
}
