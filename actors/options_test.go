package actors_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// wantErr fails t unless err holds every one of want.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// labelled reports whether reg holds a series with a label of value v: a
// declared consumer has its instruments labelled with its topic.
func labelled(t *testing.T, reg *prometheus.Registry, v string) bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == v {
					return true
				}
			}
		}
	}
	return false
}

// badPolicy is the default retry policy with one field spoiled.
func badPolicy(spoil func(*actors.Policy)) actors.Policy {
	p := actors.DefaultRetryPolicy()
	spoil(&p)
	return p
}

// Every bad value given to Consume or ConsumeWith is an error from that
// call naming the option and the value, and nothing is declared: the
// consumer has no instruments and its topic and group can be declared
// again.
func TestConsumerOptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		topic, group string
		opts         []actors.ConsumerOption
		selfDLQ      bool // DeadLetterTopic(the consumed topic)
		want         []string
	}{
		{name: "MaxRetries", opts: []actors.ConsumerOption{actors.MaxRetries(-1)},
			want: []string{"actors.MaxRetries(-1): must be at least 0"}},
		{name: "Backoff zero", opts: []actors.ConsumerOption{actors.Backoff(0, 0)},
			want: []string{"actors.Backoff(0s, 0s): initial must be positive and max at least initial"}},
		{name: "Backoff inverted", opts: []actors.ConsumerOption{actors.Backoff(2*time.Second, time.Second)},
			want: []string{"actors.Backoff(2s, 1s): initial must be positive and max at least initial"}},
		{name: "RetryPolicy MaxRetries", opts: []actors.ConsumerOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.MaxRetries = -2 }))},
			want: []string{"actors.RetryPolicy(", "MaxRetries -2 is negative"}},
		{name: "RetryPolicy Initial", opts: []actors.ConsumerOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.Initial = 0 }))},
			want: []string{"actors.RetryPolicy(", "Initial 0s is not above zero"}},
		{name: "RetryPolicy Max", opts: []actors.ConsumerOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.Max = time.Millisecond }))},
			want: []string{"actors.RetryPolicy(", "Max 1ms is below Initial 100ms"}},
		{name: "RetryPolicy Multiplier", opts: []actors.ConsumerOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.Multiplier = 0.5 }))},
			want: []string{"actors.RetryPolicy(", "Multiplier 0.5 is below 1"}},
		{name: "RetryPolicy Jitter", opts: []actors.ConsumerOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.Jitter = 2 }))},
			want: []string{"actors.RetryPolicy(", "Jitter 2 is outside [0, 1]"}},
		{name: "DeadLetterTopic is the topic", selfDLQ: true,
			want: []string{`is the consumed topic itself`}},
		{name: "DeadLetterTopic with NoDeadLetter", opts: []actors.ConsumerOption{actors.DeadLetterTopic("x.dlq"), actors.NoDeadLetter()},
			want: []string{`actors.DeadLetterTopic("x.dlq") given with actors.NoDeadLetter()`}},
		{name: "DeadLetterTopic bad name", opts: []actors.ConsumerOption{actors.DeadLetterTopic("dead letters")},
			want: []string{`actors.DeadLetterTopic("dead letters"): topic "dead letters": name contains ' '`}},
		{name: "bad topic name", topic: "bad/topic",
			want: []string{`topic "bad/topic": name contains '/'`}},
		{name: "empty group", group: "-",
			want: []string{"group is required"}},
		{name: "Ordering", opts: []actors.ConsumerOption{actors.Ordering(actors.OrderingMode(42))},
			want: []string{"actors.Ordering(Ordering(42)): not one of ByPartition, ByKey, Unordered"}},
		{name: "Concurrency", opts: []actors.ConsumerOption{actors.Concurrency(0)},
			want: []string{"actors.Concurrency(0): must be between 1 and 10000"}},
		{name: "Concurrency above the limit", opts: []actors.ConsumerOption{actors.Concurrency(100000000)},
			want: []string{"actors.Concurrency(100000000): must be between 1 and 10000"}},
		{name: "MaxInFlight", opts: []actors.ConsumerOption{actors.MaxInFlight(0)},
			want: []string{"actors.MaxInFlight(0): must be between 1 and 100000"}},
		{name: "HandlerTimeout", opts: []actors.ConsumerOption{actors.HandlerTimeout(-time.Second)},
			want: []string{"actors.HandlerTimeout(-1s): must be positive"}},
		{name: "WithCircuit", opts: []actors.ConsumerOption{actors.WithCircuit(actors.CircuitSettings{FailureRatio: 2})},
			want: []string{"actors.WithCircuit: circuit failure_ratio 2 is not in (0, 1]"}},
		{name: "WithCircuit probes", opts: []actors.ConsumerOption{actors.WithCircuit(actors.CircuitSettings{ProbeInitial: time.Minute, ProbeMax: time.Second})},
			want: []string{"actors.WithCircuit: circuit probe_interval.max 1s is shorter than probe_interval.initial 1m0s"}},
		{name: "WithDecoder", opts: []actors.ConsumerOption{actors.WithDecoder(nil)},
			want: []string{"actors.WithDecoder(nil): want a decoder"}},
		{name: "WithSchema", opts: []actors.ConsumerOption{actors.WithSchema(nil)},
			want: []string{"actors.WithSchema(nil): want a schema"}},
		{name: "every problem at once", opts: []actors.ConsumerOption{actors.MaxRetries(-1), actors.Concurrency(0), actors.HandlerTimeout(0)},
			want: []string{"actors.MaxRetries(-1)", "actors.Concurrency(0)", "actors.HandlerTimeout(0s)"}},
	}
	b := actortest.Broker(t)
	reg := prometheus.NewRegistry()
	rt := actortest.Runtime(t, b, actors.MetricsRegisterer(reg))
	handler := func(context.Context, actors.Message[[]byte]) error { return nil }
	for i, tc := range cases {
		for _, with := range []bool{false, true} {
			name := tc.name + "/Consume"
			if with {
				name = tc.name + "/ConsumeWith"
			}
			t.Run(name, func(t *testing.T) {
				topic, group := tc.topic, tc.group
				if topic == "" {
					topic = fmt.Sprintf("t%d-%v", i, with)
				}
				switch group {
				case "":
					group = fmt.Sprintf("g-%v", with)
				case "-":
					group = ""
				}
				opts, want := tc.opts, tc.want
				if tc.selfDLQ {
					opts = []actors.ConsumerOption{actors.DeadLetterTopic(topic)}
					want = append(want, fmt.Sprintf("actors.DeadLetterTopic(%q): ", topic))
				}
				var err error
				if with {
					err = actors.ConsumeWith(rt, topic, group, nopProps(), opts...)
				} else {
					err = actors.Consume(rt, topic, group, handler, opts...)
				}
				wantErr(t, err, append([]string{fmt.Sprintf("consumer %s/%s: ", topic, group)}, want...)...)
				if labelled(t, reg, topic) {
					t.Errorf("a consumer of %s has instruments: it was declared", topic)
				}
				if group != "" && tc.name != "bad topic name" {
					if err := actors.Consume(rt, topic, group, handler); err != nil {
						t.Errorf("declaring %s/%s again: %v (the bad declaration was kept)", topic, group, err)
					}
				}
			})
		}
	}
}

// nopProps builds handler actors that finish every delivery.
func nopProps() *actor.Props {
	return actor.PropsFromFunc(func(c actor.Context) {
		if d, ok := c.Message().(*actors.Delivery); ok {
			d.Done(nil)
		}
	})
}

// Every bad value given to On is an error from On naming the option and
// the value, and nothing is declared: the runtime starts without an event
// router, so it never creates the events topic.
func TestEventOptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []actors.EventOption
		want []string
	}{
		{name: "MaxRetries", opts: []actors.EventOption{actors.MaxRetries(-1)},
			want: []string{"actors.MaxRetries(-1): must be at least 0"}},
		{name: "Backoff zero", opts: []actors.EventOption{actors.Backoff(0, 0)},
			want: []string{"actors.Backoff(0s, 0s)"}},
		{name: "Backoff inverted", opts: []actors.EventOption{actors.Backoff(2*time.Second, time.Second)},
			want: []string{"actors.Backoff(2s, 1s)"}},
		{name: "RetryPolicy", opts: []actors.EventOption{actors.RetryPolicy(badPolicy(func(p *actors.Policy) { p.Jitter = -1 }))},
			want: []string{"actors.RetryPolicy(", "Jitter -1 is outside [0, 1]"}},
		{name: "DeadLetterTopic is the events topic", opts: []actors.EventOption{actors.DeadLetterTopic("ev")},
			want: []string{`actors.DeadLetterTopic("ev"): is the consumed topic itself`}},
		{name: "DeadLetterTopic with NoDeadLetter", opts: []actors.EventOption{actors.NoDeadLetter(), actors.DeadLetterTopic("ev.failed")},
			want: []string{`actors.DeadLetterTopic("ev.failed") given with actors.NoDeadLetter()`}},
		{name: "DeadLetterTopic bad name", opts: []actors.EventOption{actors.DeadLetterTopic("ev*dlq")},
			want: []string{`actors.DeadLetterTopic("ev*dlq"): topic "ev*dlq": name contains '*'`}},
		{name: "WithDecoder", opts: []actors.EventOption{actors.WithDecoder(nil)},
			want: []string{"actors.WithDecoder(nil): want a decoder"}},
		{name: "WithSchema", opts: []actors.EventOption{actors.WithSchema(nil)},
			want: []string{"actors.WithSchema(nil): want a schema"}},
	}
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.EventsTopic("ev"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := actors.On(rt, "user.registered", func(context.Context, actors.Message[map[string]any]) error { return nil }, tc.opts...)
			wantErr(t, err, append([]string{`actors.On("user.registered"): `}, tc.want...)...)
		})
	}
	actortest.Start(t, rt)
	topics, err := kadm.NewClient(actortest.Client(t, b)).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("ev") {
		t.Fatal("the runtime created the events topic: a bad On declared an event handler")
	}
}

// Every bad value given to NewProducer, NewKeyedProducer or Publish is an
// error from that call naming it, and nothing is built or produced.
func TestProducerOptionErrors(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "out", 1)
	rt := actortest.Runtime(t, b)
	cases := []struct {
		name string
		make func() (*actors.Producer[string], error)
		want []string
	}{
		{name: "bad topic name", make: func() (*actors.Producer[string], error) { return actors.NewProducer[string](rt, "out put") },
			want: []string{`producer out put: topic "out put": name contains ' '`}},
		{name: "WithEncoder", make: func() (*actors.Producer[string], error) {
			return actors.NewProducer[string](rt, "out", actors.WithEncoder(nil))
		}, want: []string{"producer out: actors.WithEncoder(nil): want an encoder"}},
		{name: "WithSchema", make: func() (*actors.Producer[string], error) {
			return actors.NewProducer[string](rt, "out", actors.WithSchema(nil))
		}, want: []string{"producer out: actors.WithSchema(nil): want a schema"}},
		{name: "Header", make: func() (*actors.Producer[string], error) {
			return actors.NewProducer[string](rt, "out", actors.Header("", "v"))
		}, want: []string{`producer out: actors.Header("", "v"): the header name is empty`}},
		{name: "NewKeyedProducer nil key", make: func() (*actors.Producer[string], error) {
			return actors.NewKeyedProducer[string](rt, "out", nil)
		}, want: []string{"producer out: nil key function"}},
		{name: "NewKeyedProducer bad option", make: func() (*actors.Producer[string], error) {
			return actors.NewKeyedProducer(rt, "out", func(s string) string { return s }, actors.Header("", "k"))
		}, want: []string{`producer out: actors.Header("", "k"): the header name is empty`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.make()
			wantErr(t, err, tc.want...)
			if p != nil {
				t.Errorf("a producer came back beside the error")
			}
		})
	}
	t.Run("Publish Header", func(t *testing.T) {
		p, err := actors.NewProducer[string](rt, "out")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Publish(context.Background(), "x", actors.Header("", "v"))
		wantErr(t, err, `producer out: actors.Header("", "v"): the header name is empty`)
		err = p.PublishAsync(context.Background(), "x", nil, actors.Header("", "w"))
		wantErr(t, err, `producer out: actors.Header("", "w"): the header name is empty`)
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e := actortest.EndOffsets(t, b, "out")[0]; e != 0 {
			t.Fatalf("a publish with a bad header produced %d records", e)
		}
	})
}

// Every bad runtime option is an error from New naming the option and the
// value, and no runtime comes back; no brokers at all is ErrNoBrokers,
// which says how to point at a cluster or an embedded broker.
func TestRuntimeOptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []actors.RuntimeOption
		is   error
		want []string
	}{
		{name: "no brokers", is: actors.ErrNoBrokers,
			want: []string{"actors.New: no brokers", `actors.Brokers("host:9092"`, "broker.Start", "actortest.Broker", "actors.Brokers(b.Addr())"}},
		{name: "empty brokers", opts: []actors.RuntimeOption{actors.Brokers("", " , ")}, is: actors.ErrNoBrokers,
			want: []string{"no brokers"}},
		{name: "Brokers", opts: []actors.RuntimeOption{actors.Brokers("nohostport")},
			want: []string{`actors.Brokers("nohostport"): not a host:port`}},
		{name: "CommitInterval", opts: []actors.RuntimeOption{actors.Brokers("127.0.0.1:9092"), actors.CommitInterval(time.Millisecond)},
			want: []string{"actors.CommitInterval(1ms): must be at least 100ms"}},
		{name: "DefaultMaxInFlightPerPartition", opts: []actors.RuntimeOption{actors.Brokers("127.0.0.1:9092"), actors.DefaultMaxInFlightPerPartition(-5)},
			want: []string{"actors.DefaultMaxInFlightPerPartition(-5): must be between 1 and 100000"}},
		{name: "SessionTimeout", opts: []actors.RuntimeOption{actors.Brokers("127.0.0.1:9092"), actors.SessionTimeout(time.Second)},
			want: []string{"actors.SessionTimeout(1s): must be between 6s and 5m"}},
		{name: "every problem at once", opts: []actors.RuntimeOption{actors.CommitInterval(time.Millisecond), actors.SessionTimeout(time.Second)},
			is:   actors.ErrNoBrokers,
			want: []string{"no brokers", "actors.CommitInterval(1ms)", "actors.SessionTimeout(1s)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := actors.New(tc.opts...)
			wantErr(t, err, tc.want...)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if rt != nil {
				t.Errorf("a runtime came back beside the error")
			}
		})
	}
}
