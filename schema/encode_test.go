package schema

import (
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func orderSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := For[Order]()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// orderMap is sampleOrder as a map, the way JSON input arrives.
func orderMap() map[string]any {
	return map[string]any{
		"order_id":    "ord-7f3a9c",
		"customer_id": "cus-1024",
		"created_at":  time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC),
		"status":      "PAID",
		"items": []any{
			map[string]any{"sku": "BOOK-0001", "quantity": 2, "unit_price": 12.5},
			map[string]any{"sku": "MUG-0042", "quantity": json.Number("1"), "unit_price": 9.99},
			map[string]any{"sku": "PEN-0007", "quantity": 10.0, "unit_price": 1.2},
		},
		"total":    46.99,
		"currency": "EUR",
		"shipping": map[string]any{"street": "1 Rue de la Paix", "city": "Paris", "postcode": "75002", "country": "FR"},
		"tags":     map[string]any{"channel": "web", "promo": "SPRING"},
		"note":     goavro.Union("string", "leave at the door"),
	}
}

func TestAvroEncodeDecodeRoundTrip(t *testing.T) {
	s := orderSchema(t)
	in := sampleOrder()
	body, err := s.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	fromMap, err := s.Encode(orderMap())
	if err != nil {
		t.Fatal(err)
	}
	// Map entries encode in Go's map order, so compare decoded values.
	for _, b := range [][]byte{body, fromMap} {
		var out Order
		if err := s.Decode(b, &out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("round trip\n got %+v\nwant %+v", out, in)
		}
	}
	var out Order
	// Optional fields absent.
	in.Shipping, in.Note, in.Tags, in.Items = nil, nil, map[string]string{}, []LineItem{}
	body, _ = s.Encode(in)
	if err := s.Decode(body, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip without optionals\n got %+v\nwant %+v", out, in)
	}
}

func TestAvroDecodeIntoMap(t *testing.T) {
	s := orderSchema(t)
	body, _ := s.Encode(sampleOrder())
	var m map[string]any
	if err := s.Decode(body, &m); err != nil {
		t.Fatal(err)
	}
	if m["note"] != "leave at the door" {
		t.Errorf("note = %#v, want the plain string (union unwrapped)", m["note"])
	}
	if at, ok := m["created_at"].(time.Time); !ok || !at.Equal(sampleOrder().CreatedAt) {
		t.Errorf("created_at = %#v", m["created_at"])
	}
	items := m["items"].([]any)
	if q := items[2].(map[string]any)["quantity"]; q != int32(10) {
		t.Errorf("items[2].quantity = %#v", q)
	}
	if city := m["shipping"].(map[string]any)["city"]; city != "Paris" {
		t.Errorf("shipping.city = %#v", city)
	}
	// The decoded map encodes again to the same value.
	again, err := s.Encode(m)
	var m2 map[string]any
	if err != nil || s.Decode(again, &m2) != nil || !reflect.DeepEqual(m, m2) {
		t.Errorf("re-encode: %v\n%v\n%v", err, m, m2)
	}
	var anyOut any
	if err := s.Decode(body, &anyOut); err != nil {
		t.Fatal(err)
	}
	if anyOut.(map[string]any)["status"] != "PAID" {
		t.Errorf("decode into any: %#v", anyOut)
	}
}

func TestAvroEncodeErrorsNameTheField(t *testing.T) {
	s := orderSchema(t)
	with := func(edit func(m map[string]any)) map[string]any {
		m := orderMap()
		edit(m)
		return m
	}
	item := func(m map[string]any, i int) map[string]any { return m["items"].([]any)[i].(map[string]any) }
	for _, tc := range []struct {
		name string
		v    any
		path string
		want string
	}{
		{"missing required", with(func(m map[string]any) { delete(m, "order_id") }), "Order.order_id", "required field missing"},
		{"wrong type", with(func(m map[string]any) { m["total"] = "lots" }), "Order.total", "want double, got Go string"},
		{"unknown symbol", with(func(m map[string]any) { m["status"] = "LOST" }), "Order.status", `unknown enum symbol "LOST" (want one of NEW, PAID, SHIPPED)`},
		{"nested wrong type", with(func(m map[string]any) { item(m, 1)["quantity"] = "one" }), "Order.items[1].quantity", "want int, got Go string"},
		{"int overflow", with(func(m map[string]any) { item(m, 0)["quantity"] = int64(1) << 40 }), "Order.items[0].quantity", "1099511627776 overflows an Avro int"},
		{"not an integer", with(func(m map[string]any) { item(m, 0)["quantity"] = 1.5 }), "Order.items[0].quantity", "not an integer"},
		{"unknown field", with(func(m map[string]any) { m["colour"] = "red" }), "Order", `unknown field "colour"`},
		{"null for required", with(func(m map[string]any) { m["order_id"] = nil }), "Order.order_id", "want string, got null"},
		{"map value", with(func(m map[string]any) { m["tags"] = map[string]any{"a": 5} }), `Order.tags["a"]`, "want string, got Go int"},
		{"nested record field", with(func(m map[string]any) { delete(m["shipping"].(map[string]any), "city") }), "Order.shipping.city", "required field missing"},
		{"union no branch", with(func(m map[string]any) { m["note"] = 42 }), "Order.note", "want string, got Go int"},
		{"array not a list", with(func(m map[string]any) { m["items"] = "none" }), "Order.items", "want array of record shop.LineItem, got Go string"},
		{"struct enum", func() any { o := sampleOrder(); o.Status = "LOST"; return o }(), "Order.status", `unknown enum symbol "LOST"`},
		{"not a record", 42, "Order", "want record shop.Order, got Go int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Encode(tc.v)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Encode: %v, want a *FieldError", err)
			}
			if fe.Path != tc.path || !strings.Contains(fe.Reason, tc.want) {
				t.Errorf("Encode: path %q reason %q, want path %q reason containing %q", fe.Path, fe.Reason, tc.path, tc.want)
			}
			if err := s.Validate(tc.v); err == nil || err.Error() != fe.Error() {
				t.Errorf("Validate = %v, want %v", err, fe)
			}
		})
	}
}

func TestAvroDefaultsFillMissingFields(t *testing.T) {
	s := MustParse(`{"type":"record","name":"R","fields":[
		{"name":"id","type":"string"},
		{"name":"n","type":"int","default":7},
		{"name":"opt","type":["null","string"],"default":null},
		{"name":"raw","type":"bytes","default":"\u00ff\u0000"},
		{"name":"tags","type":{"type":"array","items":"string"},"default":["a"]}]}`)
	body, err := s.Encode(map[string]any{"id": "x"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := s.Decode(body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "x", "n": int32(7), "opt": nil, "raw": []byte{0xff, 0}, "tags": []any{"a"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("decoded %#v, want %#v", m, want)
	}
}

func TestAvroLogicalTypes(t *testing.T) {
	s := MustParse(`{"type":"record","name":"L","fields":[
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"day","type":{"type":"int","logicalType":"date"}},
		{"name":"tod","type":{"type":"int","logicalType":"time-millis"}},
		{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"id","type":{"type":"string","logicalType":"uuid"}}]}`)
	type L struct {
		TS    time.Time     `avro:"ts"`
		Day   time.Time     `avro:"day"`
		TOD   time.Duration `avro:"tod"`
		Price *big.Rat      `avro:"price"`
		ID    string        `avro:"id"`
	}
	in := L{
		TS:    time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
		Day:   time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		TOD:   13*time.Hour + 5*time.Millisecond,
		Price: big.NewRat(-12345, 100),
		ID:    "0b3f4d2e-1c2a-4e8f-9a7b-123456789abc",
	}
	body, err := s.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var out L
	if err := s.Decode(body, &out); err != nil {
		t.Fatal(err)
	}
	if !out.TS.Equal(in.TS) || !out.Day.Equal(in.Day) || out.TOD != in.TOD || out.Price.Cmp(in.Price) != 0 || out.ID != in.ID {
		t.Errorf("logical round trip\n got %+v\nwant %+v", out, in)
	}
	// JSON input: a decimal string, timestamps and dates as strings.
	js := map[string]any{"ts": "2024-02-29T23:59:59.123456Z", "day": "1969-12-31", "tod": json.Number("46800005"), "price": json.Number("-123.45"), "id": in.ID}
	body, err = s.Encode(js)
	if err != nil {
		t.Fatalf("JSON-shaped input: %v", err)
	}
	out = L{}
	if err := s.Decode(body, &out); err != nil || !out.TS.Equal(in.TS) || !out.Day.Equal(in.Day) || out.TOD != in.TOD || out.Price.Cmp(in.Price) != 0 {
		t.Errorf("JSON-shaped input decoded to %+v, %v (want %+v)", out, err, in)
	}
	js["ts"] = "yesterday"
	if _, err := s.Encode(js); err == nil || !strings.Contains(err.Error(), `L.ts: want long (timestamp-micros) as a number or a "2006-01-02T15:04:05.999999999Z07:00" string, got "yesterday"`) {
		t.Errorf("bad timestamp string: %v", err)
	}
}

func TestAvroDecodeErrors(t *testing.T) {
	s := orderSchema(t)
	body, _ := s.Encode(sampleOrder())
	if err := s.Decode(body, Order{}); err == nil {
		t.Error("Decode into a non-pointer succeeded")
	}
	if err := s.Decode(body[:len(body)-3], &Order{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated body: %v, want ErrMalformed", err)
	}
	if err := s.Decode(append(body, 0), &Order{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v, want ErrMalformed", err)
	}
	// A value that does not fit the Go type names the field.
	type Narrow struct {
		Items []struct {
			Quantity int8 `avro:"quantity"`
		} `avro:"items"`
	}
	o := sampleOrder()
	o.Items[1].Quantity = 300
	body, _ = s.Encode(o)
	var n Narrow
	err := s.Decode(body, &n)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "Order.items[1].quantity" || !strings.Contains(fe.Reason, "300 overflows Go int8") {
		t.Errorf("Decode into int8: %v", err)
	}
	// A malformed body names where it broke.
	p := MustParse(pingSchema)
	err = p.Decode([]byte{0x02, 0x14, 'h', 'i'}, &ping{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "Ping.msg: string length 10 exceeds the 2 bytes left") {
		t.Errorf("overlong string: %v", err)
	}
}
