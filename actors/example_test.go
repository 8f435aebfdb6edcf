package actors_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/topics"
)

// embedded starts the embedded broker in-process on a free port: the
// examples' cluster. A service passes its own cluster's addresses to
// actors.Brokers instead.
func embedded() *broker.Broker {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		panic(err)
	}
	return b
}

func quiet() actors.RuntimeOption {
	return actors.WithLogger(slog.New(slog.DiscardHandler))
}

// A typed consumer with retries: the seed's @consumer(topic, group,
// max_retries=3) and ConsumerError("Retry").
func ExampleConsume() {
	b := embedded()
	defer b.Close()
	rt, err := actors.New(actors.Brokers(b.Addr()), actors.CommitInterval(100*time.Millisecond), quiet())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	actors.DeclareTopic(rt, topics.Topic{Name: "orders", Partitions: 1})

	type OrderCreated struct {
		OrderID int     `json:"order_id"`
		Total   float64 `json:"total"`
	}
	done := make(chan struct{})
	actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[OrderCreated]) error {
		if m.Attempt == 1 {
			return actors.Retry(errors.New("payment service busy"))
		}
		fmt.Printf("order %d (%.2f) handled on attempt %d\n", m.Value.OrderID, m.Value.Total, m.Attempt)
		close(done)
		return nil
	}, actors.MaxRetries(3), actors.Backoff(10*time.Millisecond, time.Second))
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	orders, _ := actors.NewProducer[OrderCreated](rt, "orders")
	if _, err := orders.Publish(ctx, OrderCreated{OrderID: 123, Total: 99.99}); err != nil {
		panic(err)
	}
	<-done
	rt.Stop(ctx)
	// Output: order 123 (99.99) handled on attempt 2
}

// A producer of typed values: the seed's @producer(topic="orders").
func ExampleNewProducer() {
	b := embedded()
	defer b.Close()
	rt, err := actors.New(actors.Brokers(b.Addr()), actors.CommitInterval(100*time.Millisecond), quiet())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	defer rt.Stop(ctx)
	actors.DeclareTopic(rt, topics.Topic{Name: "orders", Partitions: 3})
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	type OrderCreated struct {
		Event   string `json:"event"`
		OrderID int    `json:"order_id"`
		UserID  int    `json:"user_id"`
	}
	orders, _ := actors.NewKeyedProducer(rt, "orders", func(o OrderCreated) string { return fmt.Sprint(o.UserID) })
	first, _ := orders.Publish(ctx, OrderCreated{Event: "order.created", OrderID: 1, UserID: 456})
	second, _ := orders.Publish(ctx, OrderCreated{Event: "order.created", OrderID: 2, UserID: 456})
	fmt.Println("same partition:", first.Partition == second.Partition)
	fmt.Println("next offset:", second.Offset == first.Offset+1)
	// Output:
	// same partition: true
	// next offset: true
}

// Named events fan out to every handler registered for the name: the
// seed's @event("user.registered").
func ExampleOn() {
	b := embedded()
	defer b.Close()
	rt, err := actors.New(actors.Brokers(b.Addr()), actors.CommitInterval(100*time.Millisecond), quiet())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	type UserRegistered struct {
		UserID int    `json:"user_id"`
		Email  string `json:"email"`
	}
	var wg sync.WaitGroup
	wg.Add(2)
	var mu sync.Mutex
	var did []string
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[UserRegistered]) error {
		mu.Lock()
		did = append(did, "welcome email to "+m.Value.Email)
		mu.Unlock()
		wg.Done()
		return nil
	})
	actors.On(rt, "user.registered", func(ctx context.Context, m actors.Message[UserRegistered]) error {
		mu.Lock()
		did = append(did, fmt.Sprintf("default settings for user %d", m.Value.UserID))
		mu.Unlock()
		wg.Done()
		return nil
	})
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	actors.Emit(ctx, rt, "user.registered", UserRegistered{UserID: 7, Email: "ada@example.com"})
	wg.Wait()
	rt.Stop(ctx)
	fmt.Println(len(did), "handlers ran")
	// Output: 2 handlers ran
}
