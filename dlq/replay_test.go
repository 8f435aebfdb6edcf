package dlq_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

// assertReplayed checks that topic holds exactly the copies of srcs, with
// their key, value and own headers; matched by key, as a topic of several
// partitions is read partition by partition.
func assertReplayed(t *testing.T, ctx context.Context, addr, topic string, srcs []*kgo.Record) {
	t.Helper()
	byKey := func(a, b *kgo.Record) int { return strings.Compare(string(a.Key), string(b.Key)) }
	got := readAll(t, ctx, addr, topic)
	slices.SortFunc(got, byKey)
	srcs = slices.Clone(srcs)
	slices.SortFunc(srcs, byKey)
	if len(got) != len(srcs) {
		t.Fatalf("%s holds %d records, want %d", topic, len(got), len(srcs))
	}
	for i, r := range got {
		if string(r.Key) != string(srcs[i].Key) || string(r.Value) != string(srcs[i].Value) || !sameHeaders(r.Headers, srcs[i].Headers) {
			t.Errorf("%s record %d: %q=%q %v, want %q=%q %v", topic, i, r.Key, r.Value, r.Headers, srcs[i].Key, srcs[i].Value, srcs[i].Headers)
		}
	}
}

func TestReplay(t *testing.T) {
	cases := []struct {
		name  string
		opts  []dlq.ReplayOption
		want  string
		holds map[string]int
	}{
		{"original topics", nil, "replayed 3 records from mixed.dlq to orders (2), payments (1)", map[string]int{"orders": 2, "payments": 1}},
		{"to", []dlq.ReplayOption{dlq.To("retry")}, "replayed 3 records from mixed.dlq to retry", map[string]int{"retry": 3, "orders": 0}},
		{"dry run", []dlq.ReplayOption{dlq.DryRun()}, "would replay 3 records from mixed.dlq to orders (2), payments (1)", map[string]int{"orders": 0, "payments": 0}},
		{"create topics", []dlq.ReplayOption{dlq.To("fresh"), dlq.CreateTopics()}, "replayed 3 records from mixed.dlq to fresh", map[string]int{"fresh": 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := deadline(t, 60*time.Second)
			addr := startBroker(t)
			cl := client(t, addr)
			for _, topic := range []string{"orders", "payments", "retry", "mixed.dlq"} {
				createTopic(t, ctx, cl, topic, 2)
			}
			srcs := []*kgo.Record{source("orders", 0), source("payments", 1), source("orders", 2)}
			writeDeadLetters(t, ctx, addr, "mixed.dlq", srcs, nil)
			letters, err := dlq.Read(ctx, cl, "mixed.dlq")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := dlq.Replay(ctx, cl, letters, tc.opts...)
			if err != nil || rep.String() != tc.want {
				t.Fatalf("Replay: %q, %v; want %q", rep, err, tc.want)
			}
			for topic, n := range tc.holds {
				if got := len(readAll(t, ctx, addr, topic)); got != n {
					t.Errorf("%s holds %d records, want %d", topic, got, n)
				}
			}
			if tc.name == "original topics" {
				assertReplayed(t, ctx, addr, "orders", []*kgo.Record{srcs[0], srcs[2]})
				assertReplayed(t, ctx, addr, "payments", srcs[1:2])
			}
		})
	}
}

func TestReplayOddRecords(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders", 1)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	srcs := []*kgo.Record{
		{Topic: "orders", Key: []byte("a"), Value: nil, Headers: []kgo.RecordHeader{{Key: "x=y", Value: []byte("1\n2")}, {Key: "x=y", Value: []byte("é")}}},
		{Topic: "orders", Key: []byte("b"), Value: []byte{}, Headers: nil},
	}
	writeDeadLetters(t, ctx, addr, "orders.dlq", srcs, nil)
	letters, err := dlq.Read(ctx, cl, "orders.dlq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dlq.Replay(ctx, cl, letters); err != nil {
		t.Fatal(err)
	}
	assertReplayed(t, ctx, addr, "orders", srcs)
}

func TestReplayStopsAtMissingDestination(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders", 1)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	var srcs []*kgo.Record
	for i := range 4 {
		srcs = append(srcs, source("orders", i))
	}
	writeDeadLetters(t, ctx, addr, "orders.dlq", srcs, func(i int, dl *kgo.Record) {
		if i == 2 {
			drop(dl, dlq.HeaderTopic)
		}
	})
	letters, err := dlq.Read(ctx, cl, "orders.dlq")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := dlq.Replay(ctx, cl, letters)
	var de *dlq.DestinationError
	if !errors.As(err, &de) || de.At.Offset != 2 || err.Error() != "dead letter at partition 0 offset 2 has no actord.dlq.topic header" {
		t.Fatalf("Replay: %v; want a DestinationError for offset 2", err)
	}
	if rep.Total() != 2 {
		t.Errorf("report %q: want the 2 letters before it replayed", rep)
	}
	assertReplayed(t, ctx, addr, "orders", srcs[:2])

	check := errors.New("bad name")
	_, err = dlq.Replay(ctx, cl, letters[:1], dlq.CheckTopic(func(string) error { return check }))
	if !errors.Is(err, check) || !strings.Contains(err.Error(), "offset 0: actord.dlq.topic header: bad name") {
		t.Errorf("Replay with a rejecting CheckTopic: %v", err)
	}
}

func TestReplayTopicResumes(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders", 2)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	var srcs []*kgo.Record
	for i := range 5 {
		srcs = append(srcs, source("orders", i))
	}
	writeDeadLetters(t, ctx, addr, "orders.dlq", srcs, func(i int, dl *kgo.Record) {
		if i == 2 {
			drop(dl, dlq.HeaderTopic)
		}
	})
	group := dlq.DefaultGroupPrefix + "orders.dlq"

	rep, err := dlq.ReplayTopic(ctx, cl, "orders.dlq", dlq.DryRun())
	if err == nil || rep.String() != "would replay 2 records from orders.dlq to orders" {
		t.Fatalf("dry run: %q, %v; want 2 and the missing header", rep, err)
	}
	rep, err = dlq.ReplayTopic(ctx, cl, "orders.dlq")
	var de *dlq.DestinationError
	if !errors.As(err, &de) || rep.String() != "replayed 2 records from orders.dlq to orders" {
		t.Fatalf("first replay: %q, %v; want 2 then the missing header", rep, err)
	}
	if de.Reason != dlq.ReasonNoTopic || de.Err != nil || !rep.Started {
		t.Errorf("first replay: reason %q, err %v, started %v; want ReasonNoTopic, no error, started", de.Reason, de.Err, rep.Started)
	}
	if got := committed(t, ctx, cl, group, "orders.dlq", 0); got != 2 {
		t.Fatalf("after the failure the group committed offset %d, want 2", got)
	}
	rep, err = dlq.ReplayTopic(ctx, cl, "orders.dlq", dlq.To("orders"))
	if err != nil || rep.String() != "replayed 3 records from orders.dlq to orders" {
		t.Fatalf("resumed replay: %q, %v", rep, err)
	}
	assertReplayed(t, ctx, addr, "orders", srcs) // 5, not 7
	rep, err = dlq.ReplayTopic(ctx, cl, "orders.dlq")
	if err != nil || rep.String() != "replayed 0 records from orders.dlq" || rep.Started {
		t.Errorf("third replay: %q, %v, started %v; want nothing new and not started", rep, err, rep.Started)
	}
	if got := committed(t, ctx, cl, group, "orders.dlq", 0); got != 5 {
		t.Errorf("group committed offset %d, want 5", got)
	}
}

func TestReplayTopicErrors(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders.dlq", 1)
	cases := []struct {
		name  string
		topic string
		opts  []dlq.TopicReplayOption
		want  error
	}{
		{"unknown topic", "nope.dlq", nil, dlq.ErrUnknownTopic},
		{"to itself", "orders.dlq", []dlq.TopicReplayOption{dlq.To("orders.dlq")}, dlq.ErrInvalidOption},
		{"empty group", "orders.dlq", []dlq.TopicReplayOption{dlq.Group("")}, dlq.ErrInvalidOption},
		{"zero timeout", "orders.dlq", []dlq.TopicReplayOption{dlq.Timeout(0)}, dlq.ErrInvalidOption},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := dlq.ReplayTopic(ctx, cl, tc.topic, tc.opts...)
			if !errors.Is(err, tc.want) || rep.Started {
				t.Errorf("ReplayTopic: %v, started %v; want %v before starting", err, rep.Started, tc.want)
			}
		})
	}
}

func TestReplayTopicGroupHeldElsewhere(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "orders", 1)
	createTopic(t, ctx, cl, "held.dlq", 1)
	writeDeadLetters(t, ctx, addr, "held.dlq", []*kgo.Record{source("orders", 0)}, nil)
	const group = "holders"
	holding := make(chan struct{})
	holder := client(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics("held.dlq"), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, added map[string][]int32) {
			if len(added["held.dlq"]) > 0 {
				close(holding)
			}
		}))
	go holder.PollFetches(ctx)
	select {
	case <-holding:
	case <-ctx.Done():
		t.Fatal("the holder was not assigned held.dlq before the deadline")
	}
	rep, err := dlq.ReplayTopic(ctx, cl, "held.dlq", dlq.Group(group), dlq.Timeout(2*time.Second))
	if err == nil || !strings.Contains(err.Error(), "group "+group) || !strings.Contains(err.Error(), "no partition within 2s") || rep.Total() != 0 {
		t.Errorf("ReplayTopic: %q, %v; want nothing replayed and the group named", rep, err)
	}
	if got := len(readAll(t, ctx, addr, "orders")); got != 0 {
		t.Errorf("orders holds %d records, want none", got)
	}
}

func TestReplayTopicOwnTopic(t *testing.T) {
	ctx := deadline(t, 60*time.Second)
	addr := startBroker(t)
	cl := client(t, addr)
	createTopic(t, ctx, cl, "loop.dlq", 1)
	writeDeadLetters(t, ctx, addr, "loop.dlq", []*kgo.Record{source("loop.dlq", 0)}, nil)
	rep, err := dlq.ReplayTopic(ctx, cl, "loop.dlq")
	var de *dlq.DestinationError
	if !errors.As(err, &de) || de.Reason != dlq.ReasonOwnTopic || !rep.Started || rep.Total() != 0 {
		t.Fatalf("ReplayTopic: %q, %v; want a DestinationError with ReasonOwnTopic after starting", rep, err)
	}
	if want := "dead letter at partition 0 offset 0 names the dead-letter topic itself in actord.dlq.topic"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
