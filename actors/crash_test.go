package actors_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// A runtime that stops between a record's last failure and an acknowledged
// dead-letter write leaves the record uncommitted: the next run gets it
// again and dead-letters it. Nothing is lost.
func TestStopBeforeDeadLetterWriteRedelivers(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 3, 1)

	// The broker refuses to create the dead-letter topic while refuse is set.
	var refuse atomic.Bool
	refuse.Store(true)
	var refused atomic.Int32
	b.Cluster().ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.Cluster().KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		r := req.(*kmsg.CreateTopicsRequest)
		resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, rt := range r.Topics {
			t := kmsg.NewCreateTopicsResponseTopic()
			t.Topic = rt.Topic
			t.ErrorCode = kerr.PolicyViolation.Code
			resp.Topics = append(resp.Topics, t)
		}
		refused.Add(1)
		return resp, nil, true
	})

	handler := func(ctx context.Context, m actors.Message[int]) error {
		if m.Value == 1 {
			return actors.Permanent(errors.New("poison"))
		}
		return nil
	}
	short := actors.DrainTimeout(2 * time.Second)
	rt1 := actortest.Runtime(t, b, short)
	if err := actors.Consume(rt1, "orders", "processor", handler, actors.Backoff(10*time.Millisecond, 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt1)
	actortest.Eventually(t, 20*time.Second, "a dead-letter write refused", func() bool { return refused.Load() > 0 })
	actortest.Stop(t, rt1)
	if c := actortest.Committed(t, b, "processor", "orders")[0]; c > 1 {
		t.Fatalf("committed %d: past the record whose dead letter was never written", c)
	}

	refuse.Store(false)
	rt2 := actortest.Runtime(t, b, short)
	if err := actors.Consume(rt2, "orders", "processor", handler); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt2)
	dl := actortest.ReadTopic(t, b, "orders.dlq", 1)[0]
	if string(dl.Value) != "1" {
		t.Fatalf("dead letter %q", dl.Value)
	}
	actortest.Eventually(t, 10*time.Second, "committed to the end", func() bool { return actortest.Committed(t, b, "processor", "orders")[0] == 3 })
}

// Stop commits what was handled, even when the commit interval has not
// come round yet.
func TestStopCommitsFinishedRecords(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 3)
	produce(t, b, "orders", 300, 30)
	rt := actortest.Runtime(t, b, actors.CommitInterval(time.Hour))
	seen := newCounter()
	if err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		seen.add(string(m.Raw))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "every record handled", func() bool { return seen.distinct() == 300 })
	actortest.Stop(t, rt)
	c := actortest.Committed(t, b, "processor", "orders")
	for p, e := range actortest.EndOffsets(t, b, "orders") {
		if c[p] != e {
			t.Fatalf("partition %d: committed %d after stop, end %d", p, c[p], e)
		}
	}
}
