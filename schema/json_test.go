package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/actord/actord/schema"
)

const jsonAvsc = `{"type":"record","name":"Doc","namespace":"shop","fields":[
	{"name":"id","type":"string"},
	{"name":"big","type":"long"},
	{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
	{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"at_us","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"on","type":["null",{"type":"int","logicalType":"date"}]},
	{"name":"t_ms","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"t_us","type":{"type":"long","logicalType":"time-micros"}},
	{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
	{"name":"fprice","type":{"type":"fixed","name":"F8","size":8,"logicalType":"decimal","precision":12,"scale":3}},
	{"name":"items","type":{"type":"map","values":{"type":"record","name":"Item","fields":[{"name":"z","type":"int"},{"name":"a","type":"string"}]}}},
	{"name":"list","type":{"type":"array","items":["null","Item"]}},
	{"name":"raw","type":"bytes"},
	{"name":"empty","type":"bytes"},
	{"name":"text","type":"string"},
	{"name":"d","type":"double"},
	{"name":"f","type":"float"}]}`

func TestDecodeJSON(t *testing.T) {
	s := schema.MustParse(jsonAvsc)
	price, _ := new(big.Rat).SetString("12.5")
	fprice, _ := new(big.Rat).SetString("-0.125")
	body, err := s.Encode(map[string]any{
		"id": "o-1", "big": int64(9007199254740993), "status": "PAID",
		"at":    time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.FixedZone("x", 3600)),
		"at_us": time.Date(2024, 5, 1, 12, 0, 0, 123456e3, time.UTC),
		"on":    time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC),
		"t_ms":  1500 * time.Millisecond, "t_us": 1500 * time.Microsecond,
		"price": price, "fprice": fprice,
		"items": map[string]any{"b": map[string]any{"z": 2, "a": "y"}, "a": map[string]any{"z": 1, "a": "x"}},
		"list":  []any{nil, map[string]any{"z": 3, "a": "w"}},
		"raw":   []byte{0xff, 0x00}, "empty": []byte{}, "text": "a<b>&c",
		"d": math.Inf(-1), "f": float32(0.25),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DecodeJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"o-1","big":9007199254740993,"status":"PAID","at":"2024-05-01T11:00:00.123Z",` +
		`"at_us":"2024-05-01T12:00:00.123456Z","on":"2024-05-03","t_ms":1500,"t_us":1500,"price":12.50,"fprice":-0.125,` +
		`"items":{"a":{"z":1,"a":"x"},"b":{"z":2,"a":"y"}},"list":[null,{"z":3,"a":"w"}],` +
		`"raw":{"base64":"/wA="},"empty":"","text":"a<b>&c","d":"-Inf","f":0.25}`
	if string(got) != want {
		t.Fatalf("DecodeJSON:\n got %s\nwant %s", got, want)
	}
}

// TestDecodeJSONRoundTrip: what DecodeJSON writes, Encode reads back to
// the same body.
func TestDecodeJSONRoundTrip(t *testing.T) {
	s := schema.MustParse(`{"type":"record","name":"R","fields":[
		{"name":"n","type":"long"},{"name":"on","type":["null",{"type":"int","logicalType":"date"}]},
		{"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":3}},
		{"name":"tags","type":{"type":"map","values":"string"}},{"name":"b","type":"bytes"}]}`)
	body, err := s.Encode(map[string]any{"n": int64(-1 << 62), "on": nil, "at": time.UnixMicro(1714564800123456),
		"p": big.NewRat(-1, 8), "tags": map[string]any{"k": "v"}, "b": []byte("text")})
	if err != nil {
		t.Fatal(err)
	}
	js, err := s.DecodeJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	back, err := s.Encode(v)
	if err != nil || !bytes.Equal(back, body) {
		t.Fatalf("Encode(%s) = % x, %v; want % x", js, back, err, body)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	s := schema.MustParse(`{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}`)
	if _, err := s.DecodeJSON([]byte{0x08, 'a'}); !errors.Is(err, schema.ErrMalformed) {
		t.Errorf("truncated body: %v, want ErrMalformed", err)
	}
	for _, tc := range []struct {
		text string
		v    any
		want string
	}{
		{`["null","string"]`, nil, `null`},
		{`["null","string"]`, "x", `"x"`},
		{`{"type":"array","items":"double"}`, []any{math.NaN(), math.Inf(1), 1.5}, `["NaN","+Inf",1.5]`},
	} {
		s := schema.MustParse(tc.text)
		body, err := s.Encode(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.DecodeJSON(body); err != nil || string(got) != tc.want {
			t.Errorf("%s: DecodeJSON = %s, %v; want %s", tc.text, got, err, tc.want)
		}
	}
}

func TestType(t *testing.T) {
	for text, want := range map[string]string{
		`{"type":"record","name":"R","fields":[]}`:         "record",
		`{"type":"enum","name":"S","symbols":["A"]}`:       "enum",
		`{"type":"fixed","name":"F","size":2}`:             "fixed",
		`{"type":"array","items":"int"}`:                   "array",
		`{"type":"map","values":"int"}`:                    "map",
		`["null","int"]`:                                   "union",
		`"string"`:                                         "string",
		`{"type":"long","logicalType":"timestamp-millis"}`: "long",
	} {
		if got := schema.MustParse(text).Type(); got != want {
			t.Errorf("Parse(%s).Type() = %q, want %q", text, got, want)
		}
	}
}
