// Command payments is the seed's multi-service flow: the payments service
// consumes orders, charges them and publishes payment results; the orders
// service, in its own consumer group, consumes the results and marks its
// orders paid.
//
// In production the two are separate processes, each with its own
// runtime and consumer group, talking only over topics. Here two runtimes
// in one process stand for them, both clients of one cluster: the one at
// -brokers, or else an embedded broker the program starts in-process.
//
//	go run ./examples/payments
//	go run ./examples/payments -brokers 127.0.0.1:9092 -n 50
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
	"strings"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

// cardLimit is the payment gateway's rule in this example: orders above
// it are declined.
const cardLimit = 300

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process)")
	n := flag.Int("n", 10, "orders to place")
	flag.Parse()
	if err := start(*brokers, *n); err != nil {
		fmt.Fprintln(os.Stderr, "payments:", err)
		os.Exit(1)
	}
}

// start runs both services against brokers or, when none are given, on an
// embedded broker it starts in-process on a free port and closes once both
// runtimes have stopped.
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

// orderStore is the orders service's database.
type orderStore struct {
	mu       sync.Mutex
	orders   map[int64]string // order ID -> "placed", "paid" or "payment declined"
	settled  int
	want     int
	complete chan struct{}
}

func (s *orderStore) place(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[id] = "placed"
}

// settle records a payment result once per order (a redelivered result
// changes nothing: handlers are idempotent under at-least-once delivery).
func (s *orderStore) settle(id int64, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders[id] != "placed" {
		return
	}
	s.orders[id] = state
	s.settled++
	if s.settled == s.want {
		close(s.complete)
	}
}

func (s *orderStore) count(state string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.orders {
		if st == state {
			n++
		}
	}
	return n
}

type outcome struct{ paid, declined int }

// run places n orders through both services on the cluster at brokers.
func run(ctx context.Context, brokers string, n int, out io.Writer) (outcome, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Service A: payments.
	rtPayments, err := actors.New(shop.RuntimeOptions("payments", brokers, log.With("service", "payments"))...)
	if err != nil {
		return outcome{}, err
	}
	defer rtPayments.Stop(context.Background())

	// Service B: orders, on the same cluster.
	rtOrders, err := actors.New(shop.RuntimeOptions("orders", brokers, log.With("service", "orders"))...)
	if err != nil {
		return outcome{}, err
	}
	defer rtOrders.Stop(context.Background())

	// The payments service: consume orders in group payments-service,
	// charge them, publish the result (the seed's payment_processed).
	paymentProcessed, err := actors.NewKeyedProducer(rtPayments, shop.PaymentsTopic,
		func(p shop.PaymentProcessed) string { return strconv.FormatInt(p.OrderID, 10) })
	if err != nil {
		return outcome{}, err
	}
	if err := actors.DeclareTopic(rtPayments, topics.Topic{Name: shop.PaymentsTopic, Partitions: 3}); err != nil {
		return outcome{}, err
	}
	err = actors.Consume(rtPayments, shop.OrdersTopic, "payments-service",
		func(ctx context.Context, m actors.Message[shop.OrderCreated]) error {
			status := shop.PaymentSuccess
			if m.Value.Total > cardLimit {
				status = shop.PaymentDeclined
			}
			_, err := paymentProcessed.Publish(ctx, shop.PaymentProcessed{OrderID: m.Value.OrderID, Amount: m.Value.Total, Status: status})
			if err != nil {
				return err // a failed publish is retried
			}
			fmt.Fprintf(out, "  [payments] order #%d charged %.2f: %s\n", m.Value.OrderID, m.Value.Total, status)
			return nil
		},
		actors.WithSchema(shop.OrderCreatedSchema()))
	if err != nil {
		return outcome{}, err
	}

	// The orders service: place orders, and consume payment results in
	// its own group, orders-service.
	store := &orderStore{orders: map[int64]string{}, want: n, complete: make(chan struct{})}
	err = actors.Consume(rtOrders, shop.PaymentsTopic, "orders-service",
		func(ctx context.Context, m actors.Message[shop.PaymentProcessed]) error {
			if m.Value.Status == shop.PaymentSuccess {
				store.settle(m.Value.OrderID, "paid")
				fmt.Fprintf(out, "  [orders]   order #%d paid (%.2f)\n", m.Value.OrderID, m.Value.Amount)
			} else {
				store.settle(m.Value.OrderID, "payment declined")
				fmt.Fprintf(out, "  [orders]   order #%d: payment declined\n", m.Value.OrderID)
			}
			return nil
		})
	if err != nil {
		return outcome{}, err
	}
	if err := actors.DeclareTopic(rtOrders, topics.Topic{Name: shop.OrdersTopic, Partitions: 3}); err != nil {
		return outcome{}, err
	}
	orderCreated, err := actors.NewKeyedProducer(rtOrders, shop.OrdersTopic,
		func(o shop.OrderCreated) string { return strconv.FormatInt(o.UserID, 10) },
		actors.WithSchema(shop.OrderCreatedSchema()))
	if err != nil {
		return outcome{}, err
	}

	if err := rtPayments.Start(ctx); err != nil {
		return outcome{}, err
	}
	if err := rtOrders.Start(ctx); err != nil {
		return outcome{}, err
	}
	fmt.Fprintf(out, "payments service (group payments-service) and orders service (group orders-service) on %s\n",
		strings.Join(rtPayments.Brokers(), ","))

	for i := 1; i <= n; i++ {
		o := shop.OrderCreated{OrderID: int64(i), UserID: int64(i % 4), Total: float64(i%5)*100 + 19.99, CreatedAt: time.Now()}
		store.place(o.OrderID)
		if _, err := orderCreated.Publish(ctx, o); err != nil {
			return outcome{}, err
		}
		fmt.Fprintf(out, "  [orders]   order #%d placed (%.2f)\n", o.OrderID, o.Total)
	}
	select {
	case <-store.complete:
	case <-ctx.Done():
		return outcome{}, ctx.Err()
	case <-time.After(30 * time.Second):
		return outcome{}, errors.New("timed out waiting for the payment results")
	}
	if err := errors.Join(rtOrders.Stop(context.Background()), rtPayments.Stop(context.Background())); err != nil {
		return outcome{}, err
	}
	res := outcome{paid: store.count("paid"), declined: store.count("payment declined")}
	fmt.Fprintf(out, "%d orders: %d paid, %d declined (over the %d card limit)\n", n, res.paid, res.declined, cardLimit)
	return res, nil
}
