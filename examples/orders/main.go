// Command orders is the orders service's producer: the seed's
// order_created, typed and Avro-encoded. It declares the orders topic,
// derives the Avro schema from the Go struct (schema.For), publishes
// orders keyed by user (one user's orders land on one partition, in
// order) and prints where each landed. A value that does not fit the
// schema is refused before anything is sent.
//
//	go run ./examples/orders                          # on the embedded broker, in-process
//	go run ./examples/orders -brokers 127.0.0.1:9092  # on a running broker (actord broker, Kafka)
//
// With -brokers, run ./examples/notifications or ./examples/payments
// against the same broker to consume what it published.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process)")
	n := flag.Int("n", 10, "orders to publish")
	flag.Parse()
	if err := start(*brokers, *n); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// start runs the service against brokers or, when none are given, on an
// embedded broker it starts in-process on a free port and closes once the
// runtime has stopped.
func start(brokers string, n int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	brokers, _, closeBroker, err := cluster.Start(brokers)
	if err != nil {
		return err
	}
	defer closeBroker()
	_, err = run(ctx, brokers, n, os.Stdout)
	return err
}

// result is what run did, for its test.
type result struct {
	published []published
	refused   error
}

type published struct {
	order   shop.OrderCreated
	receipt actors.Receipt
}

// run is the service on the cluster at brokers.
func run(ctx context.Context, brokers string, n int, out io.Writer) (result, error) {
	var res result
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := actors.New(shop.RuntimeOptions("orders", brokers, log)...)
	if err != nil {
		return res, err
	}
	defer rt.Stop(context.Background())

	// The seed's `class OrderTopic(Topic)`: reconciled when the runtime starts.
	if err := actors.DeclareTopic(rt, topics.Topic{Name: shop.OrdersTopic, Partitions: 3, ReplicationFactor: 1}); err != nil {
		return res, err
	}
	if err := rt.Start(ctx); err != nil {
		return res, err
	}

	// The seed's @producer(topic="orders", schema=OrderCreatedSchema).
	orderSchema := shop.OrderCreatedSchema()
	orderCreated, err := actors.NewKeyedProducer(rt, shop.OrdersTopic,
		func(o shop.OrderCreated) string { return "user-" + strconv.FormatInt(o.UserID, 10) },
		actors.WithSchema(orderSchema))
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "publishing %d orders to %q as Avro %s\n", n, shop.OrdersTopic, orderSchema.Name())
	for i := 1; i <= n; i++ {
		o := shop.OrderCreated{
			OrderID:   int64(i),
			UserID:    int64(100 + i%3),
			Total:     float64(i*10) + 0.99,
			CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		}
		receipt, err := orderCreated.Publish(ctx, o)
		if err != nil {
			return res, err
		}
		res.published = append(res.published, published{o, receipt})
		fmt.Fprintf(out, "  order #%d (user %d, %.2f) -> %s partition %d offset %d\n",
			o.OrderID, o.UserID, o.Total, receipt.Topic, receipt.Partition, receipt.Offset)
	}

	// Values are checked against the schema before anything is sent: a map
	// with a string where the schema wants a double is refused, naming the
	// field.
	loose, err := actors.NewProducer[map[string]any](rt, shop.OrdersTopic, actors.WithSchema(orderSchema))
	if err != nil {
		return res, err
	}
	_, res.refused = loose.Publish(ctx, map[string]any{"order_id": 1, "user_id": 2, "total": "a lot", "created_at": time.Now()})
	fmt.Fprintf(out, "refused, nothing sent: %v\n", res.refused)
	return res, nil
}
