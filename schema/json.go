package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"
)

// DecodeJSON decodes an Avro binary body written with this schema into
// one JSON value, in the form Encode reads back (from encoding/json with
// UseNumber) to the same body, as `actord consume --schema` prints it and
// `actord produce --schema` reads it:
//
//   - a record is an object with its fields in schema order; a map an
//     object (keys sorted); an array an array; an enum its symbol;
//   - a union is its value alone (null for null), not the Avro JSON
//     encoding's {"branch": value};
//   - int and long are numbers with every digit; float and double numbers,
//     NaN and infinities the strings "NaN", "+Inf" and "-Inf";
//   - timestamps are RFC 3339 strings in UTC (as many fraction digits as
//     needed), dates "2006-01-02", times of day a number of milli- or
//     microseconds (the type's unit), decimals exact numbers with the
//     type's scale;
//   - bytes and fixed are a string when valid UTF-8, else
//     {"base64":"..."} (which Encode does not read back).
//
// Nothing is HTML-escaped. The errors are Decode's: malformed bytes wrap
// ErrMalformed.
func (s *Schema) DecodeJSON(body []byte) ([]byte, error) {
	nat, err := s.decodeNative(body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonValue(s.root, nat)); err != nil {
		return nil, fmt.Errorf("avro decode %s to JSON: %w", s.Name(), err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DecodeJSONFrom is DecodeJSON of data written with writer: resolved into
// s first (see DecodeFrom), so the JSON has s's fields. Its errors are
// DecodeFrom's.
func (s *Schema) DecodeJSONFrom(writer *Schema, body []byte) ([]byte, error) {
	if writer == s || writer.text == s.text {
		return s.DecodeJSON(body)
	}
	nat, err := writer.decodeNative(body)
	if err != nil {
		return nil, err
	}
	if nat, err = s.resolutionFrom(writer).apply(nat); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonValue(s.root, nat)); err != nil {
		return nil, fmt.Errorf("avro decode %s to JSON: %w", s.Name(), err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Type returns the Avro type of the schema's root: "record", "enum",
// "fixed", "array", "map", "union", or a primitive type name (the base
// type of a logical one). A record schema takes and gives JSON objects.
func (s *Schema) Type() string { return s.root.kind.String() }

// jsonValue is the goavro native value v of type n in DecodeJSON's form.
func jsonValue(n *node, v any) any {
	if n.kind == kindUnion {
		b, x, err := unwrapUnion(n, v)
		if err != nil {
			return nil // checkBody vetted the body: not reached
		}
		n, v = b, x
	}
	switch x := v.(type) {
	case map[string]any:
		if n.kind == kindRecord {
			obj := make(jsonObject, len(n.fields))
			for i, f := range n.fields {
				obj[i] = jsonMember{f.name, jsonValue(f.typ, x[f.name])}
			}
			return obj
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(n.items, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(n.items, e)
		}
		return out
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return map[string]string{"base64": base64.StdEncoding.EncodeToString(x)}
	}
	return jsonScalar(n, v)
}

// jsonScalar is a number, string, boolean or logical value in
// DecodeJSON's form.
func jsonScalar(n *node, v any) any {
	switch x := v.(type) {
	case time.Time:
		if n.logical == logicalDate {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		if n.logical == logicalTimeMillis {
			return x.Milliseconds()
		}
		return x.Microseconds()
	case *big.Rat:
		if n.logical == logicalDecimal {
			return json.Number(x.FloatString(n.scale))
		}
		return exactNumber(x)
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprint(f)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
	}
	return v
}

// exactNumber is r with the fewest decimal digits that hold it exactly, or
// its fraction when no decimal up to 100 places does.
func exactNumber(r *big.Rat) any {
	for scale := 0; scale <= 100; scale++ {
		s := r.FloatString(scale)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return json.Number(s)
		}
	}
	return r.RatString()
}

// jsonObject is a JSON object that keeps its members in order.
type jsonObject []jsonMember

type jsonMember struct {
	name  string
	value any
}

// MarshalJSON writes the members in order, without HTML escaping.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(m.name); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(m.value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
