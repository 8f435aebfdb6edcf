package actors_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/dlq"
)

// fuzzOrder is a typical handler value: nested, typed, with a map.
type fuzzOrder struct {
	ID       int               `json:"id"`
	Customer string            `json:"customer"`
	Items    []fuzzItem        `json:"items"`
	Total    float64           `json:"total"`
	Paid     *bool             `json:"paid"`
	Tags     map[string]string `json:"tags"`
	At       time.Time         `json:"at"`
}

type fuzzItem struct {
	SKU string `json:"sku"`
	Qty uint8  `json:"qty"`
}

// FuzzJSONDecode feeds arbitrary record values to the default decoder, as
// a consumer of a struct, of a map and of raw bytes would see them. It
// must never panic; a value it rejects gets an error that, wrapped as the
// record's DecodeError, names the record and the cause; a value it
// accepts into a map is valid JSON and survives a round trip.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"customer":"c-7","items":[{"sku":"a","qty":2}],"total":9.5,"paid":true,"tags":{"k":"v"},"at":"2026-01-02T03:04:05Z"}`,
		`{}`, `null`, `[]`, `"x"`, `1e400`, `{"id":1.5}`, `{"qty":256}`, `{"items":[{"qty":-1}]}`,
		`{"at":"yesterday"}`, `{"a":{"b":{"c":[1,2,{"d":null}]}}}`, "{\"s\":\"\xff\"}", `{"id":1}{"id":2}`,
		`{"id":1,"id":2}`, `{"tags":{"k":1}}`, "", " ", `{`, "\x00",
	} {
		f.Add([]byte(s))
	}
	dec := actors.JSON{}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o fuzzOrder
		checkDecodeErr(t, data, dec.Decode(data, &o))

		var m map[string]any
		err := dec.Decode(data, &m)
		checkDecodeErr(t, data, err)
		if err == nil {
			if !json.Valid(data) {
				t.Fatalf("accepted %q, which is not valid JSON", data)
			}
			enc, err := actors.JSON{}.Encode(m)
			if err != nil {
				t.Fatalf("re-encoding %v: %v", m, err)
			}
			var again map[string]any
			if err := dec.Decode(enc, &again); err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("round trip of %q: %v, %v != %v", data, err, again, m)
			}
		}
		var v any
		if json.Unmarshal(data, &v) == nil {
			if _, isObject := v.(map[string]any); (isObject || v == nil) && err != nil {
				t.Fatalf("rejected the JSON object %q: %v", data, err)
			}
		}

		// Raw consumers take the value as it is, always.
		var raw []byte
		var s string
		if dec.Decode(data, &raw) != nil || !bytes.Equal(raw, data) || dec.Decode(data, &s) != nil || s != string(data) {
			t.Fatalf("raw decode of %q changed it", data)
		}
	})
}

func checkDecodeErr(t *testing.T, data []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if err.Error() == "" {
		t.Fatalf("empty error for %q", data)
	}
	de := &actors.DecodeError{Topic: "orders", Partition: 2, Offset: 41, Err: err}
	if msg := de.Error(); !strings.Contains(msg, "orders/2@41") || !strings.Contains(msg, err.Error()) {
		t.Fatalf("DecodeError %q: want the record and the cause", msg)
	}
	if !errors.Is(de, err) {
		t.Fatalf("DecodeError does not unwrap to its cause")
	}
}

// FuzzDeadLetterRecord builds dead letters as the runtime writes them
// (dlq.Record) from arbitrary records and failures. The dead letter keeps the record's key, value and headers (in
// order) and appends the actord.dlq.* headers, which a reader taking the
// last header of a name (as `actord dlq` does) reads back exactly, even
// when the record was itself a dead letter.
func FuzzDeadLetterRecord(f *testing.F) {
	f.Add("orders", int32(2), int64(41), int64(1_700_000_000_123), []byte("k"), []byte(`{"id":1}`),
		"source", []byte("web"), "processor", "boom", 4, int64(1_700_000_001_000))
	f.Add("", int32(-1), int64(-1), int64(-1), []byte(nil), []byte(nil), "", []byte(nil), "", "", 0, int64(0))
	f.Add("a.dlq", int32(0), int64(0), int64(1<<62), []byte{0xff}, []byte{0}, actors.HeaderDLQTopic, []byte("orders"),
		"g", "line1\nline2\xff", -3, int64(-62135596800001))
	f.Fuzz(func(t *testing.T, topic string, part int32, offset, ts int64, key, value []byte,
		hk string, hv []byte, group, errText string, attempts int, failedAt int64) {
		r := &kgo.Record{Topic: topic, Partition: part, Offset: offset, Key: key, Value: value,
			Headers: []kgo.RecordHeader{{Key: hk, Value: hv}}, Timestamp: time.UnixMilli(ts)}
		fail := dlq.Failure{Group: group, Attempts: attempts, FailedAt: time.UnixMilli(failedAt)}
		if errText != "" {
			fail.Err = errors.New(errText)
		}
		dl := dlq.Record(topic+".dlq", r, fail)

		if dl.Topic != topic+".dlq" || !bytes.Equal(dl.Key, key) || !bytes.Equal(dl.Value, value) {
			t.Fatalf("dead letter %q/%q/%q, want %q/%q/%q", dl.Topic, dl.Key, dl.Value, topic+".dlq", key, value)
		}
		if len(r.Headers) != 1 || len(dl.Headers) != 9 || dl.Headers[0].Key != hk || !bytes.Equal(dl.Headers[0].Value, hv) {
			t.Fatalf("headers %v: want the record's own first, then 8 actord.dlq.*; record's now %v", dl.Headers, r.Headers)
		}
		last := map[string]string{}
		for _, h := range dl.Headers {
			last[h.Key] = string(h.Value)
		}
		want := map[string]string{
			actors.HeaderDLQTopic:     topic,
			actors.HeaderDLQPartition: strconv.Itoa(int(part)),
			actors.HeaderDLQOffset:    strconv.FormatInt(offset, 10),
			actors.HeaderDLQGroup:     group,
			actors.HeaderDLQError:     errText,
			actors.HeaderDLQAttempts:  strconv.Itoa(attempts),
		}
		for k, v := range want {
			if last[k] != v {
				t.Fatalf("header %s = %q, want %q", k, last[k], v)
			}
		}
		checkTimeHeader(t, actors.HeaderDLQTimestamp, last[actors.HeaderDLQTimestamp], r.Timestamp)
		checkTimeHeader(t, actors.HeaderDLQFailedAt, last[actors.HeaderDLQFailedAt], fail.FailedAt)
	})
}

// checkTimeHeader checks that a time header reads back as at. RFC 3339
// has four-digit years: a time outside years 0 to 9999 (a producer may
// stamp a record with any int64) is written in Go's extended form, which
// is checked to be that and nothing else.
func checkTimeHeader(t *testing.T, name, got string, at time.Time) {
	t.Helper()
	if y := at.UTC().Year(); y < 0 || y > 9999 {
		if got != at.UTC().Format(time.RFC3339Nano) {
			t.Fatalf("header %s = %q for %v", name, got, at)
		}
		return
	}
	back, err := time.Parse(time.RFC3339Nano, got)
	if err != nil || !back.Equal(at) {
		t.Fatalf("header %s = %q: reads back as %v, %v; want %v", name, got, back, err, at)
	}
}
