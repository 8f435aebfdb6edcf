package actors_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// batches records what a batch handler saw: every batch's values in
// order.
type batches struct {
	mu  sync.Mutex
	all [][]string
}

func (b *batches) add(ms []actors.Message[[]byte]) {
	vs := make([]string, len(ms))
	for i, m := range ms {
		vs[i] = string(m.Value)
	}
	b.mu.Lock()
	b.all = append(b.all, vs)
	b.mu.Unlock()
}

// firstSeen is each value's first handling, in the order handled.
func (b *batches) firstSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, vs := range b.all {
		for _, v := range vs {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// A batch of 500 with one poison record: the batch is retried, then
// bisected; exactly the poison is dead-lettered, with its own headers,
// the 499 others are handled (in offset order) and committed, and the
// metrics count records.
func TestConsumeBatchDeadLettersOnlyThePoison(t *testing.T) {
	b := actortest.Broker(t)
	const n = 500
	actortest.CreateTopic(t, b, "orders", 1)
	recs := poisoned(n, 321)
	recs[321].Headers = []kgo.RecordHeader{{Key: "trace", Value: []byte("t-321")}}
	actortest.Produce(t, b, "orders", recs...)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	seen := &batches{}
	err := actors.ConsumeBatch(rt, "orders", "billing", actors.Batching{Max: n}, func(_ context.Context, ms []actors.Message[[]byte]) error {
		seen.add(ms)
		return failOnPoison(ms)
	}, actors.MaxRetries(2), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	l := actortest.WaitDeadLetters(t, b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if len(l) != 1 || string(l[0].Value) != "poison" || l[0].Offset != 321 || l[0].Attempts < 3 {
		t.Fatalf("dead letters %+v, want the poison record at offset 321", l)
	}
	if v, ok := headerOf(l[0].Headers, "trace"); !ok || v != "t-321" {
		t.Errorf("dead letter headers %v: the record's own header is lost", l[0].Headers)
	}
	if got := actortest.ReadTopic(t, b, "orders.dlq", 1); len(got) != 1 {
		t.Errorf("orders.dlq holds %d records", len(got))
	}
	seen.handledInOrderBut(t, n, 321)
	// The first batch was all 500, and the bisection ran fewer than the
	// 500 single records a per-record fallback would.
	seen.mu.Lock()
	firstLen, runs := len(seen.all[0]), len(seen.all)
	seen.mu.Unlock()
	if firstLen != n {
		t.Errorf("first batch of %d records, want %d", firstLen, n)
	}
	if runs > 3+2*9+2 {
		t.Errorf("%d handler runs for one poison in 500", runs)
	}
	_, body := scrape(t, "http://"+rt.MetricsAddr()+"/metrics")
	tg := []string{`topic="orders"`, `group="billing"`}
	if got := metricValue(t, body, "actord_records_dead_lettered_total", tg...); got != 1 {
		t.Errorf("dead-lettered metric %v, want 1", got)
	}
	if got := metricValue(t, body, "actord_records_handled_total", tg...); got != n-1 {
		t.Errorf("handled metric %v, want %d records", got, n-1)
	}
}

// poisoned is n records valued 0 to n-1 but the one at offset at,
// valued "poison".
func poisoned(n, at int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Value: []byte(strconv.Itoa(i))}
	}
	recs[at].Value = []byte("poison")
	return recs
}

// failOnPoison fails a batch that holds the poison record.
func failOnPoison(ms []actors.Message[[]byte]) error {
	for _, m := range ms {
		if string(m.Value) == "poison" {
			return errors.New("a poison record in the batch")
		}
	}
	return nil
}

// handledInOrderBut checks that the records valued 0 to n-1 but the
// poison at offset poison were each handled, first seen in offset order.
func (b *batches) handledInOrderBut(t *testing.T, n, poison int) {
	t.Helper()
	var handled []string
	for _, v := range b.firstSeen() {
		if v != "poison" {
			handled = append(handled, v)
		}
	}
	if len(handled) != n-1 {
		t.Fatalf("handled %d distinct records, want %d", len(handled), n-1)
	}
	for i, v := range handled {
		want := i
		if i >= poison {
			want = i + 1
		}
		if v != strconv.Itoa(want) {
			t.Fatalf("record %s first handled %dth: out of offset order", v, i)
		}
	}
}

func headerOf(hs []kgo.RecordHeader, k string) (string, bool) {
	for _, h := range hs {
		if h.Key == k {
			return string(h.Value), true
		}
	}
	return "", false
}

// A handler that names its failures fails only those: the others of the
// batch are handled once, the named one (permanent) is dead-lettered at
// once without retrying the batch.
func TestConsumeBatchFailRecordsNamesTheFailures(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 2)
	produce(t, b, "orders", 200, 10)
	rt := actortest.Runtime(t, b)
	seen := newCounter()
	err := actors.ConsumeBatch(rt, "orders", "billing", actors.Batching{Max: 100}, func(_ context.Context, ms []actors.Message[int]) error {
		var bad []int
		for i, m := range ms {
			if m.Value == 77 {
				bad = append(bad, i)
				continue
			}
			seen.add(strconv.Itoa(m.Value))
		}
		if bad != nil {
			return actors.FailRecords(actors.Permanent(errors.New("no price for order 77")), bad...)
		}
		return nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	l := actortest.WaitDeadLetters(t, b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if string(l[0].Value) != "77" || l[0].Error != "no price for order 77" {
		t.Errorf("dead letter %+v, want order 77", l[0])
	}
	if seen.distinct() != 199 || seen.dups() != 0 {
		t.Errorf("handled %d distinct, %d twice; want 199 once each", seen.distinct(), seen.dups())
	}
}

func TestConsumeBatchRefusesBadSizesAndOrdering(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b)
	fn := func(context.Context, []actors.Message[[]byte]) error { return nil }
	for _, tc := range []struct {
		b    actors.Batching
		opts []actors.ConsumerOption
		want string
	}{
		{actors.Batching{}, nil, "actors.Batching{Max: 0}: must be between 1 and 2048"},
		{actors.Batching{Max: 2049}, nil, "actors.Batching{Max: 2049}"},
		{actors.Batching{Max: 10, Wait: -time.Second}, nil, "actors.Batching{Wait: -1s}: must not be negative"},
		{actors.Batching{Max: 10}, []actors.ConsumerOption{actors.Ordering(actors.ByKey)}, "runs in partition order only"},
		{actors.Batching{Max: 10, Pipeline: 2}, nil, "actors.Batching{Pipeline: 2}: only ConsumeBatchAsync"},
	} {
		if err := actors.ConsumeBatch(rt, "orders", "g", tc.b, fn, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.b, err, tc.want)
		}
	}
	start := func(context.Context, []actors.Message[int]) func() error { return func() error { return nil } }
	for _, p := range []int{-1, actors.MaxPipeline + 1} {
		if err := actors.ConsumeBatchAsync(rt, "orders", "g", actors.Batching{Max: 10, Pipeline: p}, start); err == nil || !strings.Contains(err.Error(), "actors.Batching{Pipeline: "+strconv.Itoa(p)+"}") {
			t.Errorf("Pipeline %d: %v, want it named", p, err)
		}
	}
	if err := actors.ConsumeBatchAsync[int](rt, "orders", "g", actors.Batching{Max: 10}, nil); err == nil || !strings.Contains(err.Error(), "nil batch handler") {
		t.Errorf("nil start: %v", err)
	}
}

// Records that trickle in one fetch at a time wait, up to Batching.Wait,
// for a full batch: five records produced one by one after the start run
// as one batch of five, in order; three more run as a batch of three once
// the first has waited.
func TestConsumeBatchWaitsForAFullBatch(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	rt := actortest.Runtime(t, b)
	seen := &batches{}
	err := actors.ConsumeBatch(rt, "orders", "billing", actors.Batching{Max: 5, Wait: 2 * time.Second},
		func(_ context.Context, ms []actors.Message[[]byte]) error {
			seen.add(ms)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	for i := range 5 {
		actortest.Produce(t, b, "orders", actortest.Value(strconv.Itoa(i)))
	}
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	// Fewer than Max run once the first has waited Wait.
	for i := 5; i < 8; i++ {
		actortest.Produce(t, b, "orders", actortest.Value(strconv.Itoa(i)))
	}
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.all) != 2 || strings.Join(seen.all[0], ",") != "0,1,2,3,4" || strings.Join(seen.all[1], ",") != "5,6,7" {
		t.Errorf("batches %v, want [0 1 2 3 4] then, after the wait, [5 6 7]", seen.all)
	}
}

// A record of a batch that does not decode is dead-lettered for good,
// and the handler still gets every other record of its batch, once each:
// none is finished without having run.
func TestConsumeBatchUndecodableRecordFailsAlone(t *testing.T) {
	b := actortest.Broker(t)
	const n = 300
	actortest.CreateTopic(t, b, "orders", 1)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Value: []byte(strconv.Itoa(i))}
	}
	recs[123] = &kgo.Record{Value: []byte("{not json")}
	actortest.Produce(t, b, "orders", recs...)
	rt := actortest.Runtime(t, b)
	seen := newCounter()
	err := actors.ConsumeBatch(rt, "orders", "billing", actors.Batching{Max: n}, func(_ context.Context, ms []actors.Message[int]) error {
		for _, m := range ms {
			seen.add(strconv.Itoa(m.Value))
		}
		return nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	l := actortest.WaitDeadLetters(t, b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if string(l[0].Value) != "{not json" || l[0].Offset != 123 {
		t.Errorf("dead letter %+v, want the undecodable record at offset 123", l[0])
	}
	if seen.distinct() != n-1 || seen.dups() != 0 {
		t.Errorf("handled %d distinct, %d twice; want %d once each", seen.distinct(), seen.dups(), n-1)
	}
	if got := actortest.ReadTopic(t, b, "orders.dlq", 1); len(got) != 1 {
		t.Errorf("orders.dlq holds %d records", len(got))
	}
}

// ConsumeBatchAsync starts a partition's next batches while the first
// one's wait is still out, in offset order, and commits in order: with
// the first batch never finished, the later ones (finished) are not
// committed past it, and a new member of the group gets all of them
// again.
func TestConsumeBatchAsyncCommitsInOrder(t *testing.T) {
	b := actortest.Broker(t)
	const n = 300
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", n, 10)
	rt := actortest.Runtime(t, b, actors.DrainTimeout(300*time.Millisecond))
	var (
		mu     sync.Mutex
		starts []int64 // each batch's first offset, in the order started
		later  int     // records of the batches after the first, finished
	)
	err := actors.ConsumeBatchAsync(rt, "orders", "billing", actors.Batching{Max: 100}, func(ctx context.Context, ms []actors.Message[int]) func() error {
		mu.Lock()
		starts = append(starts, ms[0].Offset)
		mu.Unlock()
		if ms[0].Offset == 0 {
			return func() error {
				<-ctx.Done() // never finished while the runtime runs
				return ctx.Err()
			}
		}
		return func() error {
			mu.Lock()
			later += len(ms)
			mu.Unlock()
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "the batches after the first finished", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return later == n-100
	})
	actortest.Stop(t, rt)
	mu.Lock()
	if len(starts) < 3 || starts[0] != 0 || starts[1] != 100 || starts[2] != 200 {
		t.Errorf("batches started at offsets %v, want 0, 100, 200 in that order", starts)
	}
	mu.Unlock()
	if off, ok := actortest.Committed(t, b, "billing", "orders")[0]; ok && off > 0 {
		t.Fatalf("committed offset %d past the unfinished first batch", off)
	}
	// The next owner gets every record again, the finished ones too.
	rt2 := actortest.Runtime(t, b)
	seen := newCounter()
	err = actors.ConsumeBatchAsync(rt2, "orders", "billing", actors.Batching{Max: 100}, func(_ context.Context, ms []actors.Message[int]) func() error {
		for _, m := range ms {
			seen.add(strconv.Itoa(m.Value))
		}
		return func() error { return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt2)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if seen.distinct() != n {
		t.Errorf("the next owner handled %d distinct records, want all %d", seen.distinct(), n)
	}
}

// A batch whose wait fails is retried and bisected as with ConsumeBatch:
// the poison alone is dead-lettered, every other record is handled, in
// offset order at first sight, and the partition is committed to its end.
func TestConsumeBatchAsyncDeadLettersOnlyThePoison(t *testing.T) {
	b := actortest.Broker(t)
	const n = 1000
	actortest.CreateTopic(t, b, "orders", 1)
	actortest.Produce(t, b, "orders", poisoned(n, 432)...)
	rt := actortest.Runtime(t, b)
	seen := &batches{}
	err := actors.ConsumeBatchAsync(rt, "orders", "billing", actors.Batching{Max: 100, Pipeline: 3}, func(_ context.Context, ms []actors.Message[[]byte]) func() error {
		seen.add(ms)
		return func() error { return failOnPoison(ms) }
	}, actors.MaxRetries(2), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	l := actortest.WaitDeadLetters(t, b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if len(l) != 1 || string(l[0].Value) != "poison" || l[0].Offset != 432 {
		t.Fatalf("dead letters %+v, want the poison record at offset 432", l)
	}
	seen.handledInOrderBut(t, n, 432)
}

// A panic in start or in its wait is that attempt's failure, not the
// process's end: the batch is retried and handled.
func TestConsumeBatchAsyncPanicIsAFailedAttempt(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 50, 5)
	rt := actortest.Runtime(t, b)
	var mu sync.Mutex
	calls := 0
	seen := newCounter()
	err := actors.ConsumeBatchAsync(rt, "orders", "billing", actors.Batching{Max: 50}, func(_ context.Context, ms []actors.Message[int]) func() error {
		mu.Lock()
		calls++
		c := calls
		mu.Unlock()
		if c == 1 {
			panic("start failed")
		}
		return func() error {
			if c == 2 {
				panic("wait failed")
			}
			for _, m := range ms {
				seen.add(strconv.Itoa(m.Value))
			}
			return nil
		}
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	if seen.distinct() != 50 {
		t.Errorf("handled %d distinct records, want 50", seen.distinct())
	}
}
