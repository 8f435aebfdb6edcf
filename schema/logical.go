package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// Values exist in three shapes here. Decoded JSON (schema defaults); the
// base native form goavro encodes (int32, int64, []byte for logical types);
// and the native form goavro decodes into, which this package also uses for
// resolved values: time.Time for timestamps and dates, time.Duration for
// times of day, *big.Rat for decimals. goavro's encoders accept both native
// forms.

var epochDay = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// fromBase turns a base native value (int32, int64 or []byte) of a logical
// type into its decoded native form.
func fromBase(n *node, v any) any {
	switch n.logical {
	case logicalTimestampMillis:
		return time.UnixMilli(v.(int64)).UTC()
	case logicalTimestampMicros:
		return time.UnixMicro(v.(int64)).UTC()
	case logicalTimeMillis:
		return time.Duration(v.(int32)) * time.Millisecond
	case logicalTimeMicros:
		return time.Duration(v.(int64)) * time.Microsecond
	case logicalDate:
		return epochDay.AddDate(0, 0, int(v.(int32)))
	case logicalDecimal:
		num := new(big.Int)
		setSigned(num, v.([]byte))
		den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.scale)), nil)
		return new(big.Rat).SetFrac(num, den)
	}
	return v
}

// toBase turns a decoded native value of a logical type into its base
// native form.
func toBase(n *node, v any) any {
	switch n.logical {
	case logicalTimestampMillis:
		return v.(time.Time).UnixMilli()
	case logicalTimestampMicros:
		return v.(time.Time).UnixMicro()
	case logicalTimeMillis:
		return int32(v.(time.Duration) / time.Millisecond)
	case logicalTimeMicros:
		return int64(v.(time.Duration) / time.Microsecond)
	case logicalDate:
		return int32(math.Floor(float64(v.(time.Time).Unix()) / 86400))
	case logicalDecimal:
		r := v.(*big.Rat)
		scaled := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.scale)), nil))
		scaled.Quo(scaled, r.Denom())
		b := signedBytes(scaled)
		if n.kind == kindFixed {
			b = padSigned(b, n.size, scaled.Sign() < 0)
		}
		return b
	}
	return v
}

// setSigned sets num from big-endian two's-complement bytes.
func setSigned(num *big.Int, b []byte) {
	num.SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		num.Sub(num, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
}

// signedBytes is the shortest big-endian two's-complement form of x.
func signedBytes(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -x-1 in one's complement gives the two's-complement magnitude.
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

func padSigned(b []byte, size int, neg bool) []byte {
	if len(b) >= size {
		return b
	}
	pad := byte(0)
	if neg {
		pad = 0xff
	}
	out := make([]byte, size)
	for i := range size - len(b) {
		out[i] = pad
	}
	copy(out[size-len(b):], b)
	return out
}

// defaultNative converts a field default, as decoded JSON, into the decoded
// native form of its type; an error says why it does not fit.
func defaultNative(n *node, v any) (any, error) {
	switch n.kind {
	case kindNull:
		if v != nil {
			return nil, fmt.Errorf("want null, got %s", jsonKind(v))
		}
		return nil, nil
	case kindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, got %s", jsonKind(v))
		}
		return b, nil
	case kindInt, kindLong:
		return defaultInteger(n, v)
	case kindFloat, kindDouble:
		return defaultFloat(n, v)
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %s", jsonKind(v))
		}
		return s, nil
	case kindBytes, kindFixed:
		return defaultBytes(n, v)
	case kindEnum:
		return defaultEnum(n, v)
	case kindArray:
		return defaultArray(n, v)
	case kindMap:
		return defaultMap(n, v)
	case kindRecord:
		return defaultRecord(n, v)
	case kindUnion:
		return defaultUnion(n, v)
	}
	return nil, fmt.Errorf("unsupported type %s", n.kind)
}

// defaultInteger converts a JSON integer to an int or long, through the
// logical type if there is one.
func defaultInteger(n *node, v any) (any, error) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("want an integer, got %s", jsonKind(v))
	}
	i, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("want an integer, got %s", num)
	}
	if n.kind == kindInt {
		if i < math.MinInt32 || i > math.MaxInt32 {
			return nil, fmt.Errorf("%d overflows an int", i)
		}
		return fromBase(n, int32(i)), nil
	}
	return fromBase(n, i), nil
}

// defaultFloat converts a JSON number to a float or double.
func defaultFloat(n *node, v any) (any, error) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("want a number, got %s", jsonKind(v))
	}
	f, err := strconv.ParseFloat(num.String(), 64)
	if err != nil {
		return nil, fmt.Errorf("want a number, got %s", num)
	}
	if n.kind == kindFloat {
		return float32(f), nil
	}
	return f, nil
}

// defaultBytes converts Avro's JSON form of bytes and fixed, a string of
// code points 0-255, to bytes (a decimal through its logical type).
func defaultBytes(n *node, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a string of code points 0-255, got %s", jsonKind(v))
	}
	b, err := latin1(s)
	if err != nil {
		return nil, err
	}
	if n.kind == kindFixed && len(b) != n.size {
		return nil, fmt.Errorf("want %d bytes, got %d", n.size, len(b))
	}
	return fromBase(n, b), nil
}

// defaultEnum checks that a JSON string is one of n's symbols.
func defaultEnum(n *node, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a symbol string, got %s", jsonKind(v))
	}
	if _, ok := n.symbolIndex[s]; !ok {
		return nil, fmt.Errorf("unknown enum symbol %q", s)
	}
	return s, nil
}

// defaultArray converts a JSON array item by item.
func defaultArray(n *node, v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array, got %s", jsonKind(v))
	}
	out := make([]any, len(arr))
	for i, x := range arr {
		nv, err := defaultNative(n.items, x)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = nv
	}
	return out, nil
}

// defaultMap converts a JSON object value by value.
func defaultMap(n *node, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object, got %s", jsonKind(v))
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		nv, err := defaultNative(n.items, x)
		if err != nil {
			return nil, fmt.Errorf("[%q]: %w", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// defaultRecord converts a JSON object field by field; a field the object
// lacks takes the field's own default.
func defaultRecord(n *node, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object, got %s", jsonKind(v))
	}
	out := make(map[string]any, len(n.fields))
	for _, f := range n.fields {
		x, has := m[f.name]
		if !has {
			if !f.hasDefault {
				return nil, fmt.Errorf(".%s: missing and without a default", f.name)
			}
			if f.defNative == nil && f.def != nil {
				// Not converted yet (the record is being defined).
				return nil, fmt.Errorf(".%s: default not available", f.name)
			}
			out[f.name] = f.defNative
			continue
		}
		nv, err := defaultNative(f.typ, x)
		if err != nil {
			return nil, fmt.Errorf(".%s: %w", f.name, err)
		}
		out[f.name] = nv
	}
	return out, nil
}

// defaultUnion converts a union's default, which the specification makes
// a value of the first branch, and wraps it the way goavro decodes unions.
func defaultUnion(n *node, v any) (any, error) {
	if len(n.branches) == 0 {
		return nil, errors.New("an empty union has no values")
	}
	first := n.branches[0]
	nv, err := defaultNative(first, v)
	if err != nil {
		return nil, fmt.Errorf("a union's default is a value of its first branch (%s): %w", first.describe(), err)
	}
	if first.kind == kindNull {
		return nil, nil
	}
	return map[string]any{first.unionKey(): nv}, nil
}

// latin1 turns a JSON string of code points 0-255, Avro's JSON form of
// bytes, into bytes.
func latin1(s string) ([]byte, error) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 255 {
			return nil, fmt.Errorf("code point U+%04X is not a byte", r)
		}
		b = append(b, byte(r))
	}
	return b, nil
}
