package schema

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"os/exec"
	"strings"
	"testing"
)

const fixedDecimalAvsc = `{"type":"record","name":"Price","fields":[
	{"name":"d","type":{"type":"fixed","name":"F8","size":8,"logicalType":"decimal","precision":10,"scale":2}},
	{"name":"maybe","type":["null","F8"],"default":null},
	{"name":"list","type":{"type":"array","items":"F8"}},
	{"name":"byName","type":{"type":"map","values":"F8"}}]}`

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

// A fixed decimal of zero encodes (goavro alone refuses it: one byte for
// an 8-byte fixed) and every fixed decimal comes back as the value it
// was, in a field, a union, an array and a map.
func TestFixedDecimalRoundTrip(t *testing.T) {
	s := MustParse(fixedDecimalAvsc)
	for _, v := range []string{"0", "0.01", "-0.01", "-5", "12345678.9", "-92233720368547758.08"} {
		in := map[string]any{"d": rat(v), "maybe": rat(v), "list": []any{rat(v), rat("0")}, "byName": map[string]any{"k": rat(v)}}
		body, err := s.Encode(in)
		if err != nil {
			t.Errorf("%s: encode: %v", v, err)
			continue
		}
		var out struct {
			D      big.Rat             `avro:"d"`
			Maybe  *big.Rat            `avro:"maybe"`
			List   []*big.Rat          `avro:"list"`
			ByName map[string]*big.Rat `avro:"byName"`
		}
		if err := s.Decode(body, &out); err != nil {
			t.Errorf("%s: decode: %v", v, err)
			continue
		}
		want := rat(v)
		if out.D.Cmp(want) != 0 || out.Maybe == nil || out.Maybe.Cmp(want) != 0 || len(out.List) != 2 || out.List[0].Cmp(want) != 0 ||
			out.List[1].Sign() != 0 || out.ByName["k"] == nil || out.ByName["k"].Cmp(want) != 0 {
			t.Errorf("%s: decoded %+v", v, out)
		}
	}
	// Too large for 8 bytes: an error, not a wrong value.
	if _, err := s.Encode(map[string]any{"d": rat("1e20"), "list": []any{}, "byName": map[string]any{}}); err == nil {
		t.Error("1e20 in 8 bytes at scale 2: encoded")
	}
}

// The bytes are the specification's, as Apache Avro's Python
// implementation writes them (Debian's python3-avro).
func TestFixedDecimalMatchesApacheAvro(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import avro.io").CombinedOutput(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import avro (%v: %s): install python3-avro; 'make test' does (make deps)", err, out)
	}
	const py = `
import avro.schema, avro.io, io, decimal, sys
s = avro.schema.parse(sys.argv[1])
for v in sys.argv[2:]:
    b = io.BytesIO()
    avro.io.DatumWriter(s).write({"d": decimal.Decimal(v), "maybe": None, "list": [], "byName": {}}, avro.io.BinaryEncoder(b))
    print(b.getvalue().hex())
`
	values := []string{"0.00", "0.01", "-5.00", "-0.01"}
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", py, fixedDecimalAvsc}, values...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(values) {
		t.Fatalf("python3 printed %q", out)
	}
	s := MustParse(fixedDecimalAvsc)
	for i, v := range values {
		want, _ := hex.DecodeString(lines[i])
		got, err := s.Encode(map[string]any{"d": rat(v), "maybe": nil, "list": []any{}, "byName": map[string]any{}})
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoded %x, Apache Avro writes %x", v, got, want)
		}
		var back map[string]any
		if err := s.Decode(want, &back); err != nil {
			t.Errorf("%s: decoding Apache Avro's bytes: %v", v, err)
		} else if r, ok := back["d"].(*big.Rat); !ok || r.Cmp(rat(v)) != 0 {
			t.Errorf("%s: decoded Apache Avro's bytes to %v", v, back["d"])
		}
	}
}
