package actors_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/schema"
)

type orderV1 struct {
	OrderID int64   `avro:"order_id"`
	UserID  int64   `avro:"user_id"`
	Total   float64 `avro:"total"`
}

// OrderCreated, version 2: a field added with a default.
type orderV2 struct {
	OrderID  int64   `avro:"order_id"`
	UserID   int64   `avro:"user_id"`
	Total    float64 `avro:"total"`
	Currency string  `avro:"currency" avroDefault:"\"EUR\""`
}

// mustSchema derives T's schema.
func mustSchema[T any](t *testing.T) *schema.Schema {
	t.Helper()
	s, err := schema.For[T]()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A typed producer with a schema to a typed consumer with a newer schema,
// through the broker: single-object encoding, then resolution.
func TestAvroProducerToConsumerWithEvolution(t *testing.T) {
	for _, registry := range []bool{false, true} {
		name := "single-object"
		if registry {
			name = "confluent"
		}
		t.Run(name, func(t *testing.T) {
			b := actortest.Broker(t)
			actortest.CreateTopic(t, b, "orders", 1)
			var opts []actors.RuntimeOption
			if registry {
				opts = append(opts, actors.WithSchemaRegistry(schema.NewMemoryRegistry()))
			}
			rt := actortest.Runtime(t, b, opts...)
			// Version 2 of the same record (same Avro name), one field added.
			v1 := mustSchema[orderV1](t)
			v2 := schema.MustParse(`{"type":"record","name":"orderV1","fields":[
				{"name":"order_id","type":"long"},{"name":"user_id","type":"long"},
				{"name":"total","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}`)
			var mu sync.Mutex
			var got []orderV2
			if err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[orderV2]) error {
				mu.Lock()
				got = append(got, m.Value)
				mu.Unlock()
				return nil
			}, actors.WithSchema(v2)); err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			p, err := actors.NewProducer[orderV1](rt, "orders", actors.WithSchema(v1))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Publish(context.Background(), orderV1{OrderID: 123, UserID: 456, Total: 99.99}); err != nil {
				t.Fatal(err)
			}
			actortest.Eventually(t, 20*time.Second, "record decoded", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) == 1
			})
			want := orderV2{OrderID: 123, UserID: 456, Total: 99.99, Currency: "EUR"}
			if got[0] != want {
				t.Fatalf("got %+v, want %+v", got[0], want)
			}
			raw := actortest.ReadTopic(t, b, "orders", 1)[0].Value
			if registry && raw[0] != 0x00 || !registry && (raw[0] != 0xC3 || raw[1] != 0x01) {
				t.Fatalf("framing bytes % x", raw[:5])
			}
		})
	}
}

// A value that does not fit the schema is an error naming the field, and
// nothing is produced; a record that is not Avro is a poison record.
func TestAvroValidationAndPoison(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	rt := actortest.Runtime(t, b)
	s := schema.MustParse(`{"type":"record","name":"Order","fields":[
		{"name":"order_id","type":"long"},
		{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}}]}`)
	var handled sync.WaitGroup
	handled.Add(1)
	if err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[map[string]any]) error {
		handled.Done()
		return nil
	}, actors.WithSchema(s), fastRetries()); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, _ := actors.NewProducer[map[string]any](rt, "orders", actors.WithSchema(s))
	_, err := p.Publish(context.Background(), map[string]any{"order_id": 1, "status": "LOST"})
	if err == nil || !strings.Contains(err.Error(), "status") {
		t.Fatalf("bad enum symbol: err = %v", err)
	}
	_, err = p.Publish(context.Background(), map[string]any{"status": "NEW"})
	if err == nil || !strings.Contains(err.Error(), "order_id") {
		t.Fatalf("missing field: err = %v", err)
	}
	if e := actortest.EndOffsets(t, b, "orders")[0]; e != 0 {
		t.Fatalf("invalid values produced %d records", e)
	}
	// A JSON record on an Avro topic: dead-lettered at once, never retried.
	actortest.Produce(t, b, "orders", actortest.Value(`{"order_id":1}`))
	if _, err := p.Publish(context.Background(), map[string]any{"order_id": 2, "status": "PAID"}); err != nil {
		t.Fatal(err)
	}
	dl := actortest.ReadTopic(t, b, "orders.dlq", 1)[0]
	if header(dl, "actord.dlq.attempts") != "1" || !strings.Contains(header(dl, "actord.dlq.error"), "cannot decode") {
		t.Fatalf("poison dead letter headers: %v", dl.Headers)
	}
	handled.Wait()
	var fe *schema.FieldError
	_, err = p.Publish(context.Background(), map[string]any{"order_id": "x", "status": "NEW"})
	if !errors.As(err, &fe) {
		t.Fatalf("wrong type: err = %v, want a *schema.FieldError", err)
	}
}
