package bench

import (
	"encoding/json"
	"testing"

	"github.com/actord/actord/schema"
)

// NamedBenchmark is a testing.B body with the name it reports under.
type NamedBenchmark struct {
	Name string
	F    func(*testing.B)
}

// OrderSerde is the Avro serde of Order (schema derived from the struct,
// single-object framing).
func OrderSerde() *schema.Serde {
	s, err := schema.For[Order]()
	if err != nil {
		panic(err) // a fixed type
	}
	return schema.NewSerde(s)
}

// CodecBenchmarks encode and decode one Order per op: encoding/json on
// the struct against the schema package's Avro serde (validation, binary
// encoding and single-object framing; decoding finds the writer schema by
// fingerprint and fills the struct).
func CodecBenchmarks() []NamedBenchmark {
	sd := OrderSerde()
	o := NewOrder(42, 1000)
	js, _ := json.Marshal(o)
	av, err := sd.Marshal(o)
	if err != nil {
		panic(err)
	}
	return []NamedBenchmark{
		{"json-encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(js)))
			for b.Loop() {
				if _, err := json.Marshal(o); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"json-decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(js)))
			for b.Loop() {
				var v Order
				if err := json.Unmarshal(js, &v); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"avro-encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(av)))
			for b.Loop() {
				if _, err := sd.Marshal(o); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"avro-decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(av)))
			for b.Loop() {
				var v Order
				if err := sd.Unmarshal(av, &v); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
}
