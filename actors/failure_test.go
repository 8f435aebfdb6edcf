package actors_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

func TestRetryThenSuccess(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 10, 10)
	rt := actortest.Runtime(t, b)
	var attempts attemptLog
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		attempts.add(m)
		if m.Value == 3 && m.Attempt < 3 {
			return actors.Retry(errors.New("temporary"))
		}
		return nil
	}, actors.MaxRetries(3), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "committed to the end", func() bool { return actortest.Committed(t, b, "processor", "orders")[0] == 10 })
	if got := attempts.of(3); got != "[1 2 3]" {
		t.Fatalf("record 3 attempts = %s, want [1 2 3]", got)
	}
	for v := 4; v < 10; v++ {
		if got := attempts.of(v); got != "[1]" {
			t.Fatalf("record %d ran attempts %s, want once", v, got)
		}
	}
}

func TestExhaustedRetriesDeadLetterWithHeaders(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 2)
	actortest.Produce(t, b, "orders",
		&kgo.Record{Key: []byte("a"), Value: []byte(`1`), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-1")}}},
		actortest.KeyValue("a", `2`),
	)
	rt := actortest.Runtime(t, b)
	var calls atomic.Int32
	var second atomic.Bool
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if m.Value == 1 {
			calls.Add(1)
			return errors.New("boom")
		}
		second.Store(true)
		return nil
	}, actors.MaxRetries(2), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	dl := actortest.ReadTopic(t, b, "orders.dlq", 1)[0]
	if calls.Load() != 3 {
		t.Fatalf("handler ran %d times, want 3 (1 + 2 retries)", calls.Load())
	}
	if string(dl.Key) != "a" || string(dl.Value) != "1" || header(dl, "trace") != "t-1" {
		t.Fatalf("dead letter lost key/value/headers: key=%q value=%q trace=%q", dl.Key, dl.Value, header(dl, "trace"))
	}
	want := map[string]string{
		"actord.dlq.topic": "orders", "actord.dlq.offset": "0", "actord.dlq.group": "processor",
		"actord.dlq.error": "boom", "actord.dlq.attempts": "3",
	}
	for k, v := range want {
		if got := header(dl, k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"actord.dlq.partition", "actord.dlq.timestamp", "actord.dlq.failed_at"} {
		if header(dl, k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	actortest.Eventually(t, 10*time.Second, "the partition carried on", second.Load)
	actortest.Eventually(t, 10*time.Second, "offset committed past the dead letter", func() bool {
		return actortest.CommittedToEnd(t, b, "processor", "orders")
	})
	// The dead-letter topic was created with the source's partition count.
	if got := len(actortest.EndOffsets(t, b, "orders.dlq")); got != 2 {
		t.Fatalf("orders.dlq has %d partitions, want 2", got)
	}
}

func TestPermanentPoisonPanicAndTimeout(t *testing.T) {
	cases := []struct {
		name      string
		value     string
		handler   func(ctx context.Context, m actors.Message[map[string]any]) error
		opts      []actors.ConsumerOption
		wantCalls int32
		errHas    string
		attempts  string
	}{
		{
			name: "permanent", value: `{"id":1}`,
			handler: func(context.Context, actors.Message[map[string]any]) error {
				return actors.Permanent(errors.New("bad order"))
			},
			wantCalls: 1, errHas: "bad order", attempts: "1",
		},
		{
			name: "poison", value: `{not json`,
			handler:   func(context.Context, actors.Message[map[string]any]) error { return nil },
			wantCalls: 0, errHas: "cannot decode", attempts: "1",
		},
		{
			name: "panic", value: `{"id":1}`,
			handler:   func(context.Context, actors.Message[map[string]any]) error { panic("kaboom") },
			wantCalls: 3, errHas: "kaboom", attempts: "3",
		},
		{
			name: "timeout", value: `{"id":1}`,
			handler: func(ctx context.Context, _ actors.Message[map[string]any]) error {
				<-ctx.Done()
				return nil
			},
			opts:      []actors.ConsumerOption{actors.HandlerTimeout(20 * time.Millisecond)},
			wantCalls: 3, errHas: "timed out", attempts: "3",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := actortest.Broker(t)
			actortest.CreateTopic(t, b, "orders", 1)
			actortest.Produce(t, b, "orders", actortest.Value(tc.value), actortest.Value(`{"id":2}`))
			rt := actortest.Runtime(t, b)
			var calls atomic.Int32
			var after atomic.Bool
			opts := append([]actors.ConsumerOption{actors.MaxRetries(2), fastRetries()}, tc.opts...)
			err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[map[string]any]) error {
				if m.Offset == 1 {
					after.Store(true)
					return nil
				}
				calls.Add(1)
				return tc.handler(ctx, m)
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			dl := actortest.ReadTopic(t, b, "orders.dlq", 1)[0]
			if got := header(dl, "actord.dlq.error"); !strings.Contains(got, tc.errHas) {
				t.Errorf("dlq error %q does not mention %q", got, tc.errHas)
			}
			if got := header(dl, "actord.dlq.attempts"); got != tc.attempts {
				t.Errorf("dlq attempts %s, want %s", got, tc.attempts)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("handler ran %d times, want %d", calls.Load(), tc.wantCalls)
			}
			actortest.Eventually(t, 10*time.Second, "next record handled", after.Load)
			actortest.Eventually(t, 10*time.Second, "committed to the end", func() bool { return actortest.Committed(t, b, "processor", "orders")[0] == 2 })
		})
	}
}

func TestNoDeadLetterSkipsAndCommits(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 3, 1)
	rt := actortest.Runtime(t, b)
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if m.Value == 1 {
			return actors.Permanent(errors.New("skip me"))
		}
		return nil
	}, actors.NoDeadLetter())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 10*time.Second, "committed past the skipped record", func() bool { return actortest.Committed(t, b, "processor", "orders")[0] == 3 })
}

// In key mode a retrying key holds back only itself.
func TestKeyModeRetryBlocksOnlyItsKey(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 200, 10)
	rt := actortest.Runtime(t, b)
	release := make(chan struct{})
	var others atomic.Int32
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if string(m.Key) == "k0" {
			select {
			case <-release:
				return nil
			default:
				return errors.New("k0 not ready")
			}
		}
		others.Add(1)
		return nil
	}, actors.Ordering(actors.ByKey), actors.Concurrency(4), actors.MaxRetries(1000), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "every other key handled while k0 retries", func() bool { return others.Load() == 180 })
	if c := actortest.Committed(t, b, "processor", "orders")[0]; c > 0 {
		t.Fatalf("committed %d past the retrying record at offset 0", c)
	}
	close(release)
	actortest.Eventually(t, 20*time.Second, "committed to the end", func() bool { return actortest.Committed(t, b, "processor", "orders")[0] == 200 })
}

// Unordered and key modes with failures scattered through the stream:
// every record ends handled and the commit reaches the end; in key mode
// each key's records succeed in offset order although a retry of one key
// shares a handler's run with other keys.
func TestConcurrentModesWithScatteredRetries(t *testing.T) {
	for _, mode := range []actors.OrderingMode{actors.Unordered, actors.ByKey} {
		t.Run(mode.String(), func(t *testing.T) {
			b := actortest.Broker(t)
			actortest.CreateTopic(t, b, "orders", 2)
			const n = 2000
			produce(t, b, "orders", n, 40)
			rt := actortest.Runtime(t, b)
			seen := newCounter()
			var mu sync.Mutex
			last := map[string]int{}
			var outOfOrder atomic.Int32
			err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
				if m.Value%7 == 0 && m.Attempt == 1 {
					return errors.New("transient")
				}
				mu.Lock()
				if prev, ok := last[string(m.Key)]; ok && m.Value <= prev {
					outOfOrder.Add(1)
				}
				last[string(m.Key)] = m.Value
				mu.Unlock()
				seen.add(strconv.Itoa(m.Value))
				return nil
			}, actors.Ordering(mode), actors.Concurrency(4), fastRetries())
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			actortest.Eventually(t, 30*time.Second, "every record handled", func() bool { return seen.distinct() == n })
			actortest.Eventually(t, 10*time.Second, "committed to the end", func() bool {
				return actortest.CommittedToEnd(t, b, "processor", "orders")
			})
			if d := seen.dups(); d != 0 {
				t.Fatalf("%d records handled twice", d)
			}
			if o := outOfOrder.Load(); mode == actors.ByKey && o != 0 {
				t.Fatalf("%d records of a key succeeded before an earlier one of the key", o)
			}
		})
	}
}

// In every ordering mode, each failing record runs attempt 1, 2, 3 in
// turn (retries carry their count), an exhausted one is dead-lettered
// once with its attempts, the others run once, and the commit reaches the
// end of every partition.
func TestAttemptsAndDeadLettersInEveryMode(t *testing.T) {
	for _, mode := range []actors.OrderingMode{actors.ByPartition, actors.ByKey, actors.Unordered} {
		t.Run(mode.String(), func(t *testing.T) {
			b := actortest.Broker(t)
			actortest.CreateTopic(t, b, "orders", 2)
			const n = 600
			produce(t, b, "orders", n, 30)
			rt := actortest.Runtime(t, b)
			var attempts attemptLog
			err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
				attempts.add(m)
				switch {
				case m.Value%50 == 0:
					return errors.New("never")
				case m.Value%7 == 0 && m.Attempt < 3:
					return errors.New("not yet")
				}
				return nil
			}, actors.Ordering(mode), actors.Concurrency(4), actors.MaxRetries(2), fastRetries())
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			dead := actortest.ReadTopic(t, b, "orders.dlq", n/50)
			actortest.Eventually(t, 20*time.Second, "committed to the end", func() bool {
				return actortest.CommittedToEnd(t, b, "processor", "orders")
			})
			for v := range n {
				want := "[1]"
				if v%50 == 0 || v%7 == 0 {
					want = "[1 2 3]"
				}
				if got := attempts.of(v); got != want {
					t.Errorf("value %d ran attempts %s, want %s", v, got, want)
				}
			}
			got := map[string]bool{}
			for _, r := range dead {
				if header(r, "actord.dlq.attempts") != "3" || header(r, "actord.dlq.error") != "never" {
					t.Errorf("dead letter %s: attempts %q, error %q", r.Value, header(r, "actord.dlq.attempts"), header(r, "actord.dlq.error"))
				}
				if got[string(r.Value)] {
					t.Errorf("value %s dead-lettered twice", r.Value)
				}
				got[string(r.Value)] = true
			}
			for v := 0; v < n; v += 50 {
				if !got[strconv.Itoa(v)] {
					t.Errorf("value %d not dead-lettered", v)
				}
			}
		})
	}
}
