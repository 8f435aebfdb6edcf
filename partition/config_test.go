package partition_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/supervisor"
)

func noop(context.Context, *kgo.Record, int) error { return nil }

// Every bad field is an error naming it and its value; zero values that
// mean a default are valid.
func TestConfigValidate(t *testing.T) {
	props := actor.PropsFromFunc(func(actor.Context) {})
	cases := []struct {
		name string
		cfg  partition.Config
		want []string // in the message; none: valid
	}{
		{"zero values", partition.Config{Handle: noop}, nil},
		{"props", partition.Config{HandlerProps: props, Ordering: partition.Unordered, Concurrency: 3}, nil},
		{"policy", partition.Config{Handle: noop, Pipeline: supervisor.Pipeline{Policy: supervisor.DefaultPolicy()}}, nil},
		{"unknown ordering", partition.Config{Handle: noop, Ordering: 7}, []string{"Ordering", "Ordering(7)"}},
		{"negative concurrency", partition.Config{Handle: noop, Concurrency: -2}, []string{"Concurrency", "-2"}},
		{"negative max in flight", partition.Config{Handle: noop, MaxInFlight: -5}, []string{"MaxInFlight", "-5"}},
		{"negative timeout", partition.Config{Handle: noop, HandlerTimeout: -time.Second}, []string{"HandlerTimeout", "-1s"}},
		{"no handler", partition.Config{}, []string{"Handle", "HandlerProps"}},
		{"two handlers", partition.Config{Handle: noop, HandlerProps: props}, []string{"Handle", "HandlerProps"}},
		{"bad policy", partition.Config{Handle: noop, Pipeline: supervisor.Pipeline{Policy: supervisor.Policy{MaxRetries: -1}}},
			[]string{"Pipeline", "MaxRetries", "-1"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: Validate = %v, want nil", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Validate accepted it", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", c.name, err, w)
			}
		}
	}
}

// Spawn takes no bad config silently: it panics with Validate's error.
func TestSpawnPanicsOnABadConfig(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	defer func() {
		p := recover()
		if err, ok := p.(error); !ok || !strings.Contains(err.Error(), "MaxInFlight -5") {
			t.Fatalf("Spawn panicked with %v, want the MaxInFlight error", p)
		}
	}()
	partition.Spawn(sys.Root, sys.Root, partition.Config{Handle: noop, MaxInFlight: -5})
}

// Zero Concurrency and MaxInFlight are the defaults; partition mode runs
// one handler actor whatever Concurrency says.
func TestSpawnDefaults(t *testing.T) {
	cases := []struct {
		name        string
		ordering    partition.Ordering
		concurrency int
		want        int
	}{
		{"key mode default", partition.ByKey, 0, partition.DefaultConcurrency},
		{"unordered mode default", partition.Unordered, 0, partition.DefaultConcurrency},
		{"unordered mode set", partition.Unordered, 3, 3},
		{"partition mode", partition.ByPartition, 8, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var started atomic.Int32
			props := actor.PropsFromFunc(func(ctx actor.Context) {
				if _, ok := ctx.Message().(*actor.Started); ok {
					started.Add(1)
				}
			})
			r := start(t, partition.Config{Ordering: c.ordering, Concurrency: c.concurrency, HandlerProps: props})
			waitFor(t, "the handler actors started", func() bool { return int(started.Load()) >= c.want })
			if got := int(started.Load()); got != c.want {
				t.Errorf("%d handler actors, want %d", got, c.want)
			}
			// MaxInFlight defaults to DefaultMaxInFlight: full at it.
			r.h.Deliver(records(partition.DefaultMaxInFlight-1, 0))
			if r.h.Full() {
				t.Error("full below DefaultMaxInFlight")
			}
			r.h.Deliver(recordsFrom(partition.DefaultMaxInFlight-1, 1, 0))
			if !r.h.Full() {
				t.Error("not full at DefaultMaxInFlight")
			}
		})
	}
}

func TestParseOrdering(t *testing.T) {
	cases := []struct {
		word string
		want partition.Ordering
		err  bool
	}{
		{"", partition.ByPartition, false},
		{"partition", partition.ByPartition, false},
		{"key", partition.ByKey, false},
		{"unordered", partition.Unordered, false},
		{"random", 0, true},
	}
	for _, c := range cases {
		got, err := partition.ParseOrdering(c.word)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseOrdering(%q) = %v, %v", c.word, got, err)
		}
		if !c.err && c.word != "" && got.String() != c.word {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), c.word)
		}
	}
	if s := partition.Ordering(9).String(); s != "Ordering(9)" {
		t.Errorf("Ordering(9).String() = %q", s)
	}
}
