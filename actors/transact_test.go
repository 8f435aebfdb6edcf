package actors_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// copyTo is a transform that writes each record's key and value to topic.
func copyTo(topic string) func(context.Context, actors.Message[[]byte]) ([]*kgo.Record, error) {
	return func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		return []*kgo.Record{{Topic: topic, Key: m.Key, Value: m.Value}}, nil
	}
}

// checkOnce fails t unless recs hold each of the values 0..n-1 but the
// skipped ones exactly once, and each key's values in rising order.
func checkOnce(t *testing.T, recs []*kgo.Record, n int, skip ...int) {
	t.Helper()
	seen := make([]int, n)
	last := map[string]int{}
	for _, r := range recs {
		v, err := strconv.Atoi(string(r.Value))
		if err != nil || v < 0 || v >= n {
			t.Fatalf("output %q is no input value", r.Value)
		}
		seen[v]++
		if prev, ok := last[string(r.Key)]; ok && prev >= v {
			t.Errorf("key %s: %d after %d: per-key order lost", r.Key, v, prev)
		}
		last[string(r.Key)] = v
	}
	lost, dup := 0, 0
	for v, c := range seen {
		want := 1
		for _, s := range skip {
			if s == v {
				want = 0
			}
		}
		switch {
		case c < want:
			lost++
		case c > want:
			dup += c - want
		}
	}
	if lost != 0 || dup != 0 {
		t.Errorf("read_committed output of %d inputs: %d lost, %d duplicated (%d records)", n, lost, dup, len(recs))
	}
}

func TestTransformWritesEachOutputOnce(t *testing.T) {
	b := actortest.Broker(t)
	const n = 3000
	actortest.CreateTopic(t, b, "in", 3)
	actortest.CreateTopic(t, b, "out", 3)
	produce(t, b, "in", n, 40)
	actortest.Produce(t, b, "in", actortest.KeyValue("kp", "poison"))
	rt := actortest.Runtime(t, b)
	var failedOnce sync.Map
	err := actors.Transform(rt, "in", "copier", func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		if string(m.Value) == "poison" {
			return nil, actors.Permanent(errors.New("poison"))
		}
		v, _ := strconv.Atoi(string(m.Value))
		if v%97 == 1 {
			if _, again := failedOnce.LoadOrStore(v, true); !again {
				// Fails after building its output: the output must not be written.
				return []*kgo.Record{{Topic: "out", Value: m.Value}}, errors.New("flaky")
			}
		}
		return []*kgo.Record{{Topic: "out", Key: m.Key, Value: m.Value}}, nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "copier", "in")
	checkOnce(t, actortest.ReadCommitted(t, b, "out"), n)
	dead := actortest.ReadCommitted(t, b, "in.dlq")
	if len(dead) != 1 || string(dead[0].Value) != "poison" || header(dead[0], actors.HeaderDLQError) != "poison" {
		t.Fatalf("dead letters: %d, want the one poison record with its error", len(dead))
	}
}

func TestTransformRefusesOrderingOtherThanPartition(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b)
	for _, mode := range []actors.OrderingMode{actors.ByKey, actors.Unordered} {
		err := actors.Transform(rt, "in", "copier", copyTo("out"), actors.Ordering(mode))
		if err == nil || !strings.Contains(err.Error(), "partition order only") {
			t.Errorf("Ordering(%v): %v, want an error saying exactly-once runs in partition order", mode, err)
		}
	}
}

// A transaction whose output the broker refuses (a topic that does not
// exist yet) is aborted and its records run again from the last commit:
// once the topic exists, every output is there once, none of the aborted
// attempts' copies, and a consumer of the output (read_committed, as
// every actord consumer) gets each once.
func TestTransformAbortsAndRunsAgain(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	const n = 500
	actortest.CreateTopic(t, b, "in", 1)
	actortest.CreateTopic(t, b, "out", 1)
	produce(t, b, "in", n, 10)
	rt := actortest.Runtime(t, b)
	var runs atomic.Int32
	err := actors.Transform(rt, "in", "copier", func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		outs := []*kgo.Record{{Topic: "out", Key: m.Key, Value: m.Value}}
		if string(m.Value) == "250" {
			runs.Add(1)
			outs = append(outs, &kgo.Record{Topic: "late", Value: m.Value})
		}
		return outs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := newCounter()
	var marker atomic.Bool
	err = actors.Consume(rt, "out", "reader", func(_ context.Context, m actors.Message[[]byte]) error {
		if len(m.Value) == 0 {
			marker.Store(true)
			return nil
		}
		got.add(string(m.Value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, actortest.Timeout, "record 250 run again after an abort", func() bool { return runs.Load() >= 2 })
	actortest.CreateTopic(t, b, "late", 1)
	actortest.WaitCommittedToEnd(t, b, "copier", "in")
	checkOnce(t, actortest.ReadCommitted(t, b, "out"), n)
	if late := actortest.ReadCommitted(t, b, "late"); len(late) != 1 {
		t.Errorf("late: %d records, want 1", len(late))
	}
	// ReadCommitted's marker ("") comes after every output: once the
	// consumer has it, it has had all of them.
	actortest.Eventually(t, actortest.Timeout, "the consumer of the output to reach the marker", marker.Load)
	if got.distinct() != n || got.dups() != 0 {
		t.Errorf("consumer of the output got %d distinct, %d duplicated, want %d once each", got.distinct(), got.dups(), n)
	}
}

// A second member joins mid-stream and the first leaves: partitions move
// twice, each new owner fencing the last, and the output holds each input
// once.
func TestTransformHandsPartitionsOverOnce(t *testing.T) {
	b := actortest.Broker(t)
	const n = 4000
	actortest.CreateTopic(t, b, "in", 4)
	actortest.CreateTopic(t, b, "out", 4)
	produce(t, b, "in", n, 64)
	slow := func(ctx context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		time.Sleep(200 * time.Microsecond) // the work; not a wait for an outcome
		return copyTo("out")(ctx, m)
	}
	rt1 := actortest.Runtime(t, b)
	if err := actors.Transform(rt1, "in", "copier", slow); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt1)
	committed := func() int64 {
		var sum int64
		for _, o := range actortest.Committed(t, b, "copier", "in") {
			sum += o
		}
		return sum
	}
	actortest.Eventually(t, actortest.Timeout, "a first commit", func() bool { return committed() > 0 })
	rt2 := actortest.Runtime(t, b)
	if err := actors.Transform(rt2, "in", "copier", slow); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt2)
	at := committed()
	actortest.Eventually(t, actortest.Timeout, "commits after the join", func() bool { return committed() > at })
	actortest.Stop(t, rt1)
	actortest.WaitCommittedToEnd(t, b, "copier", "in")
	checkOnce(t, actortest.ReadCommitted(t, b, "out"), n)
	// Both members wrote transactions: none of them is left open.
	adm := kadm.NewClient(actortest.Client(t, b))
	ctx, cancel := context.WithTimeout(context.Background(), actortest.Timeout)
	defer cancel()
	txns, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) != 0 {
		t.Errorf("transactions left ongoing: %v", txns)
	}
}

// An output the broker refuses for good (larger than the output topic's
// max.message.bytes) aborts its transaction; the records whose outputs
// were in the refused produce run again, each suspect's outputs in a
// transaction of their own, so the one refused alone fails for good and
// is dead-lettered, and the partition moves on: every other output once.
func TestTransformDeadLettersARecordWhoseOutputIsRefused(t *testing.T) {
	b := actortest.Broker(t)
	const n = 300
	actortest.CreateTopic(t, b, "in", 1)
	ctx, cancel := context.WithTimeout(context.Background(), actortest.Timeout)
	defer cancel()
	limit := "1024"
	resp, err := kadm.NewClient(actortest.Client(t, b)).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &limit}, "out")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	produce(t, b, "in", n, 10)
	rt := actortest.Runtime(t, b)
	err = actors.Transform(rt, "in", "copier", func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		v := m.Value
		if string(v) == "150" {
			v = make([]byte, 8<<10) // random: no compression brings it under the limit
			_, _ = rand.Read(v)
		}
		return []*kgo.Record{{Topic: "out", Key: m.Key, Value: v}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "copier", "in")
	checkOnce(t, actortest.ReadCommitted(t, b, "out"), n, 150)
	dead := actortest.ReadCommitted(t, b, "in.dlq")
	if len(dead) != 1 || string(dead[0].Value) != "150" || !strings.Contains(header(dead[0], actors.HeaderDLQError), "MESSAGE_TOO_LARGE") {
		t.Fatalf("dead letters: %d, want record 150 with the broker's refusal", len(dead))
	}
}
