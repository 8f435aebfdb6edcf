package actors_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

type userRegistered struct {
	UserID int    `json:"user_id"`
	Email  string `json:"email"`
}

func TestEventFanOutRetriesOnlyTheFailingHandler(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ServiceName("users-svc"))
	var welcome, settings, audit atomic.Int32
	var flaky atomic.Int32
	if err := actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[userRegistered]) error {
		welcome.Add(1)
		if m.Value.Email == "" {
			return errors.New("no email")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[userRegistered]) error {
		settings.Add(1)
		return nil
	})
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[userRegistered]) error {
		if flaky.Add(1) < 3 {
			return errors.New("audit store busy")
		}
		audit.Add(1)
		return nil
	}, actors.MaxRetries(5), fastRetries())
	actortest.Start(t, rt)
	if _, err := actors.Emit(context.Background(), rt, "user.registered", userRegistered{UserID: 1, Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	actortest.Eventually(t, 20*time.Second, "audit handler succeeded", func() bool { return audit.Load() == 1 })
	actortest.Eventually(t, 10*time.Second, "event committed", func() bool { return actortest.Committed(t, b, "users-svc", "events")[0] == 1 })
	if welcome.Load() != 1 || settings.Load() != 1 || flaky.Load() != 3 {
		t.Fatalf("welcome ran %d, settings %d, audit %d times; want 1, 1, 3", welcome.Load(), settings.Load(), flaky.Load())
	}
}

func TestEventHandlerGivesUpAloneToItsDeadLetterTopic(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ServiceName("svc"))
	var ok atomic.Int32
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[userRegistered]) error {
		ok.Add(1)
		return nil
	})
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[userRegistered]) error {
		return actors.Permanent(errors.New("bad address"))
	})
	actortest.Start(t, rt)
	actors.Emit(context.Background(), rt, "user.registered", userRegistered{UserID: 2})
	// Events with no handler are committed and skipped.
	actors.Emit(context.Background(), rt, "nobody.listens", map[string]any{"x": 1})
	dl := actortest.ReadTopic(t, b, "events.dlq", 1)[0]
	if header(dl, "actord.dlq.handler") != "user.registered#2" || header(dl, "event") != "user.registered" || header(dl, "actord.dlq.error") != "bad address" {
		t.Fatalf("dead letter headers %v", dl.Headers)
	}
	actortest.Eventually(t, 10*time.Second, "both events committed", func() bool { return actortest.Committed(t, b, "svc", "events")[0] == 2 })
	if ok.Load() != 1 || rt.SkippedEvents() != 1 {
		t.Fatalf("sibling ran %d times, skipped %d", ok.Load(), rt.SkippedEvents())
	}
}

// Two services (groups) each get every event; two members of one group
// handle each event once between them.
func TestEventsAcrossServices(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "events", 4)
	var mu sync.Mutex
	counts := map[string]map[int]int{}
	mk := func(service string) *actors.Runtime {
		rt := actortest.Runtime(t, b, actors.ServiceName(service))
		actors.On(rt, "payment.processed", func(ctx context.Context, m actors.Message[map[string]any]) error {
			mu.Lock()
			defer mu.Unlock()
			if counts[service] == nil {
				counts[service] = map[int]int{}
			}
			counts[service][int(m.Value["order_id"].(float64))]++
			return nil
		})
		actortest.Start(t, rt)
		return rt
	}
	orders1, orders2, notify := mk("orders-service"), mk("orders-service"), mk("notifications")
	_ = orders2
	_ = notify
	const n = 200
	for i := range n {
		if _, err := actors.Emit(context.Background(), orders1, "payment.processed", map[string]any{"order_id": i, "status": "success"}, actors.Key("order-"+string(rune('a'+i%26)))); err != nil {
			t.Fatal(err)
		}
	}
	actortest.Eventually(t, 30*time.Second, "both services saw every event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(counts["orders-service"]) == n && len(counts["notifications"]) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for svc, m := range counts {
		for id, c := range m {
			if c != 1 {
				t.Fatalf("%s handled order %d %d times", svc, id, c)
			}
		}
	}
}
