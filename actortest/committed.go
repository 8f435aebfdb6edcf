package actortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// headerMark names the marker records ReadCommitted writes.
const headerMark = "actortest.read-committed"

// ReadCommitted returns every committed record of topic as a reader with
// read_committed isolation sees it (the outputs of an exactly-once
// consumer, actors.Transform), in offset order per partition: records of
// aborted transactions are left out. It writes a marker record to each
// partition (non-transactionally) and reads each partition up to its
// marker, which a read_committed reader reaches only once every
// transaction before it has committed or aborted; so what it returns is
// all that was committed before the call, nothing more, and it fails t
// when a partition stays blocked by an open transaction for Timeout.
// The markers stay in the topic (with the header actortest.read-committed):
// call it once the writers are done.
func ReadCommitted(t testing.TB, c Cluster, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	w := shortClient(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer w.Close()
	details, err := kadm.NewClient(w).ListTopics(ctx, topic)
	if err == nil {
		err = details[topic].Err
	}
	if err != nil {
		t.Fatalf("actortest: describe %s: %v", topic, err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	mark := hex.EncodeToString(id)
	parts := details[topic].Partitions.Numbers()
	for _, p := range parts {
		r := &kgo.Record{Topic: topic, Partition: p, Headers: []kgo.RecordHeader{{Key: headerMark, Value: []byte(mark)}}}
		if err := w.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("actortest: marker to %s/%d: %v", topic, p, err)
		}
	}
	rd := shortClient(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	defer rd.Close()
	left := len(parts)
	done := map[int32]bool{}
	var out []*kgo.Record
	for left > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("actortest: read_committed %s: %d of %d partitions not read to their marker within %v (an open transaction holds them?)", topic, left, len(parts), Timeout)
		}
		for _, r := range fs.Records() {
			if done[r.Partition] {
				continue
			}
			if isMark(r, mark) {
				done[r.Partition] = true
				left--
				continue
			}
			if !isMark(r, "") {
				out = append(out, r)
			}
		}
	}
	return out
}

// isMark reports whether r is a marker of ReadCommitted: the one written
// as mark, or any when mark is empty.
func isMark(r *kgo.Record, mark string) bool {
	for _, h := range r.Headers {
		if h.Key == headerMark {
			return mark == "" || string(h.Value) == mark
		}
	}
	return false
}
