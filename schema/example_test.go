package schema_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/actord/actord/schema"
)

type OrderCreated struct {
	OrderID string    `avro:"order_id"`
	Amount  int64     `avro:"amount"`
	At      time.Time `avro:"created_at"`
	Coupon  *string   `avro:"coupon"`
}

func ExampleFor() {
	s, err := schema.For[OrderCreated]()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)
	// Output:
	// {"type":"record","name":"OrderCreated","fields":[{"name":"order_id","type":"string"},{"name":"amount","type":"long"},{"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"coupon","type":["null","string"],"default":null}]}
}

func ExampleSerde() {
	s, _ := schema.For[OrderCreated]()
	serde := schema.NewSerde(s)
	msg, err := serde.Marshal(OrderCreated{OrderID: "o-1", Amount: 4200, At: time.UnixMilli(0).UTC()})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", msg[:2])
	var back OrderCreated
	if err := serde.Unmarshal(msg, &back); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.OrderID, back.Amount, back.Coupon == nil)

	// A value that does not fit names its field.
	_, err = serde.Marshal(map[string]any{"order_id": "o-2", "amount": "lots", "created_at": time.Now()})
	var fe *schema.FieldError
	fmt.Println(errors.As(err, &fe), err)
	// Output:
	// c3 01
	// o-1 4200 true
	// true OrderCreated.amount: want long, got Go string
}

func ExampleCompatible() {
	v1 := schema.MustParse(`{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}`)
	v2 := schema.MustParse(`{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},
		{"name":"total","type":"long"}]}`)
	fmt.Println(schema.Compatible(v1, v2, schema.Forward))
	fmt.Println(schema.Compatible(v1, v2, schema.Backward))
	// Output:
	// []
	// [Order.total: field has no default in the new schema and is missing from the old schema]
}

// A reader type with another Go name reads data written by OrderCreated
// once it names the record it reads.
func ExampleName() {
	type OrderCreatedV2 struct {
		OrderID  string `avro:"order_id"`
		Amount   int64  `avro:"amount"`
		Currency string `avro:"currency" avroDefault:"\"EUR\""`
	}
	writer, _ := schema.For[OrderCreated]()
	msg, _ := schema.NewSerde(writer).Marshal(OrderCreated{OrderID: "o-1", Amount: 4200, At: time.UnixMilli(0)})

	for _, opts := range [][]schema.ForOption{
		nil,                              // named OrderCreatedV2: no match
		{schema.Name("OrderCreated")},    // by name
		{schema.Aliases("OrderCreated")}, // by alias
	} {
		reader, err := schema.For[OrderCreatedV2](opts...)
		if err != nil {
			fmt.Println(err)
			return
		}
		var got OrderCreatedV2
		err = schema.NewSerde(reader, schema.WithWriterSchemas(writer)).Unmarshal(msg, &got)
		var ie *schema.IncompatibleError
		fmt.Printf("%s: %+v incompatible=%v\n", reader.Name(), got, errors.As(err, &ie))
	}
	// Output:
	// OrderCreatedV2: {OrderID: Amount:0 Currency:} incompatible=true
	// OrderCreated: {OrderID:o-1 Amount:4200 Currency:EUR} incompatible=false
	// OrderCreatedV2: {OrderID:o-1 Amount:4200 Currency:EUR} incompatible=false
}
