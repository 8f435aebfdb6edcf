package schema

import (
	"bytes"
	"testing"
)

// orderV0 is an older version of the Order schema: no note or tags, the
// quantity an int, a status enum without SHIPPED. Data written with it is
// read through resolution.
const orderV0 = `{"type":"record","name":"Order","namespace":"shop","fields":[
	{"name":"order_id","type":"string"},
	{"name":"customer_id","type":"string"},
	{"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
	{"name":"items","type":{"type":"array","items":{"type":"record","name":"LineItem","fields":[
		{"name":"sku","type":"string"},{"name":"quantity","type":"int"},{"name":"unit_price","type":"float"}]}}},
	{"name":"total","type":"double"},
	{"name":"currency","type":"string"},
	{"name":"shipping","type":["null",{"type":"record","name":"Address","fields":[
		{"name":"street","type":"string"},{"name":"city","type":"string"},
		{"name":"postcode","type":"string"},{"name":"country","type":"string"}]}],"default":null},
	{"name":"tags","type":{"type":"map","values":"string"},"default":{}},
	{"name":"note","type":["null","string"],"default":null},
	{"name":"legacy","type":"long","default":0}]}`

// Schemas that stress the decoder's bounds: unbounded recursion, and
// items that encode to no bytes.
const (
	linkedSchema   = `{"type":"record","name":"Link","fields":[{"name":"next","type":["null","Link"]}]}`
	nullsSchema    = `{"type":"array","items":"null"}`
	nestedSchema   = `{"type":"map","values":{"type":"array","items":{"type":"fixed","name":"F","size":3}}}`
	emptyRecSchema = `{"type":"array","items":{"type":"record","name":"E","fields":[]}}`
)

func fuzzSeeds(t testing.TB) [][]byte {
	order := orderSchema(t)
	v0 := MustParse(orderV0)
	single, err := NewSerde(order).Marshal(sampleOrder())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := NewSerde(order, WithRegistry(NewMemoryRegistry(), "orders-value")).Marshal(sampleOrder())
	if err != nil {
		t.Fatal(err)
	}
	old, err := NewSerde(v0).Marshal(map[string]any{
		"order_id": "o", "customer_id": "c", "created_at": int64(1), "status": "NEW",
		"items": []any{map[string]any{"sku": "s", "quantity": 1, "unit_price": 2.5}},
		"total": 2.5, "currency": "EUR", "shipping": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	body := single[10:]
	deep := append(bytes.Repeat([]byte{0x02}, 2000), 0x00)
	return [][]byte{
		single, conf, old, body, deep,
		single[:len(single)/2],
		{0xC3, 0x01},
		{0x00, 0, 0, 0, 1},
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // huge count
		{0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00},                         // huge block count for nulls
		{0x02, 0x02, 'k', 0x01, 0x01, 0x02, 0x03, 0x00, 0x00},        // map of arrays with a negative block count
	}
}

// FuzzDecode feeds arbitrary bytes to every decoding entry point: it must
// return errors, never panic, hang or allocate without bound.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	order := orderSchema(f)
	v0 := MustParse(orderV0)
	reg := NewMemoryRegistry()
	if _, err := reg.Register(f.Context(), "orders-value", order); err != nil {
		f.Fatal(err)
	}
	serde := NewSerde(order, WithRegistry(reg, "orders-value"), WithWriterSchemas(v0))
	others := []*Schema{MustParse(linkedSchema), MustParse(nullsSchema), MustParse(nestedSchema), MustParse(emptyRecSchema), v0}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Order
		_ = serde.Unmarshal(data, &o)
		var m map[string]any
		_ = serde.Unmarshal(data, &m)
		_ = order.Decode(data, &o)
		_ = order.DecodeFrom(v0, data, &o)
		for _, s := range others {
			var v any
			_ = s.Decode(data, &v)
		}
	})
}

// TestAvroDecodeBounds checks the inputs FuzzDecode exists for directly,
// so `go test` covers them without -fuzz.
func TestAvroDecodeBounds(t *testing.T) {
	var v any
	deep := append(bytes.Repeat([]byte{0x02}, 2000), 0x00)
	if err := MustParse(linkedSchema).Decode(deep, &v); err == nil || !bytes.Contains([]byte(err.Error()), []byte("nested more than 512 deep")) {
		t.Errorf("deep recursion: %v", err)
	}
	shallow := append(bytes.Repeat([]byte{0x02}, 100), 0x00)
	if err := MustParse(linkedSchema).Decode(shallow, &v); err != nil {
		t.Errorf("100 links: %v", err)
	}
	huge := []byte{0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00} // 2^31-1 nulls
	if err := MustParse(nullsSchema).Decode(huge, &v); err == nil || !bytes.Contains([]byte(err.Error()), []byte("encodes to no bytes")) {
		t.Errorf("2^31 nulls: %v", err)
	}
	many := []byte{0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02, 0x03} // 2^31-1 fixed(3) in 3 bytes
	if err := MustParse(`{"type":"array","items":{"type":"fixed","name":"F","size":3}}`).Decode(many, &v); err == nil || !bytes.Contains([]byte(err.Error()), []byte("cannot fit")) {
		t.Errorf("2^31 fixed: %v", err)
	}
	for _, seed := range fuzzSeeds(t) {
		var o Order
		_ = orderSchema(t).Decode(seed, &o)
	}
}
