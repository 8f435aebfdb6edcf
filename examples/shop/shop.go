// Package shop holds the events the example services exchange: an online
// shop whose orders, payments, notifications and users services talk over
// Kafka topics. Real services share their event types (or their .avsc
// files) the same way: the types are the contract between them.
package shop

import (
	"time"

	"github.com/actord/actord/schema"
)

// Topic names the examples use.
const (
	// OrdersTopic carries OrderCreated records, Avro-encoded, keyed by user.
	OrdersTopic = "orders"
	// PaymentsTopic carries PaymentProcessed records, JSON, keyed by order.
	PaymentsTopic = "payments"
	// UserRegisteredEvent is the named event a new user triggers.
	UserRegisteredEvent = "user.registered"
)

// OrderCreated is published to the orders topic when a customer places an
// order: the seed's order_created producer with its OrderCreatedSchema.
// Its Avro schema is derived from the struct (OrderCreatedSchema);
// order_created.avsc beside this file is the same schema for tools
// (`actord produce --schema`).
type OrderCreated struct {
	OrderID   int64     `json:"order_id"`
	UserID    int64     `json:"user_id"`
	Total     float64   `json:"total"`
	CreatedAt time.Time `json:"created_at"`
}

// AvroNamespace puts the derived record in the shop namespace
// (shop.OrderCreated): readers match records by full name.
func (OrderCreated) AvroNamespace() string { return "shop" }

// OrderCreatedSchema is the Avro schema of OrderCreated, derived from the
// struct.
func OrderCreatedSchema() *schema.Schema {
	s, err := schema.For[OrderCreated]()
	if err != nil {
		panic(err) // a programming error: the struct does not map to Avro
	}
	return s
}

// PaymentProcessed is published to the payments topic by the payments
// service once it has charged (or failed to charge) an order.
type PaymentProcessed struct {
	OrderID int64   `json:"order_id"`
	Amount  float64 `json:"amount"`
	// Status is "success" or "declined".
	Status string `json:"status"`
}

// Payment statuses.
const (
	PaymentSuccess  = "success"
	PaymentDeclined = "declined"
)

// UserRegistered is the payload of the user.registered event.
type UserRegistered struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
}
