// Command notifications is the notifications service: the seed's
// @consumer(topic="orders", group="notifications"). It reads the Avro
// orders with its own reader schema, which has only the fields it needs;
// schema resolution maps each record from the schema it was written with.
//
//	go run ./examples/notifications                          # embedded broker: publishes a few orders itself, then consumes them
//	go run ./examples/notifications -brokers 127.0.0.1:9092  # consumes what ./examples/orders publishes, until Ctrl-C
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/schema"
)

// OrderCreated is this service's view of shop.OrderCreated: the fields it
// reads. It is the reader schema; the same full name (shop.OrderCreated)
// lets it read records written with the orders service's schema, whose
// extra fields are skipped.
type OrderCreated struct {
	OrderID int64 `json:"order_id"`
	UserID  int64 `json:"user_id"`
}

// AvroNamespace matches the writer's namespace.
func (OrderCreated) AvroNamespace() string { return "shop" }

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process and publish -orders orders first)")
	orders := flag.Int("orders", 5, "with the embedded broker: orders to publish, then stop once all are notified")
	flag.Parse()
	if err := start(*brokers, *orders); err != nil {
		fmt.Fprintln(os.Stderr, "notifications:", err)
		os.Exit(1)
	}
}

// start consumes from brokers until Ctrl-C or, when none are given, runs
// an embedded broker in-process on a free port, publishes orders orders
// to it and consumes them; the broker is closed once the runtime has
// stopped.
func start(brokers string, orders int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	seed := 0
	brokers, embedded, closeBroker, err := cluster.Start(brokers)
	if err != nil {
		return err
	}
	defer closeBroker()
	if embedded {
		seed = orders
	}
	_, err = run(ctx, brokers, seed, os.Stdout)
	return err
}

// notifier stands for the service's outbound channel (mail, push).
type notifier struct {
	out  io.Writer
	mu   sync.Mutex
	sent []string
	want int
	done chan struct{}
}

func (n *notifier) sendNotification(_ context.Context, userID int64, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, text)
	fmt.Fprintf(n.out, "  to user %d: %s\n", userID, text)
	if len(n.sent) == n.want {
		close(n.done)
	}
	return nil
}

// run consumes orders from brokers until ctx ends or, when seed > 0, publishes seed
// orders first (standing in for the orders service) and returns once each
// has been notified. It returns the notifications sent.
func run(ctx context.Context, brokers string, seed int, out io.Writer) ([]string, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := actors.New(shop.RuntimeOptions("notifications", brokers, log)...)
	if err != nil {
		return nil, err
	}
	defer rt.Stop(context.Background())

	reader, err := schema.For[OrderCreated]()
	if err != nil {
		return nil, err
	}
	// Without a schema registry the runtime finds a record's writer schema
	// by its fingerprint among the schemas it knows: tell it the one the
	// orders service writes with (shared as shop.OrderCreated, or load
	// examples/shop/order_created.avsc with schema.Load).
	rt.KnowSchema(shop.OrderCreatedSchema())

	n := &notifier{out: out, want: seed, done: make(chan struct{})}
	err = actors.Consume(rt, shop.OrdersTopic, "notifications",
		func(ctx context.Context, m actors.Message[OrderCreated]) error {
			return n.sendNotification(ctx, m.Value.UserID, fmt.Sprintf("Order #%d confirmed!", m.Value.OrderID))
		},
		actors.WithSchema(reader))
	if err != nil {
		return nil, err
	}
	if err := rt.Start(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "group %q consuming %q (reader schema %s)\n", "notifications", shop.OrdersTopic, reader.Canonical())

	if seed == 0 {
		<-ctx.Done()
		return n.sent, rt.Stop(context.Background())
	}
	orderCreated, err := actors.NewProducer[shop.OrderCreated](rt, shop.OrdersTopic, actors.WithSchema(shop.OrderCreatedSchema()))
	if err != nil {
		return nil, err
	}
	for i := 1; i <= seed; i++ {
		o := shop.OrderCreated{OrderID: int64(i), UserID: int64(100 + i), Total: 9.99, CreatedAt: time.Now()}
		if _, err := orderCreated.Publish(ctx, o); err != nil {
			return nil, err
		}
	}
	select {
	case <-n.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, errors.New("timed out waiting for the notifications")
	}
	if err := rt.Stop(context.Background()); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent, nil
}
