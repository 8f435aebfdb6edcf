package handler

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
)

// encodingJSONLine is the line the log kind wrote with encoding/json
// before appendRecordLine: the reference it is held to.
func encodingJSONLine(t *testing.T, m actors.Message[[]byte]) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(recordJSON(m)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAppendRecordLineIsEncodingJSONs(t *testing.T) {
	strs := [][]byte{
		nil, {}, []byte("plain"), []byte(`{"id":1,"note":"a \"quoted\" \\ value"}`),
		[]byte("<html> & 'amp'"), []byte("tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f"),
		[]byte("é ü 日本 \u2028 \u2029 😀"), {0xff, 0xfe, 'a'}, []byte("ok\xc3"), []byte("\xed\xa0\x80"),
	}
	keys := []string{"a", "b", "traceparent", "ü", "bad\xff", "<x>", "\u2028", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() []byte {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(0x20))
			case 1:
				b[i] = byte(0x80 + rng.IntN(0x80))
			default:
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		return b
	}
	ts := []time.Time{{}, time.Date(2026, 12, 2, 4, 5, 6, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600)), time.UnixMilli(1764648000123)}
	var cases []actors.Message[[]byte]
	for i, s := range strs {
		m := actors.Message[[]byte]{Topic: "orders", Partition: int32(i), Offset: int64(i) * 1_000_003, Key: s, Raw: strs[len(strs)-1-i], Timestamp: ts[i%len(ts)]}
		for j := range i % 4 {
			m.Headers = append(m.Headers, kgo.RecordHeader{Key: keys[(i+j)%len(keys)], Value: s})
		}
		cases = append(cases, m)
	}
	// Repeated names: the last value wins.
	cases = append(cases, actors.Message[[]byte]{Topic: "t", Headers: []kgo.RecordHeader{
		{Key: "b", Value: []byte("1")}, {Key: "a", Value: []byte("2")}, {Key: "b", Value: []byte("3")}, {Key: "a", Value: nil}, {Key: "c"},
	}})
	for range 2000 {
		m := actors.Message[[]byte]{Topic: string(random()), Partition: rng.Int32(), Offset: rng.Int64() - 1<<62, Key: random(), Raw: random(),
			Timestamp: time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9))}
		if rng.IntN(3) == 0 {
			m.Key = nil
		}
		for range rng.IntN(5) {
			m.Headers = append(m.Headers, kgo.RecordHeader{Key: string(random()), Value: random()})
		}
		cases = append(cases, m)
	}
	for _, m := range cases {
		want := encodingJSONLine(t, m)
		if got := appendRecordLine(nil, &m); !bytes.Equal(got, want) {
			t.Fatalf("appendRecordLine(%+v)\n got %s\nwant %s", m, got, want)
		}
	}
}

func BenchmarkRecordLine(b *testing.B) {
	m := actors.Message[[]byte]{Topic: "orders", Partition: 2, Offset: 123456, Key: []byte("k42"),
		Raw: []byte(`{"id":123456,"customer":"customer-456","sku":"SKU-4711-XL","note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`), Timestamp: time.Now()}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendRecordLine(buf[:0], &m)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(recordJSON(m))
		}
	})
}
