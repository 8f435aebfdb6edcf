package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// waitFor polls cond until it holds or d passes.
var waitFor = actortest.Eventually

// `actord start` end to end: an exec handler that succeeds, asks for a
// retry once (exit 75) and fails for good (exit 1, dead-lettered), then
// SIGTERM: drain, commit, exit 0.
func TestStartExecHandlerEndToEnd(t *testing.T) {
	addr := startTestBroker(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.txt")
	script := filepath.Join(dir, "handle.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
v=$(cat)
case "$v" in
  retry-once) [ "$ACTORD_ATTEMPT" = 1 ] && exit 75 ;;
  poison) echo "cannot handle $v" >&2; exit 1 ;;
esac
echo "$v $ACTORD_TOPIC $ACTORD_PARTITION $ACTORD_OFFSET $ACTORD_KEY $ACTORD_ATTEMPT" >> `+out+`
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
    max_retries: 2
    backoff: {initial: 5ms, max: 20ms}
    handler:
      exec: ["`+script+`"]
  - topic: other
    group: reporting
    handler:
      log: {}
`), 0o644)

	cmd := exec.Command(actordBinary(t), "start", "--config", cfgFile, "--group", "processor")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	// The topic is reconciled by start (2 partitions); produce once it exists.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	waitFor(t, 20*time.Second, "orders created with 2 partitions", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx, "orders")
		return err == nil && td.Has("orders") && len(td["orders"].Partitions) == 2
	})
	values := []string{"a", "b", "retry-once", "poison", "c"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Key: []byte("k"), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "four records handled", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "\n") == 4
	})
	data, _ := os.ReadFile(out)
	if !strings.Contains(string(data), "retry-once orders") || !strings.Contains(string(data), " k 2\n") {
		t.Errorf("retry-once not handled on attempt 2:\n%s", data)
	}
	// The poison record is in orders.dlq with its error.
	dl := readOne(t, addr, "orders.dlq")
	if string(dl.Value) != "poison" || !hasHeader(dl, "actord.dlq.attempts", "3") || !strings.Contains(headerValue(dl, "actord.dlq.error"), "exit code 1") {
		t.Errorf("dead letter: value %q headers %v", dl.Value, dl.Headers)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("actord start exited with %v; output:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("actord start did not stop on SIGTERM; output:\n%s", stderr.String())
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	offs, err := adm.FetchOffsets(ctx2, "processor")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx2, "orders")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, _ := offs.Lookup("orders", e.Partition)
		if o.At != e.Offset {
			t.Errorf("partition %d committed %d, end %d", e.Partition, o.At, e.Offset)
		}
	})
	if s := stderr.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Errorf("output has a stack trace:\n%s", s)
	}
}

func readOne(t *testing.T, addr, topic string) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record in %s", topic)
		}
		if rs := fs.Records(); len(rs) > 0 {
			return rs[0]
		}
	}
}

func headerValue(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

func hasHeader(r *kgo.Record, k, v string) bool { return headerValue(r, k) == v }

func TestStartUnknownGroupListsKnown(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`consumers:
  - {topic: orders, group: processor, handler: {log: {}}}
  - {topic: users, group: notifications, handler: {log: {}}}
`), 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"start", "--config", cfgFile, "--group", "nope"}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Fatal("unknown group accepted")
	}
	got := stderr.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, `unknown group "nope"`) || !strings.Contains(got, "processor, notifications") {
		t.Fatalf("stderr = %q", got)
	}
}

var _ = strconv.Itoa

// An unreachable broker fails `actord start` within the request timeout,
// naming the address and how to get a broker.
func TestStartUnreachableBroker(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka: {bootstrap_servers: "127.0.0.1:1", request_timeout: 2s}
http: {listen: ""}
consumers:
  - {topic: orders, group: processor, handler: {log: {}}}
`), 0o644)
	var stdout, stderr bytes.Buffer
	begin := time.Now()
	code := run(context.Background(), []string{"start", "--config", cfgFile}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Fatal("start succeeded without a broker")
	}
	if d := time.Since(begin); d > 12*time.Second {
		t.Fatalf("took %v", d)
	}
	last := strings.TrimSpace(stderr.String())
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	if !strings.Contains(last, "cannot reach Kafka at 127.0.0.1:1") || !strings.Contains(last, "actord broker") {
		t.Fatalf("stderr = %q", stderr.String())
	}
}

// SIGTERM drains; a second signal while the drain waits exits at once.
func TestStartSecondSignalExitsAtOnce(t *testing.T) {
	addr := startTestBroker(t)
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	script := filepath.Join(dir, "slow.sh")
	// The handler outlives any drain timeout the test would wait for.
	os.WriteFile(script, []byte("#!/bin/sh\ntouch "+started+"\nexec sleep 600\n"), 0o755)
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka: {bootstrap_servers: "`+addr+`"}
http: {listen: ""}
log: {level: warn}
runtime: {drain_timeout: 5m}
consumers:
  - {topic: orders, group: processor, handler: {exec: ["`+script+`"]}}
`), 0o644)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(actordBinary(t), "start", "--config", cfgFile)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, 20*time.Second, "the handler running", func() bool {
		_, err := os.Stat(started)
		return err == nil
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		t.Fatalf("exited on the first signal while a record was in flight (drain 5m): %v\n%s", err, out.String())
	case <-time.After(300 * time.Millisecond): // the first signal must not end it: this is the check, not a wait for an outcome
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a forced exit reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the second signal did not end the process\n%s", out.String())
	}
	if !strings.Contains(out.String(), "second signal") {
		t.Errorf("output does not say why it stopped:\n%s", out.String())
	}
}
