package schema

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// evolve writes value with the writer schema and reads it back into out
// with the reader schema through a Serde, both ways a reader finds the
// writer: single-object by fingerprint (WithWriterSchemas) and Confluent
// by registry id. It returns the error of each read.
func evolve(t *testing.T, writerJSON string, value any, reader *Schema, out func() any) (single, confluent any, errSingle, errConfluent error) {
	t.Helper()
	writer := MustParse(writerJSON)
	msg, err := NewSerde(writer).Marshal(value)
	if err != nil {
		t.Fatalf("marshal with writer: %v", err)
	}
	single = out()
	errSingle = NewSerde(reader, WithWriterSchemas(writer)).Unmarshal(msg, single)

	reg := NewMemoryRegistry()
	cmsg, err := NewSerde(writer, WithRegistry(reg, "events-value")).Marshal(value)
	if err != nil {
		t.Fatalf("marshal with registry: %v", err)
	}
	confluent = out()
	errConfluent = NewSerde(reader, WithRegistry(reg, "events-value")).Unmarshal(cmsg, confluent)
	return single, confluent, errSingle, errConfluent
}

func mustFor[T any](t *testing.T) *Schema {
	t.Helper()
	s, err := For[T]()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkEvolve asserts both reads succeed and give want.
func checkEvolve(t *testing.T, writerJSON string, value any, reader *Schema, out func() any, want any) {
	t.Helper()
	single, confluent, err1, err2 := evolve(t, writerJSON, value, reader, out)
	for i, got := range []any{single, confluent} {
		err := []error{err1, err2}[i]
		how := []string{"single-object", "confluent"}[i]
		if err != nil {
			t.Errorf("%s: %v", how, err)
			continue
		}
		if g := reflect.ValueOf(got).Elem().Interface(); !reflect.DeepEqual(g, want) {
			t.Errorf("%s: got %+v, want %+v", how, g, want)
		}
	}
}

func TestAvroEvolutionAddFieldWithDefault(t *testing.T) {
	type Event struct {
		ID       string  `avro:"id"`
		Currency string  `avro:"currency" avroDefault:"\"EUR\""`
		Note     *string `avro:"note"`
		Count    int     `avro:"count" avroDefault:"3"`
	}
	checkEvolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`,
		map[string]any{"id": "e1"}, mustFor[Event](t), func() any { return new(Event) },
		Event{ID: "e1", Currency: "EUR", Count: 3})
}

func TestAvroEvolutionRemoveField(t *testing.T) {
	type Event struct {
		ID string `avro:"id"`
	}
	checkEvolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"},
		{"name":"legacy","type":{"type":"array","items":{"type":"record","name":"Old","fields":[{"name":"x","type":"long"}]}}},
		{"name":"gone","type":["null","string"],"default":null}]}`,
		map[string]any{"id": "e1", "legacy": []any{map[string]any{"x": 1}}, "gone": "bye"},
		mustFor[Event](t), func() any { return new(Event) }, Event{ID: "e1"})
}

func TestAvroEvolutionRenameWithAlias(t *testing.T) {
	type Event struct {
		ID     string `avro:"id"`
		Client string `avro:"client" avroAliases:"customer"`
	}
	checkEvolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"},{"name":"customer","type":"string"}]}`,
		map[string]any{"id": "e1", "customer": "c-9"}, mustFor[Event](t), func() any { return new(Event) },
		Event{ID: "e1", Client: "c-9"})
	// A record renamed, with the old name as an alias.
	reader := MustParse(`{"type":"record","name":"shop.Happening","aliases":["Event"],"fields":[{"name":"id","type":"string"}]}`)
	type Happening struct {
		ID string `avro:"id"`
	}
	checkEvolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`,
		map[string]any{"id": "e2"}, reader, func() any { return new(Happening) }, Happening{ID: "e2"})
}

func TestAvroEvolutionPromotion(t *testing.T) {
	type Event struct {
		Quantity int64   `avro:"quantity"` // int -> long
		Price    float64 `avro:"price"`    // float -> double
		Weight   float64 `avro:"weight"`   // long -> double
		Ratio    float32 `avro:"ratio"`    // int -> float
		Raw      []byte  `avro:"raw"`      // string -> bytes
		Label    string  `avro:"label"`    // bytes -> string
		Maybe    *int64  `avro:"maybe"`    // long -> ["null","long"]
	}
	checkEvolve(t, `{"type":"record","name":"Event","fields":[
		{"name":"quantity","type":"int"},{"name":"price","type":"float"},{"name":"weight","type":"long"},
		{"name":"ratio","type":"int"},{"name":"raw","type":"string"},{"name":"label","type":"bytes"},
		{"name":"maybe","type":"long"}]}`,
		map[string]any{"quantity": 2147483647, "price": 1.5, "weight": 1 << 40, "ratio": 3, "raw": "ab", "label": []byte("xy"), "maybe": 5},
		mustFor[Event](t), func() any { return new(Event) },
		Event{Quantity: 2147483647, Price: 1.5, Weight: 1 << 40, Ratio: 3, Raw: []byte("ab"), Label: "xy", Maybe: ptr(int64(5))})
}

func ptr[T any](v T) *T { return &v }

func TestAvroEvolutionEnumDefault(t *testing.T) {
	writer := `{"type":"record","name":"Event","fields":[{"name":"status","type":
		{"type":"enum","name":"Status","symbols":["NEW","PAID","REFUNDED"]}}]}`
	reader := MustParse(`{"type":"record","name":"Event","fields":[{"name":"status","type":
		{"type":"enum","name":"Status","symbols":["UNKNOWN","NEW","PAID"],"default":"UNKNOWN"}}]}`)
	type Event struct {
		Status string `avro:"status"`
	}
	checkEvolve(t, writer, map[string]any{"status": "REFUNDED"}, reader, func() any { return new(Event) }, Event{Status: "UNKNOWN"})
	checkEvolve(t, writer, map[string]any{"status": "PAID"}, reader, func() any { return new(Event) }, Event{Status: "PAID"})
}

func TestAvroEvolutionNestedRecords(t *testing.T) {
	type Item struct {
		SKU string `avro:"sku"`
		Qty int32  `avro:"qty" avroDefault:"1"`
	}
	type Event struct {
		Items []Item          `avro:"items"`
		ByKey map[string]Item `avro:"by_key"`
	}
	writer := `{"type":"record","name":"Event","fields":[
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}}},
		{"name":"by_key","type":{"type":"map","values":"Item"}}]}`
	checkEvolve(t, writer, map[string]any{
		"items":  []any{map[string]any{"sku": "a"}, map[string]any{"sku": "b"}},
		"by_key": map[string]any{"k": map[string]any{"sku": "c"}},
	}, mustFor[Event](t), func() any { return new(Event) },
		Event{Items: []Item{{"a", 1}, {"b", 1}}, ByKey: map[string]Item{"k": {"c", 1}}})
}

func TestAvroEvolutionIncompatible(t *testing.T) {
	type Event struct {
		ID     string `avro:"id"`
		Amount int64  `avro:"amount"` // required, and the writer lacks it
	}
	_, _, err1, err2 := evolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`,
		map[string]any{"id": "e1"}, mustFor[Event](t), func() any { return new(Event) })
	for _, err := range []error{err1, err2} {
		var ie *IncompatibleError
		if !errors.As(err, &ie) || ie.Path != "Event.amount" || !strings.Contains(ie.Reason, "no default") {
			t.Errorf("missing field without default: %v, want *IncompatibleError at Event.amount", err)
		}
	}

	type Typed struct {
		ID int64 `avro:"id"`
	}
	_, _, err1, _ = evolve(t, `{"type":"record","name":"Typed","fields":[{"name":"id","type":"string"}]}`,
		map[string]any{"id": "e1"}, mustFor[Typed](t), func() any { return new(Typed) })
	var ie *IncompatibleError
	if !errors.As(err1, &ie) || ie.Path != "Typed.id" || !strings.Contains(ie.Reason, "string in the writer's schema cannot be read as long in the reader's schema") {
		t.Errorf("string to long: %v", err1)
	}

	// An enum symbol the reader lacks, without an enum default: only the
	// records that carry it fail.
	writer := `{"type":"record","name":"Event","fields":[{"name":"status","type":
		{"type":"enum","name":"Status","symbols":["NEW","REFUNDED"]}}]}`
	reader := MustParse(`{"type":"record","name":"Event","fields":[{"name":"status","type":
		{"type":"enum","name":"Status","symbols":["NEW"]}}]}`)
	type Plain struct {
		Status string `avro:"status"`
	}
	_, _, err1, _ = evolve(t, writer, map[string]any{"status": "REFUNDED"}, reader, func() any { return new(Plain) })
	if !errors.As(err1, &ie) || ie.Path != "Event.status" || !strings.Contains(ie.Reason, `symbol "REFUNDED"`) {
		t.Errorf("unknown symbol: %v", err1)
	}
	checkEvolve(t, writer, map[string]any{"status": "NEW"}, reader, func() any { return new(Plain) }, Plain{Status: "NEW"})

	// Different record names do not resolve.
	type Other struct {
		ID string `avro:"id"`
	}
	_, _, err1, _ = evolve(t, `{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`,
		map[string]any{"id": "x"}, mustFor[Other](t), func() any { return new(Other) })
	if !errors.As(err1, &ie) || !strings.Contains(ie.Reason, "record Event in the writer's schema is not record Other") {
		t.Errorf("renamed record without alias: %v", err1)
	}
}

func TestAvroSerdeUnknownWriter(t *testing.T) {
	writer := MustParse(`{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`)
	msg, _ := NewSerde(writer).Marshal(map[string]any{"id": "x"})
	reader := MustParse(`{"type":"record","name":"Event","fields":[{"name":"id","type":"string"},{"name":"n","type":"int","default":0}]}`)
	var m map[string]any
	if err := NewSerde(reader).Unmarshal(msg, &m); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("unknown fingerprint: %v, want ErrUnknownSchema", err)
	}
	// A registry that has seen the writer finds it by fingerprint.
	reg := NewMemoryRegistry()
	if _, err := reg.Register(context.Background(), "events-value", writer); err != nil {
		t.Fatal(err)
	}
	if err := NewSerde(reader, WithRegistry(reg, "events-value")).Unmarshal(msg, &m); err != nil || m["n"] != int32(0) {
		t.Errorf("by registry fingerprint: %v %v", m, err)
	}
	if err := NewSerde(reader).Unmarshal([]byte("{}"), &m); !errors.Is(err, ErrMalformed) {
		t.Errorf("not framed: %v, want ErrMalformed", err)
	}
}

func TestAvroForEnumDefault(t *testing.T) {
	type Event struct {
		Stage stage `avro:"stage"`
	}
	s := mustFor[Event](t)
	if want := `{"type":"enum","name":"stage","symbols":["UNKNOWN","OPEN"],"default":"UNKNOWN"}`; !strings.Contains(s.String(), want) {
		t.Errorf("For with EnumDefault: %s, want it to contain %s", s, want)
	}
}

type stage string

func (stage) AvroSymbols() []string   { return []string{"UNKNOWN", "OPEN"} }
func (stage) AvroEnumDefault() string { return "UNKNOWN" }

// TestAvroEvolutionOrderV0 reads a whole order written with an older
// version of the schema (float prices, fewer enum symbols, a field since
// dropped) into today's Order type.
func TestAvroEvolutionOrderV0(t *testing.T) {
	v0 := MustParse(orderV0)
	order := orderSchema(t)
	at := time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	msg, err := NewSerde(v0).Marshal(map[string]any{
		"order_id": "o-1", "customer_id": "c-1", "created_at": at, "status": "PAID",
		"items": []any{map[string]any{"sku": "s", "quantity": 3, "unit_price": 2.5}},
		"total": 7.5, "currency": "EUR",
		"shipping": map[string]any{"street": "x", "city": "y", "postcode": "z", "country": "FR"},
		"tags":     map[string]any{"k": "v"}, "note": nil, "legacy": 99,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got Order
	if err := NewSerde(order, WithWriterSchemas(v0)).Unmarshal(msg, &got); err != nil {
		t.Fatal(err)
	}
	want := Order{OrderID: "o-1", CustomerID: "c-1", CreatedAt: at, Status: "PAID",
		Items: []LineItem{{SKU: "s", Quantity: 3, UnitPrice: 2.5}}, Total: 7.5, Currency: "EUR",
		Shipping: &Address{Street: "x", City: "y", Postcode: "z", Country: "FR"}, Tags: map[string]string{"k": "v"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if r := Compatible(v0, order, Backward); len(r) != 0 {
		t.Errorf("v0 -> Order backward: %q", r)
	}
	wantForward := []string{
		`Order.status: symbols "SHIPPED" of the new schema are missing from the old schema, which has no enum default`,
		"Order.items[].unit_price: double in the new schema cannot be read as float in the old schema",
	}
	if r := Compatible(v0, order, Forward); !reflect.DeepEqual(r, wantForward) {
		t.Errorf("v0 -> Order forward:\n got %q\nwant %q", r, wantForward)
	}
}
