package handler_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

func TestForwardProducesKeyValueAndHeaders(t *testing.T) {
	b := startBroker(t)
	rt := newRuntime(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(t, b, "orders.copy")
	fn := newHandler(t, config.Handler{Forward: &config.ForwardHandler{Topic: "orders.copy"}}, rt)
	m := message()
	if err := fn(ctx, m); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders.copy"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got *kgo.Record
	for got == nil {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no forwarded record: %v", err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if got == nil {
				got = r
			}
		})
	}
	if string(got.Key) != string(m.Key) || string(got.Value) != string(m.Raw) {
		t.Errorf("forwarded key %q value %q, want %q %q", got.Key, got.Value, m.Key, m.Raw)
	}
	if !reflect.DeepEqual(got.Headers, m.Headers) {
		t.Errorf("forwarded headers %v, want %v", got.Headers, m.Headers)
	}
}

// The batch form produces every record of the batch, in order, and
// returns once all are acknowledged.
func TestForwardBatchProducesEveryCopyBeforeItReturns(t *testing.T) {
	b := startBroker(t)
	rt := newRuntime(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(t, b, "orders.copies")
	fn, ok, err := handler.NewBatch(config.Handler{Forward: &config.ForwardHandler{Topic: "orders.copies"}}, rt, nil)
	if err != nil || !ok {
		t.Fatalf("NewBatch(forward) = %v, %v", ok, err)
	}
	var ms []actors.Message[[]byte]
	for i := range 50 {
		m := message()
		m.Raw = []byte{byte(i)}
		if i%2 == 0 {
			m.Headers = nil
		}
		ms = append(ms, m)
	}
	if err := fn.Handle(ctx, ms); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders.copies"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	for len(got) < len(ms) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("%d of %d copies: %v", len(got), len(ms), err)
		}
		got = append(got, fs.Records()...)
	}
	for i, r := range got {
		if string(r.Value) != string(ms[i].Raw) || string(r.Key) != string(ms[i].Key) || len(r.Headers) != len(ms[i].Headers) {
			t.Errorf("copy %d: key %q value %v headers %v, want %q %v %v", i, r.Key, r.Value, r.Headers, ms[i].Key, ms[i].Raw, ms[i].Headers)
		}
	}
}

// A copy the broker or client refuses fails its own record only: the
// batch's other copies are written once and their records are done.
func TestForwardBatchFailsOnlyTheRefusedCopies(t *testing.T) {
	b := startBroker(t)
	rt := newRuntime(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(t, b, "orders.some")
	fn, ok, err := handler.NewBatch(config.Handler{Forward: &config.ForwardHandler{Topic: "orders.some"}}, rt, nil)
	if err != nil || !ok {
		t.Fatalf("NewBatch(forward) = %v, %v", ok, err)
	}
	var ms []actors.Message[[]byte]
	for i := range 5 {
		m := message()
		m.Raw = []byte{byte(i)}
		if i == 1 || i == 3 {
			m.Raw = make([]byte, 2<<20) // above the producer's 1 MiB batch limit
		}
		ms = append(ms, m)
	}
	err = fn.Handle(ctx, ms)
	var fr *actors.FailedRecords
	if !errors.As(err, &fr) {
		t.Fatalf("error %v, want actors.FailedRecords", err)
	}
	if slices.Sort(fr.Indexes); !slices.Equal(fr.Indexes, []int{1, 3}) {
		t.Errorf("failed indexes %v, want [1 3]", fr.Indexes)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders.some"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("copies %v: %v", got, err)
		}
		for _, r := range fs.Records() {
			got = append(got, fmt.Sprint(r.Value))
		}
	}
	if want := []string{"[0]", "[2]", "[4]"}; !slices.Equal(got, want) {
		t.Errorf("copies %v, want %v, each once", got, want)
	}
	// Nothing more: the good copies were not written again (every copy
	// was acknowledged before fn returned, so the end offset is final).
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "orders.some")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	if n != 3 {
		t.Errorf("orders.some holds %d records, want the 3 copies once each", n)
	}
}

// The forward kind's batch form can be begun (Batch.Start): the copies
// of two batches begun one after the other are on the target in that
// order once both waits return, and a refused copy fails its own record.
func TestForwardBatchStartThenWait(t *testing.T) {
	b := startBroker(t)
	rt := newRuntime(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(t, b, "orders.begun")
	bh, ok, err := handler.NewBatch(config.Handler{Forward: &config.ForwardHandler{Topic: "orders.begun"}}, rt, nil)
	if err != nil || !ok || bh.Start == nil {
		t.Fatalf("NewBatch(forward) = %+v, %v, %v; want a Start", bh, ok, err)
	}
	batch := func(from, n int) []actors.Message[[]byte] {
		var ms []actors.Message[[]byte]
		for i := from; i < from+n; i++ {
			m := message()
			m.Raw = []byte(strconv.Itoa(i))
			ms = append(ms, m)
		}
		return ms
	}
	first, second := batch(0, 30), batch(30, 30)
	second[7].Raw = make([]byte, 2<<20) // above the producer's 1 MiB batch limit
	w1 := bh.Start(ctx, first)
	w2 := bh.Start(ctx, second)
	if err := w1(); err != nil {
		t.Fatal(err)
	}
	var fr *actors.FailedRecords
	if err := w2(); !errors.As(err, &fr) || !slices.Equal(fr.Indexes, []int{7}) {
		t.Fatalf("second batch: %v, want record 7 alone failed", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders.begun"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < 59 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("%d of 59 copies: %v", len(got), err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	var want []string
	for i := range 60 {
		if i != 37 {
			want = append(want, strconv.Itoa(i))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("copies %v, want %v", got, want)
	}
}
