// Command quickstart is actord's one-command demo: it runs the embedded
// broker in-process, declares the orders topic, starts a consumer group
// whose handler fails some records (retried with backoff) and rejects a
// poison record (dead-lettered), publishes a stream of orders, prints what
// happened, and keeps serving until Ctrl-C.
//
//	go run ./examples/quickstart            # or: make run
//	go run ./examples/quickstart -orders 5000 -listen 127.0.0.1:9092
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/partition"
	"github.com/actord/actord/topics"
)

// OrderCreated is the event the demo publishes.
type OrderCreated struct {
	Event   string  `json:"event"`
	OrderID int     `json:"order_id"`
	UserID  int     `json:"user_id"`
	Total   float64 `json:"total"`
}

func main() {
	orders := flag.Int("orders", 1000, "orders to publish")
	listen := flag.String("listen", "127.0.0.1:9092", "embedded broker address")
	metricsAddr := flag.String("metrics", "127.0.0.1:9464", "where /metrics, /healthz and /readyz are served (empty: off)")
	exit := flag.Bool("exit", false, "exit after the summary instead of serving until Ctrl-C")
	flag.Parse()
	if err := run(*orders, *listen, *metricsAddr, *exit); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(n int, listen, metricsAddr string, exitAfter bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := config.Default()
	cfg.Kafka.Enabled = false // the embedded broker, in-process
	cfg.Broker.Listen = listen
	cfg.HTTP.Listen = metricsAddr
	cfg.Runtime.CommitInterval = 200 * time.Millisecond
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	rt, err := actors.New(cfg, actors.WithLogger(log))
	if err != nil {
		return err
	}
	addr := rt.Config().Kafka.BootstrapServers
	fmt.Printf("embedded broker listening on %s\n", addr)
	if err := actors.DeclareTopic(rt, topics.Topic{Name: "orders", Partitions: 3}); err != nil {
		return err
	}

	var handled, retried, failedOnce atomic.Int64
	err = actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[OrderCreated]) error {
		o := m.Value
		if o.OrderID%100 == 7 && m.Attempt == 1 {
			retried.Add(1)
			return actors.Retry(errors.New("payment service busy"))
		}
		if o.Total < 0 {
			failedOnce.Add(1)
			return actors.Permanent(fmt.Errorf("order %d has a negative total", o.OrderID))
		}
		handled.Add(1)
		return nil
	}, actors.MaxRetries(3), actors.Backoff(50*time.Millisecond, time.Second), actors.Ordering(partition.ByKey))
	if err != nil {
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("consumer group %q started on topic %q (3 partitions, key ordering)\n", "processor", "orders")
	if a := rt.MetricsAddr(); a != "" {
		fmt.Printf("metrics on http://%s/metrics, health on /healthz and /readyz\n", a)
	}

	start := time.Now()
	cl := rt.Client()
	for i := 1; i <= n; i++ {
		o := OrderCreated{Event: "order.created", OrderID: i, UserID: i % 37, Total: float64(i%500) + 0.99}
		if i == n/2 {
			o.Total = -1 // the poison record
		}
		v, _ := json.Marshal(o)
		cl.Produce(ctx, &kgo.Record{Topic: "orders", Key: []byte("user-" + strconv.Itoa(o.UserID)), Value: v}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	fmt.Printf("published %d orders in %v\n", n, time.Since(start).Round(time.Millisecond))

	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(60 * time.Second)
	for handled.Load()+failedOnce.Load() < int64(n) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * cfg.Runtime.CommitInterval) // let the last commit go out
	lag := groupLag(ctx, adm)
	dlq := endTotal(ctx, adm, "orders.dlq")
	fmt.Printf("\nsummary after %v\n", time.Since(start).Round(time.Millisecond))
	fmt.Printf("  produced:      %d\n", n)
	fmt.Printf("  handled:       %d\n", handled.Load())
	fmt.Printf("  retried:       %d (each succeeded on its second attempt)\n", retried.Load())
	fmt.Printf("  dead-lettered: %d (in orders.dlq: %d)\n", failedOnce.Load(), dlq)
	fmt.Printf("  lag:           %d\n", lag)
	if exitAfter {
		if err := rt.Stop(context.Background()); err != nil {
			return err
		}
		if got := handled.Load() + failedOnce.Load(); got != int64(n) || lag != 0 || dlq != 1 {
			return fmt.Errorf("expected %d records finished, lag 0 and 1 dead letter; got %d, %d, %d", n, got, lag, dlq)
		}
		return nil
	}
	fmt.Printf("\nserving on %s until Ctrl-C; try from another terminal:\n", addr)
	fmt.Printf("  go run ./cmd/actord consume orders.dlq --brokers %s --from-beginning -o json\n", addr)
	if a := rt.MetricsAddr(); a != "" {
		fmt.Printf("  curl -s http://%s/metrics | grep ^actord_records\n", a)
	}
	fmt.Printf("  echo '{\"event\":\"order.created\",\"order_id\":1,\"total\":5}' | go run ./cmd/actord produce orders --brokers %s --key user-1\n", addr)
	<-ctx.Done()
	fmt.Println("stopping: draining, committing, leaving the group")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return rt.Stop(sctx)
}

func groupLag(ctx context.Context, adm *kadm.Client) int64 {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := adm.Lag(c, "processor")
	if err != nil {
		return -1
	}
	var total int64
	l.Each(func(g kadm.DescribedGroupLag) { total += g.Lag.Total() })
	return total
}

func endTotal(ctx context.Context, adm *kadm.Client, topic string) int64 {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lo, err := adm.ListEndOffsets(c, topic)
	if err != nil {
		return -1
	}
	var total int64
	lo.Each(func(o kadm.ListedOffset) { total += o.Offset })
	return total
}
