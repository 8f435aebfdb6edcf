package schema

import "testing"

// BenchmarkEncodeOrder is the producer's cost per record: validate a
// realistic order (3 line items, nested address, map, optional note) and
// encode it with single-object framing.
func BenchmarkEncodeOrder(b *testing.B) {
	sd := NewSerde(orderSchema(b))
	o := sampleOrder()
	msg, err := sd.Marshal(o)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sd.Marshal(o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeOrder is the consumer's cost per record: find the writer
// schema by fingerprint, decode and fill the Go struct.
func BenchmarkDecodeOrder(b *testing.B) {
	sd := NewSerde(orderSchema(b))
	msg, err := sd.Marshal(sampleOrder())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		var o Order
		if err := sd.Unmarshal(msg, &o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeOrderResolved is BenchmarkDecodeOrder for data written
// with an older schema version, resolved into the current one.
func BenchmarkDecodeOrderResolved(b *testing.B) {
	v0 := MustParse(orderV0)
	msg, err := NewSerde(v0).Marshal(map[string]any{
		"order_id": "ord-7f3a9c", "customer_id": "cus-1024", "created_at": int64(1741964966535), "status": "PAID",
		"items": []any{
			map[string]any{"sku": "BOOK-0001", "quantity": 2, "unit_price": 12.5},
			map[string]any{"sku": "MUG-0042", "quantity": 1, "unit_price": 9.99},
			map[string]any{"sku": "PEN-0007", "quantity": 10, "unit_price": 1.2},
		},
		"total": 46.99, "currency": "EUR", "shipping": nil,
	})
	if err != nil {
		b.Fatal(err)
	}
	sd := NewSerde(orderSchema(b), WithWriterSchemas(v0))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		var o Order
		if err := sd.Unmarshal(msg, &o); err != nil {
			b.Fatal(err)
		}
	}
}
