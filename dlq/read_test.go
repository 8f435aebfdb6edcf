package dlq_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

func TestRead(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	var srcs []*kgo.Record
	for i := range 6 {
		srcs = append(srcs, source([]string{"orders", "payments"}[i%2], i))
	}
	writeDeadLetters(t, ctx, addr, "orders.dlq", srcs, nil)

	cases := []struct {
		name string
		opts []dlq.ReadOption
		want []int // indexes of srcs, in offset order
	}{
		{"all", nil, []int{0, 1, 2, 3, 4, 5}},
		{"limit", []dlq.ReadOption{dlq.Limit(2)}, []int{0, 1}},
		{"source topic", []dlq.ReadOption{dlq.Source("payments")}, []int{1, 3, 5}},
		{"source offset", []dlq.ReadOption{dlq.Source("orders"), dlq.SourceOffset(0, 104)}, []int{4}},
		{"where", []dlq.ReadOption{dlq.Where(func(l dlq.Letter) bool { return l.At.Offset >= 3 })}, []int{3, 4, 5}},
		{"partition and timeout", []dlq.ReadOption{dlq.Partitions(0), dlq.Timeout(5 * time.Second)}, []int{0, 1, 2, 3, 4, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dlq.Read(ctx, cl, "orders.dlq", tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Read returned %d letters, want %d", len(got), len(tc.want))
			}
			for i, l := range got {
				src := srcs[tc.want[i]]
				if l.Err != nil || l.At.Offset != int64(tc.want[i]) || l.Topic != src.Topic || l.Offset != src.Offset ||
					string(l.Key) != string(src.Key) || l.Attempts != 3 || l.Error != "boom" || l.Group != "processor" {
					t.Errorf("letter %d: %+v, want the dead letter of %+v at offset %d", i, l, src, tc.want[i])
				}
			}
		})
	}
}

func TestReadOffsetOrderAcrossPartitions(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	// Three partitions, the middle one empty: Read must not wait on it.
	createTopic(t, ctx, cl, "orders.dlq", 3)
	srcs := []*kgo.Record{source("orders", 0), source("orders", 1), source("orders", 2), source("orders", 3)}
	writeDeadLetters(t, ctx, addr, "orders.dlq", srcs, func(i int, dl *kgo.Record) { dl.Partition = []int32{2, 0, 2, 0}[i] })

	got, err := dlq.Read(ctx, cl, "orders.dlq")
	if err != nil {
		t.Fatal(err)
	}
	var at []string
	for _, l := range got {
		at = append(at, fmt.Sprintf("%d/%d:%s", l.At.Partition, l.At.Offset, l.Key))
	}
	if want := "[0/0:key-1 0/1:key-3 2/0:key-0 2/1:key-2]"; fmt.Sprint(at) != want {
		t.Errorf("Read returned %v, want %s", at, want)
	}
}

func TestReadNotDeadLetter(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "mixed.dlq", 1)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mixed.dlq", Value: []byte("stray")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	writeDeadLetters(t, ctx, addr, "mixed.dlq", []*kgo.Record{source("orders", 0)}, nil)

	got, err := dlq.Read(ctx, cl, "mixed.dlq")
	if err != nil || len(got) != 2 {
		t.Fatalf("Read: %d letters, %v; want both records", len(got), err)
	}
	if !errors.Is(got[0].Err, dlq.ErrNotDeadLetter) || string(got[0].Value) != "stray" || got[1].Err != nil {
		t.Errorf("letters %+v: want the stray record with its parse error, then the dead letter", got)
	}
	got, err = dlq.Read(ctx, cl, "mixed.dlq", dlq.Source("orders"))
	if err != nil || len(got) != 1 || got[0].At.Offset != 1 {
		t.Errorf("Read with Source: %+v, %v; want only the dead letter", got, err)
	}
}

func TestReadEmptyAndMissing(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "empty.dlq", 2)

	got, err := dlq.Read(ctx, cl, "empty.dlq")
	if err != nil || len(got) != 0 {
		t.Errorf("Read of an empty topic: %v, %v; want nothing and no error", got, err)
	}
	_, err = dlq.Read(ctx, cl, "nope.dlq")
	if !errors.Is(err, dlq.ErrUnknownTopic) || err.Error() != `dead-letter topic "nope.dlq" does not exist` {
		t.Errorf("Read of a missing topic: %v; want ErrUnknownTopic naming it", err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "nope.dlq")
	if err == nil {
		err = ends.Error()
	}
	if err == nil {
		t.Error("nope.dlq exists after Read; want it left uncreated")
	}
}

func TestReadErrors(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	cases := []struct {
		name string
		cl   *kgo.Client
		opts []dlq.ReadOption
		want error
	}{
		{"zero limit", cl, []dlq.ReadOption{dlq.Limit(0)}, dlq.ErrInvalidOption},
		{"negative timeout", cl, []dlq.ReadOption{dlq.Timeout(-time.Second)}, dlq.ErrInvalidOption},
		{"nil filter", cl, []dlq.ReadOption{dlq.Where(nil)}, dlq.ErrInvalidOption},
		{"unknown partition", cl, []dlq.ReadOption{dlq.Partitions(3)}, dlq.ErrInvalidOption},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := dlq.Read(ctx, tc.cl, "orders.dlq", tc.opts...); !errors.Is(err, tc.want) {
				t.Errorf("Read: %v, want %v", err, tc.want)
			}
		})
	}
	consuming := client(t, addr, kgo.ConsumeTopics("orders.dlq"))
	if _, err := dlq.Read(ctx, consuming, "orders.dlq"); err == nil {
		t.Error("Read with a consuming client: no error, want one saying it consumes")
	}
}

func TestScanStopsEarly(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	writeDeadLetters(t, ctx, addr, "orders.dlq", []*kgo.Record{source("orders", 0), source("orders", 1)}, nil)
	n := 0
	for l, err := range dlq.Scan(ctx, cl, "orders.dlq") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if l.At.Offset == 0 {
			break
		}
	}
	if n != 1 {
		t.Errorf("Scan yielded %d letters after break, want 1", n)
	}
}
