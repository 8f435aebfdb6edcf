// Command producer is a service that only publishes: the payments
// service's results, JSON, keyed by order, to the payments topic of the
// cluster at -brokers. It is the binary a library user ships: it imports
// actors and nothing of the daemon (no config file, no embedded broker),
// so neither the embedded broker (kfake) nor the config loader (viper) is
// linked in (`go version -m` lists neither).
//
// The first result is published with Publish, which waits for the
// acknowledgement and says where the record landed; the others with
// PublishAsync, each with a completion callback, then Flush waits for
// them all.
//
//	go run ./cmd/actord broker &                               # or any Kafka cluster
//	go run ./examples/producer -brokers 127.0.0.1:9092 -n 1000
//	go run ./cmd/actord consume payments --from-beginning -n 3 --brokers 127.0.0.1:9092
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
	"strconv"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers, host:port,... (required)")
	n := flag.Int("n", 100, "payment results to publish")
	flag.Parse()
	if *brokers == "" {
		fmt.Fprintln(os.Stderr, "producer: -brokers is required (a Kafka cluster, or `go run ./cmd/actord broker` for a local one)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, *brokers, *n, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		os.Exit(1)
	}
}

// payment is result i: declined when its amount is over 300.
func payment(i int) shop.PaymentProcessed {
	p := shop.PaymentProcessed{OrderID: int64(i), Amount: float64(i%7)*50 + 9.99, Status: shop.PaymentSuccess}
	if p.Amount > 300 {
		p.Status = shop.PaymentDeclined
	}
	return p
}

// run publishes n payment results to the cluster at brokers and returns
// how many were acknowledged.
func run(ctx context.Context, brokers string, n int, out io.Writer) (int, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, err := actors.New(actors.Brokers(brokers), actors.ServiceName("payments"), actors.WithLogger(log))
	if err != nil {
		return 0, err
	}
	defer rt.Stop(context.Background())
	if err := actors.DeclareTopic(rt, topics.Topic{Name: shop.PaymentsTopic, Partitions: 3}); err != nil {
		return 0, err
	}
	// Start reaches the cluster (an unreachable one is an error within the
	// request timeout) and creates the topic; a producer-only runtime
	// joins no group.
	if err := rt.Start(ctx); err != nil {
		return 0, err
	}

	results, err := actors.NewKeyedProducer(rt, shop.PaymentsTopic,
		func(p shop.PaymentProcessed) string { return strconv.FormatInt(p.OrderID, 10) })
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, rt.Stop(ctx)
	}
	start := time.Now()
	first, err := results.Publish(ctx, payment(1))
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "order 1's result -> %s partition %d offset %d\n", first.Topic, first.Partition, first.Offset)

	var (
		mu     sync.Mutex
		acked  = 1
		errs   error
		record = func(_ actors.Receipt, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = errors.Join(errs, err)
				return
			}
			acked++
		}
	)
	for i := 2; i <= n; i++ {
		if err := results.PublishAsync(ctx, payment(i), record); err != nil {
			return 0, err // v does not encode: nothing was sent
		}
	}
	if err := results.Flush(ctx); err != nil {
		return 0, err
	}
	mu.Lock()
	defer mu.Unlock()
	if errs != nil {
		return acked, errs
	}
	fmt.Fprintf(out, "%d payment results acknowledged by %v in %v\n", acked, rt.Brokers(), time.Since(start).Round(time.Millisecond))
	return acked, rt.Stop(ctx)
}
