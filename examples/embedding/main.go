// Command embedding is a service that embeds actord's actor system rather
// than only registering handler functions. It spawns an actor of its own,
// a stock keeper that owns the inventory (no locks: one actor, one
// mailbox), on the runtime's protoactor system (rt.System()). Its order
// handlers are actors too, built by the service (actors.ConsumeWith with
// its own props) and spawned by the runtime for each partition: each
// receives *actors.Delivery, asks the stock keeper to reserve the items
// and reports the outcome with Done. An order the stock cannot cover is a
// permanent failure: it goes to the backorders topic (the consumer's
// dead-letter topic) for a later restock to replay.
//
//	go run ./examples/embedding
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
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/topics"
)

// Order is this example's record, JSON-encoded.
type Order struct {
	OrderID int64  `json:"order_id"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
}

const (
	ordersTopic     = "orders"
	backordersTopic = "orders.backorder"
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process)")
	flag.Parse()
	if err := start(*brokers); err != nil {
		fmt.Fprintln(os.Stderr, "embedding:", err)
		os.Exit(1)
	}
}

// start runs the service against brokers or, when none are given, on an
// embedded broker it starts in-process on a free port and closes once the
// runtime has stopped.
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

// The stock keeper's protocol.
type (
	// reserve asks for qty of sku; the answer is a *reservation.
	reserve struct {
		sku string
		qty int
	}
	reservation struct {
		ok   bool
		left int
	}
	// stockLevels asks for a copy of the levels; the answer is a map.
	stockLevels struct{}
)

// stockKeeper is the service's own actor: it owns the stock levels.
type stockKeeper struct{ stock map[string]int }

func (s *stockKeeper) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *reserve:
		if s.stock[m.sku] < m.qty {
			c.Respond(&reservation{ok: false, left: s.stock[m.sku]})
			return
		}
		s.stock[m.sku] -= m.qty
		c.Respond(&reservation{ok: true, left: s.stock[m.sku]})
	case *stockLevels:
		levels := make(map[string]int, len(s.stock))
		for k, v := range s.stock {
			levels[k] = v
		}
		c.Respond(levels)
	}
}

// orderHandler is the handler actor the runtime spawns from the service's
// props: it gets one *actors.Delivery per attempt and must call Done once.
type orderHandler struct {
	stock *actor.PID
	log   *fulfilmentLog
}

func (h *orderHandler) Receive(c actor.Context) {
	d, ok := c.Message().(*actors.Delivery)
	if !ok {
		return // lifecycle messages (Started, Stopping...)
	}
	var o Order
	if err := json.Unmarshal(d.Record.Value, &o); err != nil {
		d.Done(actors.Permanent(err)) // a poison record: dead-lettered
		return
	}
	res, err := c.RequestFuture(h.stock, &reserve{sku: o.SKU, qty: o.Qty}, time.Second).Result()
	if err != nil {
		d.Done(actors.Retry(err)) // the stock keeper did not answer in time: try again
		return
	}
	r := res.(*reservation)
	if !r.ok {
		h.log.add(fmt.Sprintf("order %d: %d x %s backordered (%d left)", o.OrderID, o.Qty, o.SKU, r.left), false)
		d.Done(actors.Permanent(fmt.Errorf("order %d: only %d %s in stock", o.OrderID, r.left, o.SKU)))
		return
	}
	h.log.add(fmt.Sprintf("order %d: %d x %s reserved (%d left)", o.OrderID, o.Qty, o.SKU, r.left), true)
	d.Done(nil)
}

// fulfilmentLog is the account of what the handlers did.
type fulfilmentLog struct {
	out                   io.Writer
	mu                    sync.Mutex
	reserved, backordered int
	want                  int
	complete              chan struct{}
}

func (l *fulfilmentLog) add(line string, reserved bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.out, "  "+line)
	if reserved {
		l.reserved++
	} else {
		l.backordered++
	}
	if l.reserved+l.backordered == l.want {
		close(l.complete)
	}
}

type result struct {
	reserved, backordered int
	stock                 map[string]int
}

// run is the service on the cluster at brokers, fed seven orders.
func run(ctx context.Context, brokers string, out io.Writer) (result, error) {
	log := slog.New(slog.DiscardHandler)
	rt, err := actors.New(shop.RuntimeOptions("fulfilment", brokers, log)...)
	if err != nil {
		return result{}, err
	}
	defer rt.Stop(context.Background())

	// The service's own actor, on the runtime's actor system.
	sys := rt.System()
	stock, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &stockKeeper{stock: map[string]int{"widget": 5, "gadget": 2}}
	}), "stock-keeper")
	if err != nil {
		return result{}, err
	}

	orders := []Order{
		{1, "widget", 2}, {2, "gadget", 1}, {3, "widget", 2}, {4, "gadget", 3},
		{5, "widget", 1}, {6, "widget", 1}, {7, "gadget", 1},
	}
	flog := &fulfilmentLog{out: out, want: len(orders), complete: make(chan struct{})}

	// Handler actors built by the service: the runtime spawns them per
	// partition from these props, under its supervisor.
	props := actor.PropsFromProducer(func() actor.Actor { return &orderHandler{stock: stock, log: flog} })
	if err := actors.DeclareTopic(rt, topics.Topic{Name: ordersTopic, Partitions: 1}); err != nil {
		return result{}, err
	}
	if err := actors.ConsumeWith(rt, ordersTopic, "fulfilment", props, actors.DeadLetterTopic(backordersTopic)); err != nil {
		return result{}, err
	}
	if err := rt.Start(ctx); err != nil {
		return result{}, err
	}
	fmt.Fprintf(out, "stock keeper actor %q; handler actors consuming %q in group fulfilment\n", stock.Id, ordersTopic)

	p, err := actors.NewProducer[Order](rt, ordersTopic)
	if err != nil {
		return result{}, err
	}
	for _, o := range orders {
		if _, err := p.Publish(ctx, o); err != nil {
			return result{}, err
		}
	}
	select {
	case <-flog.complete:
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-time.After(30 * time.Second):
		return result{}, errors.New("timed out waiting for the orders")
	}
	levels, err := sys.Root.RequestFuture(stock, &stockLevels{}, time.Second).Result()
	if err != nil {
		return result{}, err
	}
	if err := rt.Stop(context.Background()); err != nil { // drains: the backorder writes are acknowledged
		return result{}, err
	}
	res := result{reserved: flog.reserved, backordered: flog.backordered, stock: levels.(map[string]int)}
	fmt.Fprintf(out, "%d reserved, %d backordered to %s; stock left %v\n", res.reserved, res.backordered, backordersTopic, res.stock)
	return res, nil
}
