// Package schema is actord's Avro support, on github.com/linkedin/goavro/v2:
// schemas derived from Go structs (For) or parsed from .avsc text (Parse,
// Load); validation and binary encoding that name the field a bad value is
// in; the two wire framings, Avro single-object encoding and the Confluent
// Schema Registry format; a Registry of schema versions; decoding with
// schema resolution, so a consumer reads data written with older or newer
// versions of its schema; and compatibility checks between versions.
//
// The package stands alone: it needs neither Kafka nor the actord runtime.
//
//	type OrderCreated struct {
//		OrderID string    `avro:"order_id"`
//		Total   float64   `avro:"total"`
//		At      time.Time `avro:"created_at"`
//	}
//
//	s, err := schema.For[OrderCreated]()
//	serde := schema.NewSerde(s)              // single-object framing
//	msg, err := serde.Marshal(OrderCreated{...})
//	var got OrderCreated
//	err = serde.Unmarshal(msg, &got)
//
// A reader reads a writer's record, enum or fixed type when the names match,
// by name or by one of the reader's aliases, so a derived type's Avro name
// is part of its contract with data already written. It is the Go type's
// name unless set: for the root record by options of For, and for any
// named type by its methods (Namer, Namespacer, Aliaser). A Go type renamed
// to OrderCreatedV2 still reads OrderCreated data with
//
//	schema.For[OrderCreatedV2](schema.Name("OrderCreated"), schema.Namespace("shop"))
//
// docs/avro.md lists which schema changes stay compatible.
//
// Decoding errors say what a consumer should do with the message: one
// wrapping ErrMalformed or ErrUnknownSchema, an *IncompatibleError or a
// *FieldError will fail the same way every time; only registry I/O errors,
// a *RegistryError, are worth a retry. Transient tells the two apart for a
// consumer's failure pipeline: retry when it reports true, dead-letter
// otherwise.
package schema
