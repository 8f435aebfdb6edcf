package actortest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CreateTopic creates topic with partitions partitions and one replica.
func CreateTopic(t testing.TB, c Cluster, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cl := shortClient(t, c)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("actortest: create topic %s: %v", topic, err)
	}
}

// shortClient is a client for one call, closed by the caller: the offset
// helpers are polled, so their clients must not pile up until the test ends.
func shortClient(t testing.TB, c Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Addr())}, opts...)...)
	if err != nil {
		t.Fatalf("actortest: kafka client: %v", err)
	}
	return cl
}

// Value is a record with the given value, for Produce.
func Value(v string) *kgo.Record { return &kgo.Record{Value: []byte(v)} }

// KeyValue is a record with the given key and value, for Produce.
func KeyValue(k, v string) *kgo.Record { return &kgo.Record{Key: []byte(k), Value: []byte(v)} }

// Produce writes recs to topic (each record's own topic is overwritten)
// and waits until every one is acknowledged, failing t otherwise.
func Produce(t testing.TB, c Cluster, topic string, recs ...*kgo.Record) {
	t.Helper()
	cl := shortClient(t, c, kgo.AllowAutoTopicCreation())
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for _, r := range recs {
		r.Topic = topic
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("actortest: produce to %s: %v", topic, err)
	}
}

// Committed returns group's committed offsets per partition of topic, as
// the broker reports them; empty when the group has committed nothing.
func Committed(t testing.TB, c Cluster, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	out := map[int32]int64{}
	cl := shortClient(t, c)
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out
	}
	if err != nil {
		t.Fatalf("actortest: committed offsets of %s: %v", group, err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// EndOffsets returns the end offset (the next offset to be written) of
// each partition of topic.
func EndOffsets(t testing.TB, c Cluster, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cl := shortClient(t, c)
	defer cl.Close()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		t.Fatalf("actortest: end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// CommittedToEnd reports whether group has committed every partition of
// topic up to its end offset: everything written so far is finished.
func CommittedToEnd(t testing.TB, c Cluster, group, topic string) bool {
	t.Helper()
	got := Committed(t, c, group, topic)
	for p, end := range EndOffsets(t, c, topic) {
		if got[p] != end {
			return false
		}
	}
	return true
}

// WaitCommittedToEnd waits until group has committed every partition of
// topic up to its end offset, failing t after Timeout with what it saw.
func WaitCommittedToEnd(t testing.TB, c Cluster, group, topic string) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !CommittedToEnd(t, c, group, topic) {
		if time.Now().After(deadline) {
			t.Fatalf("actortest: group %s did not commit %s to its end within %v: committed %v, end %v",
				group, topic, Timeout, Committed(t, c, group, topic), EndOffsets(t, c, topic))
		}
		time.Sleep(20 * time.Millisecond) // the polling interval
	}
}

// WaitCommitted waits until group's committed offsets of topic equal want
// (partition to offset), failing t after Timeout with what it saw.
func WaitCommitted(t testing.TB, c Cluster, group, topic string, want map[int32]int64) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		got := Committed(t, c, group, topic)
		if equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("actortest: group %s: committed %v of %s, want %v (waited %v)", group, got, topic, want, Timeout)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval
	}
}

func equal(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ReadTopic reads topic from its start until it has n records, and
// returns them in the order fetched (offset order within a partition),
// failing t when fewer arrive within Timeout.
func ReadTopic(t testing.TB, c Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	recs, err := read(t, c, topic, n, Timeout)
	if err != nil {
		t.Fatalf("actortest: %v", err)
	}
	return recs
}

func read(t testing.TB, c Cluster, topic string, n int, d time.Duration) ([]*kgo.Record, error) {
	cl := shortClient(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("read %d of %d records of %s within %v", len(out), n, topic, d)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Logf("actortest: fetch %s: %v", topic, err)
			}
		})
		out = append(out, fs.Records()...)
	}
	return out, nil
}
