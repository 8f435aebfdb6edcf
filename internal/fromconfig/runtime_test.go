package fromconfig_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
)

// testConfig is a loaded-looking configuration pointed at addr, with
// short intervals so outcomes show quickly.
func testConfig(addr string) config.Config {
	cfg := config.Default()
	cfg.Kafka.BootstrapServers = addr
	cfg.Runtime.CommitInterval = 100 * time.Millisecond
	cfg.Runtime.DrainTimeout = 5 * time.Second
	cfg.HTTP.Listen = ""
	cfg.Log.Level = "warn"
	return cfg
}

func ptr[T any](v T) *T { return &v }

func TestConsumerOptionsApplyEveryKey(t *testing.T) {
	b := actortest.Broker(t)
	cases := []struct {
		name     string
		c        config.Consumer
		attempts int64
		dlq      string // "" when nothing is dead-lettered
	}{
		{"max_retries 1 and a dead_letter_topic", config.Consumer{Topic: "a", Group: "ga", MaxRetries: ptr(1),
			Backoff: config.Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}, DeadLetterTopic: "a.failed"}, 2, "a.failed"},
		{"max_retries 0 and dead_letter false", config.Consumer{Topic: "b", Group: "gb", MaxRetries: ptr(0),
			DeadLetter: ptr(false)}, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(b.Addr())
			tc.c.Handler = config.Handler{Log: &config.LogHandler{}} // the test's handler replaces it
			cfg.Consumers = []config.Consumer{tc.c}
			cfg = cfg.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			opts, err := fromconfig.ConsumerOptions(cfg.Consumers[0])
			if err != nil {
				t.Fatal(err)
			}
			rt := actortest.Runtime(t, b)
			var n atomic.Int64
			fail := func(context.Context, actors.Message[[]byte]) error {
				n.Add(1)
				return errors.New("always")
			}
			if err := actors.Consume(rt, tc.c.Topic, tc.c.Group, fail, opts...); err != nil {
				t.Fatal(err)
			}
			actortest.Produce(t, b, tc.c.Topic, actortest.Value("x"))
			actortest.Start(t, rt)
			actortest.WaitCommittedToEnd(t, b, tc.c.Group, tc.c.Topic)
			if got := n.Load(); got != tc.attempts {
				t.Errorf("attempts = %d, want %d", got, tc.attempts)
			}
			if tc.dlq != "" {
				ls := actortest.WaitDeadLetters(t, b, tc.dlq, 1)
				if ls[0].Attempts != int(tc.attempts) || ls[0].Group != tc.c.Group || ls[0].Topic != tc.c.Topic {
					t.Errorf("dead letter = %+v", ls[0])
				}
			}
		})
	}
}

func TestConsumerOptionsFromBeginningFalse(t *testing.T) {
	b := actortest.Broker(t)
	actortest.Produce(t, b, "late", actortest.Value("old"))
	cfg := testConfig(b.Addr())
	cfg.Consumers = []config.Consumer{{Topic: "late", Group: "gl", FromBeginning: ptr(false), Handler: config.Handler{Log: &config.LogHandler{}}}}
	cfg = cfg.WithDefaults()
	opts, err := fromconfig.ConsumerOptions(cfg.Consumers[0])
	if err != nil {
		t.Fatal(err)
	}
	rt := actortest.Runtime(t, b)
	got := make(chan string, 4)
	err = actors.Consume(rt, "late", "gl", func(_ context.Context, m actors.Message[string]) error {
		got <- m.Value
		return nil
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, actortest.Timeout, "the group to join", func() bool { return rt.Ready(context.Background()) == nil })
	actortest.Produce(t, b, "late", actortest.Value("new"))
	select {
	case v := <-got:
		if v != "new" {
			t.Fatalf("first record handled = %q, want the one produced after the start (from_beginning false)", v)
		}
	case <-time.After(actortest.Timeout):
		t.Fatal("no record handled")
	}
}

func TestNewRuntimeStartsTheEmbeddedBrokerOnlyWhenAsked(t *testing.T) {
	cfg := testConfig("")
	cfg.Kafka.Enabled = false
	cfg.Broker.Listen = "127.0.0.1:0"
	frt, err := fromconfig.NewRuntime(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if frt.Embedded == nil || len(frt.Brokers) != 1 || frt.Brokers[0] != frt.Embedded.Addr() {
		t.Fatalf("kafka.enabled false: embedded %v, brokers %v; want the runtime on the embedded broker", frt.Embedded, frt.Brokers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := frt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := frt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	addr := frt.Embedded.Addr()
	frt.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the embedded broker still accepts connections on %s after Close", addr)
	}

	b := actortest.Broker(t)
	cfg = testConfig(b.Addr())
	frt, err = fromconfig.NewRuntime(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer frt.Close()
	if frt.Embedded != nil || frt.Brokers[0] != b.Addr() {
		t.Fatalf("kafka.enabled true: embedded %v, brokers %v; want %s and no embedded broker", frt.Embedded, frt.Brokers, b.Addr())
	}
	if err := frt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := frt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
