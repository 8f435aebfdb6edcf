package broker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
)

// testCtx bounds every wait of one test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("Start(%+v): %v", cfg, err)
	}
	t.Cleanup(b.Close)
	return b
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produce(t *testing.T, ctx context.Context, addr, topic string, values ...string) {
	t.Helper()
	cl := client(t, addr)
	for _, v := range values {
		r := &kgo.Record{Topic: topic, Key: []byte("k-" + v), Value: []byte(v)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %q to %s: %v", v, topic, err)
		}
	}
}

// consumeAll reads topic from the start until it has want records or ctx
// ends.
func consumeAll(t *testing.T, ctx context.Context, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: got %d of %d records before the deadline", topic, len(got), want)
		}
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

func values(rs []*kgo.Record) string {
	var vs []string
	for _, r := range rs {
		vs = append(vs, string(r.Value))
	}
	return strings.Join(vs, ",")
}

func TestStartServesKafkaClients(t *testing.T) {
	ctx := testCtx(t)
	b := start(t, broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true})
	if strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("Addr() = %s, want the port chosen", b.Addr())
	}
	produce(t, ctx, b.Addr(), "orders", "one", "two")
	rs := consumeAll(t, ctx, b.Addr(), "orders", 2)
	if got := values(rs); got != "one,two" {
		t.Fatalf("consumed %q, want one,two", got)
	}
	if string(rs[0].Key) != "k-one" {
		t.Errorf("key = %q, want k-one", rs[0].Key)
	}
}

func TestStartErrors(t *testing.T) {
	busy := start(t, broker.Config{Listen: "127.0.0.1:0"})
	file := filepath.Join(t.TempDir(), "regular-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	underFile := filepath.Join(file, "data")

	tests := []struct {
		name string
		cfg  broker.Config
		want string // in the error
	}{
		{"port in use", broker.Config{Listen: busy.Addr()}, busy.Addr()},
		{"data dir under a regular file", broker.Config{Listen: "127.0.0.1:0", DataDir: underFile}, underFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := broker.Start(tt.cfg)
			if err == nil {
				b.Close()
				t.Fatalf("Start(%+v) succeeded, want an error", tt.cfg)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming %s", msg, tt.want)
			}
		})
	}
}

func TestDataDirSurvivesRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	const topic, group = "orders", "processor"

	b := start(t, broker.Config{Listen: "127.0.0.1:0", DataDir: dir, AutoCreateTopics: true})
	produce(t, ctx, b.Addr(), topic, "a", "b", "c")
	adm := kadm.NewClient(client(t, b.Addr()))
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: topic, Partition: 0, At: 2, LeaderEpoch: -1})
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit offset of group %s: %v", group, err)
	}
	b.Close()

	b = start(t, broker.Config{Listen: "127.0.0.1:0", DataDir: dir, AutoCreateTopics: true})
	if got := values(consumeAll(t, ctx, b.Addr(), topic, 3)); got != "a,b,c" {
		t.Fatalf("after restart consumed %q, want a,b,c", got)
	}
	fetched, err := kadm.NewClient(client(t, b.Addr())).FetchOffsets(ctx, group)
	if err == nil {
		err = fetched.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets of group %s: %v", group, err)
	}
	o, ok := fetched.Lookup(topic, 0)
	if !ok || o.At != 2 {
		t.Fatalf("after restart group %s at %s/0 = %+v (found %v), want offset 2", group, topic, o, ok)
	}
}

func ExampleStart() {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("hello")})
	fmt.Println(r.FirstErr(), r[0].Record.Offset)
	// Output: <nil> 0
}
