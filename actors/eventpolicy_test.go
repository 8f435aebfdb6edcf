package actors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// The event router's retry policy is the same on every run: it paces an
// event's retries at the smallest initial backoff among the handlers, so
// a handler with a minute's backoff on another event does not slow the
// others down, and each handler's own MaxRetries is honoured: a handler
// with MaxRetries(1) gets 2 attempts, its sibling with MaxRetries(3) gets
// 4, and each is dead-lettered on its own with actord.dlq.handler naming
// it. Three runs register the slow handler first, between and last.
func TestEventRouterPolicyIsDeterministic(t *testing.T) {
	t.Parallel()
	for run, slowAt := range []int{0, 1, 2} {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			b := actortest.Broker(t)
			rt := actortest.Runtime(t, b, actors.ServiceName("svc"))
			var mu sync.Mutex
			attempts := map[string][]int{}
			failing := func(id string) func(context.Context, actors.Message[map[string]any]) error {
				return func(_ context.Context, m actors.Message[map[string]any]) error {
					mu.Lock()
					attempts[id] = append(attempts[id], m.Attempt)
					mu.Unlock()
					return errors.New(id + " down")
				}
			}
			register := []func() error{
				func() error {
					return actors.On(rt, "order.placed", failing("one"), actors.MaxRetries(1), actors.Backoff(time.Millisecond, 5*time.Millisecond))
				},
				func() error {
					return actors.On(rt, "order.placed", failing("three"), actors.MaxRetries(3), actors.Backoff(5*time.Millisecond, 20*time.Millisecond))
				},
			}
			slow := func() error {
				// Registered for an event nobody emits: it counts only
				// for the router's policy, with the largest retry budget
				// and a backoff that would outlast the test.
				return actors.On(rt, "audit.requested", failing("slow"), actors.MaxRetries(10), actors.Backoff(time.Minute, time.Minute))
			}
			register = slices.Insert(register, slowAt, slow)
			for _, r := range register {
				if err := r(); err != nil {
					t.Fatal(err)
				}
			}
			actortest.Start(t, rt)
			if _, err := actors.Emit(context.Background(), rt, "order.placed", map[string]any{"order_id": 1}); err != nil {
				t.Fatal(err)
			}
			// Three retries at the slow handler's pace would take three
			// minutes; at the smallest initial backoff they take
			// milliseconds.
			actortest.Eventually(t, 10*time.Second, "the event committed", func() bool {
				return actortest.Committed(t, b, "svc", "events")[0] == 1
			})
			letters := actortest.WaitDeadLetters(t, b, "events.dlq", 2)
			mu.Lock()
			defer mu.Unlock()
			if got := fmt.Sprint(attempts["one"]); got != "[1 2]" {
				t.Errorf("MaxRetries(1) handler ran attempts %s, want [1 2]", got)
			}
			if got := fmt.Sprint(attempts["three"]); got != "[1 2 3 4]" {
				t.Errorf("MaxRetries(3) handler ran attempts %s, want [1 2 3 4]", got)
			}
			if len(attempts["slow"]) != 0 {
				t.Errorf("the handler of another event ran %v", attempts["slow"])
			}
			want := map[string]string{ // handler -> attempts and error
				"order.placed#1": "2 one down",
				"order.placed#2": "4 three down",
			}
			if len(letters) != 2 {
				t.Fatalf("%d dead letters, want 2", len(letters))
			}
			for _, l := range letters {
				got := fmt.Sprintf("%d %s", l.Attempts, l.Error)
				if w, ok := want[l.Handler]; !ok || got != w || header(l.Record, actors.HeaderDLQHandler) != l.Handler {
					t.Errorf("dead letter of handler %q: %q, want one of %v", l.Handler, got, want)
				}
				delete(want, l.Handler)
			}
		})
	}
}
