//go:build linux

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// `actord start` with exec in stream mode (the mapping form) and a shell
// `while read` child: in key mode with concurrency 2 over 2 partitions,
// every record is answered once, the fail answer dead-letters its record
// with the reason, SIGTERM drains and commits, and no child outlives
// actord.
func TestStartExecStreamEndToEnd(t *testing.T) {
	addr := startTestBroker(t)
	dir := t.TempDir()
	out, pids := filepath.Join(dir, "handled"), filepath.Join(dir, "pids")
	script := filepath.Join(dir, "stream.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
echo $$ >> `+pids+`
while IFS= read -r line; do
  offset=${line#*\"offset\":}; offset=${offset%%,*}
  case "$line" in
    *'"value":"fail-me"'*) printf '%s fail no such customer\n' "$offset" ;;
    *) echo "$ACTORD_PARTITION $offset" >> `+out+`; printf '%s ok\n' "$offset" ;;
  esac
done
`), 0o755)
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka:
  bootstrap_servers: `+addr+`
log:
  level: warn
http:
  listen: ""
runtime:
  commit_interval: 100ms
topics:
  - {name: orders, partitions: 2, replication_factor: 1}
consumers:
  - topic: orders
    group: processor
    ordering: key
    concurrency: 2
    handler:
      exec: {command: ["`+script+`"], mode: stream}
`), 0o644)

	d := startDaemon(t, "start", "--config", cfgFile)

	adm := kadm.NewClient(actortest.Client(t, actortest.At(addr)))
	waitFor(t, 20*time.Second, "orders created with 2 partitions", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx, "orders")
		return err == nil && td.Has("orders") && len(td["orders"].Partitions) == 2
	})
	const n = 200
	var recs []*kgo.Record
	for i := range n {
		v := fmt.Sprint("v", i)
		if i == 100 {
			v = "fail-me"
		}
		recs = append(recs, actortest.KeyValue(fmt.Sprint("k", i%10), v))
	}
	actortest.Produce(t, actortest.At(addr), "orders", recs...)
	dl := readOne(t, addr, "orders.dlq")
	if string(dl.Value) != "fail-me" || !strings.Contains(headerValue(dl, "actord.dlq.error"), "failed: no such customer") {
		t.Errorf("dead letter %q, actord.dlq.error %q", dl.Value, headerValue(dl, "actord.dlq.error"))
	}
	waitFor(t, 20*time.Second, "every other record answered", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "\n") >= n-1
	})
	d.stop(t)
	if !actortest.CommittedToEnd(t, actortest.At(addr), "processor", "orders") {
		t.Errorf("not committed to the end: %v, end %v", actortest.Committed(t, actortest.At(addr), "processor", "orders"), actortest.EndOffsets(t, actortest.At(addr), "orders"))
	}
	data, _ := os.ReadFile(out)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if seen[l] {
			t.Errorf("record %s answered twice", l)
		}
		seen[l] = true
	}
	if len(seen) != n-1 {
		t.Errorf("%d records answered, want %d", len(seen), n-1)
	}
	b, _ := os.ReadFile(pids)
	started := strings.Fields(string(b))
	if len(started) == 0 || len(started) > 4 {
		t.Errorf("children started %v: want 1 to 4 (2 handler actors on each of 2 partitions)", started)
	}
	for _, p := range started {
		pid, _ := strconv.Atoi(p)
		// The child is gone, not a zombie: actord reaped it before it exited.
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil || pid == 0 {
			t.Errorf("child %s still there after actord exited", p)
		}
	}
	if s := d.out.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Errorf("output has a stack trace:\n%s", s)
	}
}
