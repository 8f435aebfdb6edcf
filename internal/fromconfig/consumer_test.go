package fromconfig_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
)

// TestConsumerOptionsOrderingConcurrencyTimeout: the rest of a consumer's
// keys behave as configured. ordering key with concurrency 2 runs records
// of different keys of one partition two at once (partition ordering
// would run them one after the other); handler_timeout
// ends an attempt that runs too long,
// which with max_retries 0 is dead-lettered after one attempt on
// dead_letter_topic; max_in_flight and the backoff keys are accepted.
func TestConsumerOptionsOrderingConcurrencyTimeout(t *testing.T) {
	b := actortest.Broker(t)
	const topic, group, dead = "jobs", "gj", "jobs.timedout"
	const keys = 10
	cfg := testConfig(b.Addr())
	cfg.Consumers = []config.Consumer{{
		Topic: topic, Group: group, Ordering: config.OrderingKey, Concurrency: 2, MaxInFlight: 5,
		HandlerTimeout: time.Second, MaxRetries: ptr(0), DeadLetter: ptr(true), DeadLetterTopic: dead,
		Backoff: config.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 3, Jitter: 0.1},
		Handler: config.Handler{Log: &config.LogHandler{}}, // the test's handler replaces it
	}}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, err := fromconfig.ConsumerOptions(cfg.Consumers[0])
	if err != nil {
		t.Fatal(err)
	}

	rt := actortest.Runtime(t, b)
	release := make(chan struct{}) // ends the slow handler when the test does
	t.Cleanup(func() { close(release) })
	var (
		mu       sync.Mutex
		inFlight int
		most     int
		together = make(chan struct{}) // closed once two keys run at once
		slow     int
	)
	handle := func(ctx context.Context, m actors.Message[string]) error {
		if string(m.Key) == "slow" {
			mu.Lock()
			slow++
			mu.Unlock()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-release:
				return nil
			}
		}
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == 2 {
			select {
			case <-together:
			default:
				close(together)
			}
		}
		mu.Unlock()
		// Hold the record until another key runs beside it, or give up
		// (the assertion on most reports it) before the handler timeout.
		select {
		case <-together:
		case <-time.After(500 * time.Millisecond):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}
	if err := actors.Consume(rt, topic, group, handle, opts...); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range keys {
		recs = append(recs, actortest.KeyValue(fmt.Sprintf("k%d", i), "v"))
	}
	actortest.Produce(t, b, topic, append(recs, actortest.KeyValue("slow", "v"))...)
	actortest.Start(t, rt)

	ls := actortest.WaitDeadLetters(t, b, dead, 1)
	if l := ls[0]; l.Attempts != 1 || l.Offset != keys || l.Group != group || l.Topic != topic {
		t.Errorf("dead letter = %+v, want the slow record (offset %d) after 1 attempt", l, keys)
	}
	if l := ls[0]; !strings.Contains(l.Error, "deadline") && !strings.Contains(l.Error, "timeout") && !strings.Contains(l.Error, "timed out") {
		t.Errorf("dead letter error %q does not say the handler timed out", l.Error)
	}
	actortest.WaitCommittedToEnd(t, b, group, topic)
	if n := actortest.EndOffsets(t, b, dead)[0]; n != 1 {
		t.Errorf("%s holds %d dead letters, want only the slow record's", dead, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if most < 2 {
		t.Errorf("at most %d records of different keys ran at once, want 2 (ordering key, concurrency 2)", most)
	}
	if slow != 1 {
		t.Errorf("slow record attempted %d times, want 1 (max_retries 0)", slow)
	}
}
