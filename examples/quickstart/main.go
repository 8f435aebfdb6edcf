// Command quickstart is actord's one-command demo (make run): an online
// shop on the embedded broker, all in one process, needing nothing but Go.
//
// It starts the embedded Kafka-protocol broker and four services, each its
// own consumer group: payments (charges orders, publishes payment
// results; gateway timeouts are retried), notifications (reads the Avro
// orders with its own reader schema), orders (marks orders paid from the
// payment results) and users (the user.registered event fanned out to a
// welcome mailer and a settings writer). It then drives the flow: 1,000
// Avro orders, one poison record (dead-lettered), 50 users registering;
// prints what happened and a summary (produced, handled, retried,
// dead-lettered, lag); and keeps serving until Ctrl-C, printing how to
// poke it from another terminal.
//
//	go run ./examples/quickstart            # or: make run
//	go run ./examples/quickstart -orders 5000 -listen 127.0.0.1:19092
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

// options are the command-line flags.
type options struct {
	orders, users int
	listen        string // the embedded broker
	metrics       string // the console, /metrics, /healthz, /readyz; empty: off
	admin         bool   // the console's actions, with a token in its URL
	exit          bool   // exit after the summary
	log           io.Writer
}

func main() {
	var o options
	flag.IntVar(&o.orders, "orders", 1000, "orders to publish")
	flag.IntVar(&o.users, "users", 50, "users to register")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:9092", "embedded broker address (port 0: a free one)")
	flag.StringVar(&o.metrics, "metrics", "127.0.0.1:9464", "where the status console (/), /metrics, /healthz and /readyz are served (empty: off)")
	flag.BoolVar(&o.admin, "admin", true, "turn the console's actions on (replay, pause), with a fresh token in the printed URL")
	flag.BoolVar(&o.exit, "exit", false, "exit after the summary instead of serving until Ctrl-C")
	flag.Parse()

	// The runtime's own log (group joins, failures, dead letters) goes to a
	// file, so that the account on stdout stays readable.
	logFile, err := os.Create(filepath.Join(os.TempDir(), "actord-quickstart.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	defer logFile.Close()
	o.log = logFile

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// consoleURL is the status console's address; with admin on, the token
// rides in the fragment, which the browser never sends: the page keeps it
// for the tab and takes it out of the address bar.
func consoleURL(addr, token string) string {
	if token == "" {
		return "http://" + addr + "/"
	}
	return "http://" + addr + "/#token=" + token
}

// price is order i's total: spread over 0.99 to 499.99.
func price(i int) float64 { return float64((i*37)%500) + 0.99 }

func run(ctx context.Context, o options, out io.Writer) (summary, error) {
	var sum summary
	// The embedded Kafka-protocol broker, in-process: started here, closed
	// after the runtime has stopped (the defers run in reverse).
	b, err := broker.Start(broker.Config{Listen: o.listen, AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		return sum, fmt.Errorf("%w (is another broker on %s? try -listen 127.0.0.1:0)", err, o.listen)
	}
	defer b.Close()
	addr := b.Addr()

	logTo := o.log
	if logTo == nil {
		logTo = io.Discard
	}
	opts := []actors.RuntimeOption{
		actors.Brokers(addr),
		actors.ServiceName("shop"),
		actors.EventsGroup(usersGroup),
		actors.CommitInterval(200 * time.Millisecond),
		actors.WithLogger(slog.New(slog.NewTextHandler(logTo, nil))),
	}
	var token string
	if o.metrics != "" {
		opts = append(opts, actors.ServeMetrics(o.metrics))
		if o.admin {
			// A fresh token each run, printed in the console's URL: only
			// who reads this terminal can act through the console.
			b := make([]byte, 16)
			rand.Read(b)
			token = hex.EncodeToString(b)
			opts = append(opts, actors.ConsoleAdmin(token))
		}
	}
	rt, err := actors.New(opts...)
	if err != nil {
		return sum, err
	}
	defer rt.Stop(context.Background())

	for _, t := range []topics.Topic{{Name: shop.OrdersTopic, Partitions: 3}, {Name: shop.PaymentsTopic, Partitions: 3}} {
		if err := actors.DeclareTopic(rt, t); err != nil {
			return sum, err
		}
	}
	acct := newAccount(out)
	s := &shopState{acct: acct, orders: map[int64]string{}}
	if err := declareServices(rt, s); err != nil {
		return sum, err
	}
	if err := rt.Start(ctx); err != nil {
		return sum, err
	}

	acct.printf("actord quickstart: an online shop on the embedded broker, in one process\n\n")
	acct.printf("  broker    embedded Kafka-protocol broker on %s\n", addr)
	acct.printf("  topics    orders (3 partitions), payments (3 partitions), events (named events)\n")
	acct.printf("  services  each its own consumer group:\n")
	acct.printf("    %-17s orders   -> charge the card, publish the result to payments (gateway timeouts retried)\n", paymentsGroup)
	acct.printf("    %-17s orders   -> \"Order #N confirmed!\" (Avro read with its own reader schema)\n", notificationsGroup)
	acct.printf("    %-17s payments -> mark the order paid or declined\n", ordersGroup)
	acct.printf("    %-17s events   -> user.registered: welcome mail + default settings\n", usersGroup)
	if a := rt.MetricsAddr(); a != "" {
		acct.printf("  console   %s\n", consoleURL(a, token))
		acct.printf("  metrics   http://%s/metrics (and /healthz, /readyz)\n", a)
	}
	if f, ok := o.log.(*os.File); ok {
		acct.printf("  log       %s\n", f.Name())
	}

	// The orders service publishes orders: Avro, keyed by user.
	start := time.Now()
	orderCreated, err := actors.NewKeyedProducer(rt, shop.OrdersTopic,
		func(o shop.OrderCreated) string { return "user-" + strconv.FormatInt(o.UserID, 10) },
		actors.WithSchema(shop.OrderCreatedSchema()))
	if err != nil {
		return sum, err
	}
	acct.printf("\npublishing %d orders (Avro shop.OrderCreated, keyed by user) ", o.orders)
	var (
		pubMu  sync.Mutex
		pubErr error
	)
	for i := 1; i <= o.orders; i++ {
		order := shop.OrderCreated{OrderID: int64(i), UserID: int64(i%37 + 1), Total: price(i), CreatedAt: time.Now().UTC()}
		err := orderCreated.PublishAsync(ctx, order, func(_ actors.Receipt, err error) {
			if err != nil {
				pubMu.Lock()
				pubErr = errors.Join(pubErr, err)
				pubMu.Unlock()
			}
		})
		if err != nil {
			return sum, err
		}
	}
	if err := orderCreated.Flush(ctx); err != nil {
		return sum, err
	}
	if pubErr != nil {
		return sum, pubErr
	}
	acct.printf("... acknowledged in %v\n", time.Since(start).Round(time.Millisecond))

	// A legacy storefront writes JSON where Avro is expected: a poison
	// record. payments-service dead-letters it to orders.dlq;
	// notifications logs and skips it.
	acct.printf("publishing 1 poison record to orders (JSON from a legacy storefront, where Avro is expected)\n")
	poison := &kgo.Record{Topic: shop.OrdersTopic, Key: []byte("user-0"), Value: []byte(`{"order_id":0,"total":12.5}`)}
	if err := rt.Client().ProduceSync(ctx, poison).FirstErr(); err != nil {
		return sum, err
	}

	acct.printf("registering %d users (event user.registered)\n\n", o.users)
	for i := 1; i <= o.users; i++ {
		u := shop.UserRegistered{UserID: int64(i), Email: fmt.Sprintf("user%d@example.com", i)}
		if _, err := actors.Emit(ctx, rt, shop.UserRegisteredEvent, u); err != nil {
			return sum, err
		}
	}

	// Wait for every service to finish the flow and commit it.
	adm := kadm.NewClient(rt.Client())
	groups := []string{paymentsGroup, notificationsGroup, ordersGroup, usersGroup}
	n, u := int64(o.orders), int64(o.users)
	finished := func() bool {
		paid, declined := s.settled()
		return s.charged.Load() == n && int64(paid+declined) == n && s.notified.Load() == n &&
			s.welcomed.Load() == u && s.settingsMade.Load() == u &&
			counters(rt, "actord_records_dead_lettered_total", "group")[notificationsGroup] == 1 &&
			shop.EndOffset(ctx, adm, "orders.dlq") == 1
	}
	committed := func() bool {
		for _, l := range lags(ctx, adm, groups...) {
			if l != 0 {
				return false
			}
		}
		return true
	}
	progress := func() {
		paid, declined := s.settled()
		acct.printf("  %5.1fs  charged %d/%d  settled %d/%d  notified %d/%d  users %d/%d\n",
			time.Since(start).Seconds(), s.charged.Load(), n, paid+declined, n, s.notified.Load(), n, min(s.welcomed.Load(), s.settingsMade.Load()), u)
	}
	if err := waitFor(ctx, 60*time.Second, finished, progress); err != nil {
		progress()
		return sum, fmt.Errorf("the flow did not finish: %w", err)
	}
	if err := waitFor(ctx, 15*time.Second, committed, nil); err != nil {
		return sum, fmt.Errorf("offsets not committed: %w", err)
	}
	progress()

	sum.elapsed = time.Since(start)
	sum.produced = counters(rt, "actord_records_produced_total", "topic")
	handled := counters(rt, "actord_records_handled_total", "group")
	retried := counters(rt, "actord_records_retried_total", "group")
	dead := counters(rt, "actord_records_dead_lettered_total", "group")
	lag := lags(ctx, adm, groups...)
	for _, g := range []struct{ group, topic string }{
		{paymentsGroup, shop.OrdersTopic}, {notificationsGroup, shop.OrdersTopic},
		{ordersGroup, shop.PaymentsTopic}, {usersGroup, rt.EventsTopic()},
	} {
		gs := groupSummary{group: g.group, topic: g.topic, handled: handled[g.group], retried: retried[g.group], dead: dead[g.group], lag: lag[g.group]}
		if g.group == notificationsGroup {
			gs.deadLabel = "(skipped)"
		}
		sum.groups = append(sum.groups, gs)
	}
	sum.paid, sum.declined = s.settled()
	sum.notified, sum.welcomed, sum.configs = s.notified.Load(), s.welcomed.Load(), s.settingsMade.Load()
	if sum.deadLetters, err = deadLetters(ctx, rt, "orders.dlq"); err != nil {
		return sum, err
	}
	sum.print(out)

	if o.exit {
		return sum, rt.Stop(context.Background())
	}
	fmt.Fprintf(out, "\nserving until Ctrl-C; what you send is handled and printed here. From another terminal:\n")
	fmt.Fprintf(out, "  go run ./cmd/actord topics list --brokers %s\n", addr)
	fmt.Fprintf(out, "  go run ./cmd/actord groups describe %s --brokers %s\n", paymentsGroup, addr)
	fmt.Fprintf(out, "  go run ./cmd/actord dlq list orders.dlq --brokers %s\n", addr)
	fmt.Fprintf(out, "  echo '{\"order_id\":5001,\"user_id\":7,\"total\":42.5,\"created_at\":\"2025-06-01T12:00:00Z\"}' | \\\n")
	fmt.Fprintf(out, "    go run ./cmd/actord produce orders --key user-7 --schema examples/shop/order_created.avsc --brokers %s\n", addr)
	fmt.Fprintf(out, "  echo '{\"user_id\":51,\"email\":\"ada@example.com\"}' | go run ./cmd/actord produce events --header event=user.registered --brokers %s\n", addr)
	fmt.Fprintf(out, "  kcat -b %s -C -t payments -o beginning -e -f '%%k %%s\\n'\n", addr)
	if a := rt.MetricsAddr(); a != "" {
		fmt.Fprintf(out, "  curl -s http://%s/metrics | grep '^actord_records'\n", a)
		fmt.Fprintf(out, "and in a browser, the groups' live lag and the poison record under Dead letters")
		if token != "" {
			fmt.Fprintf(out, " (replay it there)")
		}
		fmt.Fprintf(out, ":\n  %s\n", consoleURL(a, token))
	}
	acct.isLive.Store(true)
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping: draining in-flight records, committing, leaving the groups")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return sum, rt.Stop(sctx)
}

// waitFor polls cond until it holds, calling tick (when set) every
// second, until ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool, tick func()) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := time.NewTicker(25 * time.Millisecond)
	defer poll.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-report.C:
			if tick != nil {
				tick()
			}
		case <-poll.C:
		}
	}
	return nil
}
