package schema

import "time"

// The order the tests, the fuzz target and the benchmarks share: a
// realistic event with a nested record, an array of records, an enum, a
// map, a timestamp and optional fields.

type Status string

func (Status) AvroSymbols() []string { return []string{"NEW", "PAID", "SHIPPED"} }

type Address struct {
	Street   string `avro:"street"`
	City     string `avro:"city"`
	Postcode string `avro:"postcode"`
	Country  string `avro:"country"`
}

type LineItem struct {
	SKU       string  `avro:"sku"`
	Quantity  int32   `avro:"quantity"`
	UnitPrice float64 `avro:"unit_price"`
}

type Order struct {
	OrderID    string `avro:"order_id"`
	CustomerID string `json:"customer_id"`
	CreatedAt  time.Time
	Status     Status
	Items      []LineItem
	Total      float64
	Currency   string
	Shipping   *Address
	Tags       map[string]string
	Note       *string
}

func (Order) AvroNamespace() string { return "shop" }

func sampleOrder() Order {
	note := "leave at the door"
	return Order{
		OrderID:    "ord-7f3a9c",
		CustomerID: "cus-1024",
		CreatedAt:  time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC),
		Status:     "PAID",
		Items: []LineItem{
			{SKU: "BOOK-0001", Quantity: 2, UnitPrice: 12.5},
			{SKU: "MUG-0042", Quantity: 1, UnitPrice: 9.99},
			{SKU: "PEN-0007", Quantity: 10, UnitPrice: 1.2},
		},
		Total:    46.99,
		Currency: "EUR",
		Shipping: &Address{Street: "1 Rue de la Paix", City: "Paris", Postcode: "75002", Country: "FR"},
		Tags:     map[string]string{"channel": "web", "promo": "SPRING"},
		Note:     &note,
	}
}
