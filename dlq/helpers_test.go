package dlq_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

// deadline is a context that ends after d or with the test.
func deadline(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startBroker runs a one-node kfake cluster that allows auto topic
// creation (as the embedded broker of the daemon) on a free 127.0.0.1 port for
// the test and returns its address.
func startBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return ln.Addr().String()
}

// client is a plain client on addr, closed with the test.
func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopic creates topic with n partitions.
func createTopic(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, n int32) {
	t.Helper()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, n, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// source is the i-th record of topic as a consumer saw it before giving
// up on it.
func source(topic string, i int) *kgo.Record {
	return &kgo.Record{
		Topic:     topic,
		Partition: int32(i % 2),
		Offset:    int64(100 + i),
		Key:       fmt.Appendf(nil, "key-%d", i),
		Value:     fmt.Appendf(nil, "value-%d", i),
		Headers:   []kgo.RecordHeader{{Key: "trace", Value: fmt.Appendf(nil, "trace-%d", i)}},
		Timestamp: time.Now().Add(-time.Minute).Truncate(time.Millisecond),
	}
}

// failure is the Failure the tests dead-letter with.
var failure = dlq.Failure{Group: "processor", Attempts: 3, Err: fmt.Errorf("boom"), FailedAt: time.Now()}

// writeDeadLetters writes the dead letters of srcs to partition 0 of
// topic and waits for their acknowledgement.
func writeDeadLetters(t *testing.T, ctx context.Context, addr, topic string, srcs []*kgo.Record, edit func(i int, dl *kgo.Record)) {
	t.Helper()
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	dls := make([]*kgo.Record, len(srcs))
	for i, src := range srcs {
		dls[i] = dlq.Record(topic, src, failure)
		if edit != nil {
			edit(i, dls[i])
		}
	}
	if err := cl.ProduceSync(ctx, dls...).FirstErr(); err != nil {
		t.Fatalf("write dead letters to %s: %v", topic, err)
	}
}

// readAll returns every record of topic up to its end offsets, polling
// until they are all in or ctx ends.
func readAll(t *testing.T, ctx context.Context, addr, topic string) []*kgo.Record {
	t.Helper()
	ends, err := kadm.NewClient(client(t, addr)).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := 0
	ends.Each(func(o kadm.ListedOffset) { want += int(o.Offset) })
	if want == 0 {
		return nil
	}
	cl := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records before the deadline", topic, len(got), want)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

// committed is group's committed offset of topic partition p, -1 if none.
func committed(t *testing.T, ctx context.Context, cl *kgo.Client, group, topic string, p int32) int64 {
	t.Helper()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	if o, ok := offs.Lookup(topic, p); ok {
		return o.At
	}
	return -1
}

func sameHeaders(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || string(a[i].Value) != string(b[i].Value) {
			return false
		}
	}
	return true
}
