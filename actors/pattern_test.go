package actors_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// A pattern consumer consumes every matching topic, the ones there at
// start and one created after it started, dead-letters each topic's
// failures to that topic's own "<topic>.dlq", and never consumes those
// dead-letter topics (which match the pattern too) nor a topic that does
// not match.
func TestPatternConsumerPicksUpNewTopics(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	actortest.CreateTopic(t, b, "orders.eu", 2)
	actortest.CreateTopic(t, b, "payments", 1)
	rt := actortest.Runtime(t, b, actors.MetadataMaxAge(time.Second))
	var mu sync.Mutex
	seen := map[string][]string{} // topic -> values handled
	err := actors.ConsumePattern(rt, `orders\..*`, "by-pattern", func(_ context.Context, m actors.Message[string]) error {
		mu.Lock()
		seen[m.Topic] = append(seen[m.Topic], m.Value)
		mu.Unlock()
		if m.Value == "bad" {
			return actors.Permanent(errors.New("cannot ship"))
		}
		return nil
	}, actors.MaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "orders.eu", actortest.KeyValue("a", "eu-1"), actortest.KeyValue("b", "bad"), actortest.KeyValue("c", "eu-2"))
	actortest.Produce(t, b, "payments", actortest.Value("not mine"))
	letters := actortest.WaitDeadLetters(t, b, "orders.eu.dlq", 1)
	if l := letters[0]; l.Topic != "orders.eu" || l.Group != "by-pattern" || !strings.Contains(l.Error, "cannot ship") {
		t.Errorf("dead letter: topic %q group %q error %q, want orders.eu, by-pattern, cannot ship", l.Topic, l.Group, l.Error)
	}
	actortest.WaitCommittedToEnd(t, b, "by-pattern", "orders.eu")

	// A topic created while the group runs is found and consumed.
	actortest.CreateTopic(t, b, "orders.us", 3)
	actortest.Produce(t, b, "orders.us", actortest.KeyValue("x", "us-1"), actortest.KeyValue("y", "us-2"))
	actortest.Eventually(t, 30*time.Second, "the records of orders.us, created after the start, are handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["orders.us"]) == 2
	})
	actortest.WaitCommittedToEnd(t, b, "by-pattern", "orders.us")

	mu.Lock()
	defer mu.Unlock()
	if got := len(seen["orders.eu"]); got != 3 {
		t.Errorf("orders.eu: %d records handled (%v), want 3", got, seen["orders.eu"])
	}
	for topic, vs := range seen {
		if topic != "orders.eu" && topic != "orders.us" {
			t.Errorf("handled %v from %s: the pattern does not consume it", vs, topic)
		}
	}
	if c := actortest.Committed(t, b, "by-pattern", "orders.eu.dlq"); len(c) != 0 {
		t.Errorf("the group committed offsets on its own dead-letter topic: %v", c)
	}
}

// The pattern must match the whole name: "orders" alone does not match
// "orders\..*", nor does "old.orders.eu" (no implicit .* around it).
func TestPatternIsAnchored(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	for _, topic := range []string{"orders", "old.orders.eu", "orders.eu"} {
		actortest.CreateTopic(t, b, topic, 1)
		actortest.Produce(t, b, topic, actortest.Value(topic))
	}
	rt := actortest.Runtime(t, b)
	var mu sync.Mutex
	var got []string
	if err := actors.ConsumePattern(rt, `orders\..*`, "anchored", func(_ context.Context, m actors.Message[string]) error {
		mu.Lock()
		got = append(got, m.Topic)
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "anchored", "orders.eu")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "orders.eu" {
		t.Errorf("handled records of %v, want only orders.eu", got)
	}
	for _, topic := range []string{"orders", "old.orders.eu"} {
		if c := actortest.Committed(t, b, "anchored", topic); len(c) != 0 {
			t.Errorf("%s: committed %v, want nothing (it does not match)", topic, c)
		}
	}
}

// A topic named by Consume in the same group is that consumer's, not the
// pattern's.
func TestPatternLeavesNamedTopicsToTheirConsumer(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	actortest.CreateTopic(t, b, "orders.eu", 1)
	actortest.CreateTopic(t, b, "orders.us", 1)
	actortest.Produce(t, b, "orders.eu", actortest.Value("1"))
	actortest.Produce(t, b, "orders.us", actortest.Value("2"))
	rt := actortest.Runtime(t, b)
	var mu sync.Mutex
	by := map[string]string{} // topic -> consumer
	note := func(who string) func(context.Context, actors.Message[string]) error {
		return func(_ context.Context, m actors.Message[string]) error {
			mu.Lock()
			by[m.Topic] = who
			mu.Unlock()
			return nil
		}
	}
	if err := actors.Consume(rt, "orders.eu", "mixed", note("named")); err != nil {
		t.Fatal(err)
	}
	if err := actors.ConsumePattern(rt, `orders\..*`, "mixed", note("pattern")); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "mixed", "orders.eu")
	actortest.WaitCommittedToEnd(t, b, "mixed", "orders.us")
	mu.Lock()
	defer mu.Unlock()
	if by["orders.eu"] != "named" || by["orders.us"] != "pattern" {
		t.Errorf("handled by %v, want orders.eu by the named consumer and orders.us by the pattern", by)
	}
}

// Bad pattern declarations are one error naming what is wrong, and
// nothing is declared.
func TestPatternDeclarationErrors(t *testing.T) {
	b := actortest.Broker(t)
	noop := func(context.Context, actors.Message[string]) error { return nil }
	for _, tc := range []struct {
		name    string
		declare func(rt *actors.Runtime) error
		want    string
	}{
		{"bad regexp", func(rt *actors.Runtime) error { return actors.ConsumePattern(rt, `orders\.(`, "g", noop) }, `topic pattern "orders\\.("`},
		{"empty", func(rt *actors.Runtime) error { return actors.ConsumePattern(rt, "", "g", noop) }, "topic pattern is empty"},
		{"no group", func(rt *actors.Runtime) error { return actors.ConsumePattern(rt, "a.*", "", noop) }, "group is required"},
		{"retry topic", func(rt *actors.Runtime) error {
			return actors.ConsumePattern(rt, "a.*", "g", noop, actors.Ordering(actors.ByKey), actors.RetryTopic("a.retry", time.Second))
		}, `actors.RetryTopic("a.retry"): not with a topic pattern`},
		{"dead letters loop", func(rt *actors.Runtime) error {
			return actors.ConsumePattern(rt, `orders\..*`, "g", noop, actors.DeadLetterTopic("orders.failed"))
		}, `actors.DeadLetterTopic("orders.failed"): matches the pattern itself`},
		{"twice", func(rt *actors.Runtime) error {
			if err := actors.ConsumePattern(rt, "a.*", "g", noop); err != nil {
				return err
			}
			return actors.ConsumePattern(rt, "a.*", "g", noop)
		}, "already has a consumer of this pattern"},
		{"named dead-letter topic in the group", func(rt *actors.Runtime) error {
			if err := actors.Consume(rt, "orders.dlq", "g", noop); err != nil {
				return err
			}
			return actors.ConsumePattern(rt, `orders.*`, "g", noop)
		}, `would stop the group's consumer of "orders.dlq"`},
		{"named after the pattern", func(rt *actors.Runtime) error {
			if err := actors.ConsumePattern(rt, `orders.*`, "g", noop); err != nil {
				return err
			}
			return actors.Consume(rt, "orders.dlq", "g", noop)
		}, `consumer orders.dlq/g: the group's consumer of pattern "orders.*" leaves out its dead-letter topics`},
		{"bad metadata age", func(*actors.Runtime) error {
			_, err := actors.New(actors.Brokers(b.Addr()), actors.MetadataMaxAge(time.Millisecond))
			return err
		}, "actors.MetadataMaxAge(1ms): must be between 1s and 1h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := actortest.Runtime(t, b)
			err := tc.declare(rt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// Under the KIP-848 protocol too (franz-go matches the pattern itself and
// sends the broker the matching names, the dead-letter topics left out),
// a topic created after the start is consumed.
func TestPatternConsumerUnderKIP848(t *testing.T) {
	b := actortest.Broker(t, actortest.NoAutoCreate())
	actortest.CreateTopic(t, b, "orders.eu", 2)
	rt := actortest.Runtime(t, b, actors.MetadataMaxAge(time.Second),
		actors.ConsumerGroupProtocol(actors.ProtocolConsumer), actors.GroupBalancer(actors.BalanceRange))
	var mu sync.Mutex
	seen := map[string]int{}
	if err := actors.ConsumePattern(rt, `orders\..*`, "pattern-848", func(_ context.Context, m actors.Message[string]) error {
		mu.Lock()
		seen[m.Topic]++
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "orders.eu", actortest.Value("1"))
	actortest.WaitCommittedToEnd(t, b, "pattern-848", "orders.eu")
	actortest.CreateTopic(t, b, "orders.us", 1)
	actortest.Produce(t, b, "orders.us", actortest.Value("2"))
	actortest.WaitCommittedToEnd(t, b, "pattern-848", "orders.us")
	mu.Lock()
	defer mu.Unlock()
	if seen["orders.eu"] != 1 || seen["orders.us"] != 1 {
		t.Errorf("handled %v, want one record of each topic", seen)
	}
}
