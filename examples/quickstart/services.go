package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/schema"
)

// The shop's services. In production each is its own process with its
// own runtime; here they share one runtime (one embedded broker, one
// metrics endpoint) and are still separate consumer groups, each getting
// every record of the topics it reads.
const (
	paymentsGroup      = "payments-service"
	notificationsGroup = "notifications"
	ordersGroup        = "orders-service"
	usersGroup         = "users-service" // the event router's group
)

// cardLimit: the payment gateway declines orders above it.
const cardLimit = 400

// gatewayTimesOut says whether charging order id times out on its first
// attempt: 1 order in 40.
func gatewayTimesOut(id int64) bool { return id%40 == 13 }

// settingsBusy says whether the settings store is busy on the first try
// for user id: 1 user in 25.
func settingsBusy(id int64) bool { return id%25 == 7 }

// OrderCreated is the notifications service's view of shop.OrderCreated
// (its Avro reader schema): only the fields it reads.
type OrderCreated struct {
	OrderID int64 `json:"order_id"`
	UserID  int64 `json:"user_id"`
}

// AvroNamespace matches the writer's full name, shop.OrderCreated.
func (OrderCreated) AvroNamespace() string { return "shop" }

// shopState is what the services did: the orders service's database, the
// mailbox of the notifications and users services, and counters.
type shopState struct {
	acct *account

	charged, notified, welcomed, settingsMade atomic.Int64
	gatewayRetries, settingsRetries           atomic.Int64

	mu     sync.Mutex
	orders map[int64]string // order ID -> "paid" or "declined"
}

func (s *shopState) settle(id int64, status string) (first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, done := s.orders[id]; done {
		return false // a redelivered payment result changes nothing
	}
	s.orders[id] = status
	return true
}

func (s *shopState) settled() (paid, declined int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.orders {
		if st == shop.PaymentSuccess {
			paid++
		} else {
			declined++
		}
	}
	return paid, declined
}

// declareServices registers every service's consumers and event handlers
// on rt.
func declareServices(rt *actors.Runtime, s *shopState) error {
	orderSchema := shop.OrderCreatedSchema()

	// payments-service: charge each order, publish the result.
	paymentProcessed, err := actors.NewKeyedProducer(rt, shop.PaymentsTopic,
		func(p shop.PaymentProcessed) string { return strconv.FormatInt(p.OrderID, 10) })
	if err != nil {
		return err
	}
	err = actors.Consume(rt, shop.OrdersTopic, paymentsGroup, func(ctx context.Context, m actors.Message[shop.OrderCreated]) error {
		o := m.Value
		if gatewayTimesOut(o.OrderID) && m.Attempt == 1 {
			s.gatewayRetries.Add(1)
			s.acct.sample("payments", "gateway timeout charging order #%d (attempt 1): retrying", o.OrderID)
			return actors.Retry(errors.New("payment gateway timeout"))
		}
		status := shop.PaymentSuccess
		if o.Total > cardLimit {
			status = shop.PaymentDeclined
		}
		if _, err := paymentProcessed.Publish(ctx, shop.PaymentProcessed{OrderID: o.OrderID, Amount: o.Total, Status: status}); err != nil {
			return err // retried
		}
		s.charged.Add(1)
		if m.Attempt > 1 {
			s.acct.sample("payments", "order #%d charged on attempt %d: %s", o.OrderID, m.Attempt, status)
		}
		s.acct.live("payments", "order #%d (user %d) charged %.2f: %s", o.OrderID, o.UserID, o.Total, status)
		return nil
	},
		actors.WithSchema(orderSchema),
		actors.Ordering(actors.ByKey), actors.Concurrency(8),
		actors.MaxRetries(3), actors.Backoff(50*time.Millisecond, time.Second))
	if err != nil {
		return err
	}

	// notifications: read orders with its own reader schema; a missed
	// notification is not worth a dead letter, so what it cannot read is
	// logged and skipped (the seed's log-and-skip).
	reader, err := schema.For[OrderCreated]()
	if err != nil {
		return err
	}
	err = actors.Consume(rt, shop.OrdersTopic, notificationsGroup, func(ctx context.Context, m actors.Message[OrderCreated]) error {
		s.notified.Add(1)
		s.acct.sample("notifications", "to user %d: Order #%d confirmed!", m.Value.UserID, m.Value.OrderID)
		return nil
	}, actors.WithSchema(reader), actors.NoDeadLetter())
	if err != nil {
		return err
	}

	// orders-service: mark orders paid (or declined) from the payment
	// results, in its own group.
	err = actors.Consume(rt, shop.PaymentsTopic, ordersGroup, func(ctx context.Context, m actors.Message[shop.PaymentProcessed]) error {
		p := m.Value
		if s.settle(p.OrderID, p.Status) {
			s.acct.live("orders", "order #%d %s", p.OrderID, map[string]string{shop.PaymentSuccess: "paid", shop.PaymentDeclined: "payment declined"}[p.Status])
		}
		return nil
	})
	if err != nil {
		return err
	}

	// users-service: user.registered fanned out to two event actors.
	err = actors.On(rt, shop.UserRegisteredEvent, func(ctx context.Context, m actors.Message[shop.UserRegistered]) error {
		s.welcomed.Add(1)
		s.acct.sample("mailer", "welcome mail to %s", m.Value.Email)
		return nil
	})
	if err != nil {
		return err
	}
	return actors.On(rt, shop.UserRegisteredEvent, func(ctx context.Context, m actors.Message[shop.UserRegistered]) error {
		u := m.Value
		if settingsBusy(u.UserID) && m.Attempt == 1 {
			s.settingsRetries.Add(1)
			s.acct.sample("settings", "store busy for user %d (attempt 1): retrying", u.UserID)
			return actors.Retry(fmt.Errorf("settings store busy"))
		}
		s.settingsMade.Add(1)
		s.acct.live("settings", "default settings for user %d", u.UserID)
		return nil
	}, actors.MaxRetries(5), actors.Backoff(50*time.Millisecond, time.Second))
}
