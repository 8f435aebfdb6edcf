// Command errors walks through the seed's error handling: a consumer with
// max retries, where a temporary error is retried with backoff, a
// permanent error goes straight to the dead-letter topic, an error that
// outlasts every retry is dead-lettered after the last attempt, and a
// record that cannot be decoded (a poison record) is dead-lettered at
// once. It then lists the dead letters with the actord.dlq.* headers that
// say why, "ships the fix", and replays them to the orders topic, where
// the fixed records are handled and the poison one is dead-lettered again.
//
//	go run ./examples/errors
//
// The replay here is what the stock command does against any cluster:
//
//	actord dlq list orders.dlq --brokers 127.0.0.1:9092
//	actord dlq replay orders.dlq --brokers 127.0.0.1:9092
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/dlq"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

// The two kinds of failure the seed distinguishes.
var (
	ErrTemporary = errors.New("inventory service unavailable")
	ErrPermanent = errors.New("unknown product")
)

// Order is this example's record, JSON-encoded.
type Order struct {
	OrderID int64  `json:"order_id"`
	SKU     string `json:"sku"`
}

const (
	ordersTopic = "orders"
	dlqTopic    = "orders.dlq" // the default dead-letter topic of orders
	maxRetries  = 3            // at most 4 attempts
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process)")
	flag.Parse()
	if err := start(*brokers); err != nil {
		fmt.Fprintln(os.Stderr, "errors:", err)
		os.Exit(1)
	}
}

// start runs the walk-through against brokers or, when none are given, on
// an embedded broker it starts in-process on a free port and closes once
// the runtime has stopped.
func start(brokers string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	brokers, _, closeBroker, err := cluster.Start(brokers)
	if err != nil {
		return err
	}
	defer closeBroker()
	_, err = run(ctx, brokers, os.Stdout)
	return err
}

// warehouse stands for the services the consumer calls. Until the fix
// ships, pianos find the inventory service down and unicorns are not in
// the catalog; lamps hit a hiccup on their first two attempts.
type warehouse struct {
	fixed atomic.Bool

	mu      sync.Mutex
	handled map[int64]int // order ID -> the attempt that succeeded
}

func (w *warehouse) doProcessing(_ context.Context, o Order, attempt int) error {
	switch {
	case o.SKU == "lamp" && attempt < 3:
		return fmt.Errorf("order %d: %w", o.OrderID, ErrTemporary)
	case o.SKU == "piano" && !w.fixed.Load():
		return fmt.Errorf("order %d: %w", o.OrderID, ErrTemporary)
	case o.SKU == "unicorn" && !w.fixed.Load():
		return fmt.Errorf("order %d: %w %q", o.OrderID, ErrPermanent, o.SKU)
	}
	w.mu.Lock()
	w.handled[o.OrderID] = attempt
	w.mu.Unlock()
	return nil
}

// result is what happened, for the test.
type result struct {
	handled       map[int64]int // order ID -> successful attempt
	deadLettered  int           // dead letters after the first pass
	replayed      int
	deadLettersAt []deadLetter // the DLQ after the replay
}

type deadLetter struct {
	source   string // topic/partition@offset it came from
	attempts string
	err      string
	value    string
}

// run is the walk-through on the cluster at brokers.
func run(ctx context.Context, brokers string, out io.Writer) (result, error) {
	var res result
	log := slog.New(slog.DiscardHandler) // the account below says what happened
	rt, err := actors.New(shop.RuntimeOptions("processor", brokers, log)...)
	if err != nil {
		return res, err
	}
	defer rt.Stop(context.Background())
	if err := actors.DeclareTopic(rt, topics.Topic{Name: ordersTopic, Partitions: 1}); err != nil {
		return res, err
	}

	w := &warehouse{handled: map[int64]int{}}
	// The seed's @consumer(topic="orders", group="processor", max_retries=3).
	err = actors.Consume(rt, ordersTopic, "processor", func(ctx context.Context, m actors.Message[Order]) error {
		err := w.doProcessing(ctx, m.Value, m.Attempt)
		switch {
		case err == nil:
			fmt.Fprintf(out, "  order %d (%s) handled on attempt %d\n", m.Value.OrderID, m.Value.SKU, m.Attempt)
			return nil
		case errors.Is(err, ErrTemporary):
			next := "retry"
			if m.Attempt > maxRetries {
				next = "no retries left: dead-lettered"
			}
			fmt.Fprintf(out, "  order %d (%s) attempt %d: %v: %s\n", m.Value.OrderID, m.Value.SKU, m.Attempt, err, next)
			return actors.Retry(err) // retried with backoff; dead-lettered after the last attempt
		case errors.Is(err, ErrPermanent):
			fmt.Fprintf(out, "  order %d (%s) attempt %d: %v: no retry, dead-lettered\n", m.Value.OrderID, m.Value.SKU, m.Attempt, err)
			return actors.Permanent(err) // straight to the dead-letter topic
		}
		return err
	}, actors.MaxRetries(maxRetries), actors.Backoff(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		return res, err
	}
	if err := rt.Start(ctx); err != nil {
		return res, err
	}
	adm := kadm.NewClient(rt.Client())

	fmt.Fprintf(out, "consumer group processor on %q, max %d retries, dead letters to %q\n", ordersTopic, maxRetries, dlqTopic)
	cl := rt.Client()
	for _, o := range []Order{{1, "book"}, {2, "lamp"}, {3, "piano"}, {4, "unicorn"}, {6, "book"}} {
		v, _ := json.Marshal(o)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: ordersTopic, Value: v}).FirstErr(); err != nil {
			return res, err
		}
		if o.OrderID == 4 {
			// A poison record: not an Order at all. Its decode error is
			// permanent: no handler call, no retry.
			fmt.Fprintln(out, "  (publishing a poison record: not JSON)")
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: ordersTopic, Value: []byte("order 5, handwritten")}).FirstErr(); err != nil {
				return res, err
			}
		}
	}
	if err := waitFor(ctx, func() bool { return w.count() == 3 && shop.EndOffset(ctx, adm, dlqTopic) == 3 }); err != nil {
		return res, fmt.Errorf("first pass: %w", err)
	}
	res.deadLettered = 3

	fmt.Fprintf(out, "\ndead letters in %s (actord dlq list %s):\n", dlqTopic, dlqTopic)
	// Reading and replaying go through a client of their own: package dlq
	// derives its short-lived consumers and producers from its options.
	dlqClient, err := kgo.NewClient(kgo.SeedBrokers(rt.Brokers()...))
	if err != nil {
		return res, err
	}
	defer dlqClient.Close()
	dls, err := dlq.Read(ctx, dlqClient, dlqTopic)
	if err != nil {
		return res, err
	}
	printDeadLetters(out, dls)

	fmt.Fprintf(out, "\nthe fix ships (inventory back, unicorns in the catalog); replaying %s to %s (actord dlq replay %s):\n", dlqTopic, ordersTopic, dlqTopic)
	w.fixed.Store(true)
	// Each dead letter's key, value and own headers go back to the topic
	// it came from, without the actord.dlq.* headers.
	rep, err := dlq.Replay(ctx, dlqClient, dls)
	res.replayed = int(rep.Total())
	if err != nil {
		return res, err
	}
	// The replayed poison record fails again: replay cannot fix a record,
	// only what it met. It is dead-lettered a second time.
	if err := waitFor(ctx, func() bool { return w.count() == 5 && shop.EndOffset(ctx, adm, dlqTopic) == 4 }); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	all, err := dlq.Read(ctx, dlqClient, dlqTopic)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "\n%s after the replay: the poison record is back, nothing else\n", dlqTopic)
	printDeadLetters(out, all[len(dls):])
	if err := rt.Stop(context.Background()); err != nil {
		return res, err
	}
	for _, l := range all {
		res.deadLettersAt = append(res.deadLettersAt, describe(l))
	}
	w.mu.Lock()
	res.handled = w.handled
	w.mu.Unlock()
	return res, nil
}

func (w *warehouse) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.handled)
}

func describe(l dlq.Letter) deadLetter {
	return deadLetter{
		source:   fmt.Sprintf("%s/%d@%d", l.Topic, l.Partition, l.Offset),
		attempts: strconv.Itoa(l.Attempts),
		err:      l.Error,
		value:    string(l.Value),
	}
}

func printDeadLetters(out io.Writer, ls []dlq.Letter) {
	for _, l := range ls {
		d := describe(l)
		fmt.Fprintf(out, "  %s after %s attempt(s): %s\n    value %s\n", d.source, d.attempts, d.err, d.value)
	}
}

// waitFor polls cond until it holds, ctx ends or 20 seconds pass.
func waitFor(ctx context.Context, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
