package schema

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Encode validates v against the schema and returns its Avro binary
// encoding (the body, without any framing).
//
// v is a Go struct of the shape For derives (or any struct whose field
// names match; fields the schema lacks are ignored), a map[string]any with
// one entry per field (an entry the schema lacks is an error), or goavro's
// native form. A field missing from v takes its default; one without a
// default is an error. Union values are plain values (nil for null, the
// branch chosen by the Go type) or goavro.Union wrappers. A value that does
// not fit is a *FieldError naming the field.
func (s *Schema) Encode(v any) ([]byte, error) {
	return s.AppendEncode(nil, v)
}

// AppendEncode is Encode appending the encoding to dst.
func (s *Schema) AppendEncode(dst []byte, v any) ([]byte, error) {
	nat, err := s.native(v)
	if err != nil {
		return dst, err
	}
	if s.fixedDec {
		nat = fixedDecimals(s.root, nat, toPlainFixed)
	}
	out, err := s.codec.BinaryFromNative(dst, nat)
	if err != nil {
		return dst, fmt.Errorf("avro encode %s: %w", s.Name(), err)
	}
	return out, nil
}

// Validate reports whether v fits the schema, as Encode would, without
// encoding it. The error is a *FieldError naming the field.
func (s *Schema) Validate(v any) error {
	_, err := s.native(v)
	return err
}

func (s *Schema) native(v any) (any, error) {
	nat, err := toNative(s.root, reflect.ValueOf(v))
	if err != nil {
		return nil, rooted(s.root, err)
	}
	return nat, nil
}

// goKind describes a Go value for error messages.
func goKind(v reflect.Value) string {
	if !v.IsValid() {
		return "null"
	}
	return "Go " + v.Type().String()
}

func mismatch(n *node, v reflect.Value) error {
	return fieldErr(fmt.Sprintf("want %s, got %s", n.describe(), goKind(v)))
}

// toNative converts v to goavro's native form for n, checking that it fits.
func toNative(n *node, v reflect.Value) (any, error) {
	// The Kind checks spare the common value, neither an interface nor a
	// pointer, a call to deref (which does not inline): this runs for every
	// value encoded.
	if v.Kind() == reflect.Interface {
		v = deref(v, reflect.Interface)
	}
	// Unions and decimals look at pointers themselves: a nil pointer picks
	// a union's null branch, and *big.Rat is a decimal's natural Go type.
	if n.kind == kindUnion {
		return unionNative(n, v)
	}
	if n.logical == logicalDecimal {
		return decimalNative(n, v)
	}
	if v.Kind() == reflect.Pointer {
		v = deref(v, reflect.Pointer)
	}
	if !v.IsValid() {
		if n.kind == kindNull {
			return nil, nil
		}
		return nil, fieldErr(fmt.Sprintf("want %s, got null", n.describe()))
	}
	switch n.kind {
	case kindBoolean:
		if v.Kind() == reflect.Bool {
			return v.Bool(), nil
		}
	case kindInt:
		return intNative(n, v)
	case kindLong:
		return longNative(n, v)
	case kindFloat, kindDouble:
		return floatNative(n, v)
	case kindString:
		if v.Kind() == reflect.String {
			return v.String(), nil
		}
	case kindBytes:
		return bytesNative(n, v)
	case kindFixed:
		return fixedNative(n, v)
	case kindEnum:
		return enumNative(n, v)
	case kindArray:
		return arrayNative(n, v)
	case kindMap:
		return mapNative(n, v)
	case kindRecord:
		return recordNative(n, v)
	}
	// Including a non-null value for null.
	return nil, mismatch(n, v)
}

// deref follows v through values of kind k (interfaces or pointers); a nil
// one on the way gives the invalid Value, which stands for null.
func deref(v reflect.Value, k reflect.Kind) reflect.Value {
	for v.Kind() == k {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// intNative converts v to an Avro int, or to the base int of a date or
// time-millis given as a time.Time, date string or time.Duration.
func intNative(n *node, v reflect.Value) (any, error) {
	if n.logical == logicalDate {
		t, ok, err := timeOf(n, v, "2006-01-02")
		if err != nil {
			return nil, err
		}
		if ok {
			return toBase(n, t), nil
		}
	}
	if n.logical == logicalTimeMillis && v.Type() == durationType {
		return toBase(n, time.Duration(v.Int())), nil
	}
	i, ok, err := intOf(n, v)
	if !ok {
		return nil, err
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return nil, fieldErr(fmt.Sprintf("%d overflows an Avro int", i))
	}
	return int32(i), nil
}

// longNative converts v to an Avro long, or to the base long of a
// timestamp given as a time.Time or RFC 3339 string, or of a time-micros
// given as a time.Duration.
func longNative(n *node, v reflect.Value) (any, error) {
	switch {
	case n.logical == logicalTimestampMillis || n.logical == logicalTimestampMicros:
		t, ok, err := timeOf(n, v, time.RFC3339Nano)
		if err != nil {
			return nil, err
		}
		if ok {
			return toBase(n, t), nil
		}
	case n.logical == logicalTimeMicros && v.Type() == durationType:
		return toBase(n, time.Duration(v.Int())), nil
	}
	i, ok, err := intOf(n, v)
	if !ok {
		return nil, err
	}
	return i, nil
}

// floatNative converts a Go number to an Avro float or double.
func floatNative(n *node, v reflect.Value) (any, error) {
	f, ok := floatOf(v)
	if !ok {
		return nil, mismatch(n, v)
	}
	if n.kind == kindFloat {
		return float32(f), nil
	}
	return f, nil
}

// bytesNative converts a Go byte slice or string to Avro bytes.
func bytesNative(n *node, v reflect.Value) (any, error) {
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Bytes(), nil
	case v.Kind() == reflect.String:
		return []byte(v.String()), nil
	}
	return nil, mismatch(n, v)
}

// fixedNative converts Go bytes of exactly the fixed's size to an Avro fixed.
func fixedNative(n *node, v reflect.Value) (any, error) {
	b, ok := bytesOf(v)
	if !ok {
		return nil, mismatch(n, v)
	}
	if len(b) != n.size {
		return nil, fieldErr(fmt.Sprintf("want %d bytes for fixed %s, got %d", n.size, n.name, len(b)))
	}
	return b, nil
}

// enumNative converts a Go string naming one of n's symbols to an Avro enum.
func enumNative(n *node, v reflect.Value) (any, error) {
	if v.Kind() != reflect.String {
		return nil, mismatch(n, v)
	}
	sym := v.String()
	if _, ok := n.symbolIndex[sym]; !ok {
		return nil, fieldErr(fmt.Sprintf("unknown enum symbol %q (want one of %s)", sym, strings.Join(n.symbols, ", ")))
	}
	return sym, nil
}

// arrayNative converts a Go slice or array to an Avro array.
func arrayNative(n *node, v reflect.Value) (any, error) {
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, mismatch(n, v)
	}
	out := make([]any, v.Len())
	for i := range out {
		x, err := toNative(n.items, v.Index(i))
		if err != nil {
			return nil, prefix("["+strconv.Itoa(i)+"]", err)
		}
		out[i] = x
	}
	return out, nil
}

// mapNative converts a Go map with string-kinded keys to an Avro map.
func mapNative(n *node, v reflect.Value) (any, error) {
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return nil, mismatch(n, v)
	}
	out := make(map[string]any, v.Len())
	it := v.MapRange()
	for it.Next() {
		k := it.Key().String()
		x, err := toNative(n.items, it.Value())
		if err != nil {
			return nil, prefix("["+strconv.Quote(k)+"]", err)
		}
		out[k] = x
	}
	return out, nil
}

// timeOf reads a timestamp or date given as a time.Time or, as JSON input
// has it, a string in layout. ok is false for other values (numbers are
// read as the base type).
func timeOf(n *node, v reflect.Value, layout string) (time.Time, bool, error) {
	switch {
	case v.Type() == timeType:
		return v.Interface().(time.Time), true, nil
	case v.Kind() == reflect.String && v.Type() != jsonNumberType:
		t, err := time.Parse(layout, v.String())
		if err != nil {
			return t, false, fieldErr(fmt.Sprintf("want %s as a number or a %q string, got %q", n.describe(), layout, v.String()))
		}
		return t, true, nil
	}
	return time.Time{}, false, nil
}

func intOf(n *node, v reflect.Value) (int64, bool, error) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return 0, false, fieldErr(fmt.Sprintf("%d overflows an Avro long", u))
		}
		return int64(u), true, nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false, fieldErr(fmt.Sprintf("want %s, got %v (not an integer)", n.describe(), f))
		}
		return int64(f), true, nil
	case reflect.String:
		if v.Type() == jsonNumberType {
			i, err := strconv.ParseInt(v.String(), 10, 64)
			if err != nil {
				return 0, false, fieldErr(fmt.Sprintf("want %s, got %s (not an integer that fits)", n.describe(), v.String()))
			}
			return i, true, nil
		}
	}
	return 0, false, mismatch(n, v)
}

func floatOf(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(v.Uint()), true
	case reflect.String:
		if v.Type() == jsonNumberType {
			f, err := strconv.ParseFloat(v.String(), 64)
			return f, err == nil
		}
	}
	return 0, false
}

func bytesOf(v reflect.Value) ([]byte, bool) {
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Bytes(), true
	case v.Kind() == reflect.Array && v.Type().Elem().Kind() == reflect.Uint8:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return b, true
	case v.Kind() == reflect.String:
		return []byte(v.String()), true
	}
	return nil, false
}

func decimalNative(n *node, v reflect.Value) (any, error) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil() && v.Type().Elem() == bigRatType {
		return v.Interface().(*big.Rat), nil
	}
	if v.IsValid() && v.Type() == bigRatType {
		r := v.Interface().(big.Rat)
		return &r, nil
	}
	if v.IsValid() && (v.Kind() == reflect.String || v.Kind() == reflect.Float64 || v.Kind() == reflect.Float32) {
		var r big.Rat
		var ok bool
		if v.Kind() == reflect.String {
			_, ok = r.SetString(v.String())
		} else {
			ok = r.SetFloat64(v.Float()) != nil
		}
		if ok {
			return &r, nil
		}
	}
	return nil, fieldErr(fmt.Sprintf("want a decimal (*big.Rat, a decimal string or a float), got %s", goKind(v)))
}

// unionNative picks the union branch for v: nil for null; a goavro.Union
// wrapper names its branch; otherwise the first branch the value fits.
func unionNative(n *node, v reflect.Value) (any, error) {
	if v.IsValid() && v.Kind() == reflect.Pointer && v.IsNil() {
		v = reflect.Value{}
	}
	if !v.IsValid() {
		if _, ok := n.branchIndex["null"]; ok {
			return nil, nil
		}
		return nil, fieldErr(fmt.Sprintf("want %s, got null", n.describe()))
	}
	if v.Type() == mapStringAnyType && v.Len() == 1 {
		m := v.Interface().(map[string]any)
		for k, x := range m {
			if i, ok := n.branchIndex[k]; ok {
				nat, err := toNative(n.branches[i], reflect.ValueOf(x))
				if err != nil {
					return nil, err
				}
				return wrapBranch(n.branches[i], nat), nil
			}
		}
	}
	var firstErr error
	candidates := 0
	for _, b := range n.branches {
		if b.kind == kindNull {
			continue
		}
		candidates++
		nat, err := toNative(b, v)
		if err == nil {
			return wrapBranch(b, nat), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if candidates == 1 {
		return nil, firstErr // the only choice: its error is the precise one
	}
	return nil, fieldErr(fmt.Sprintf("%s fits no branch of %s", goKind(v), n.describe()))
}

func wrapBranch(b *node, nat any) any {
	if b.kind == kindNull {
		return nil
	}
	return map[string]any{b.unionKey(): nat}
}

func recordNative(n *node, v reflect.Value) (any, error) {
	out := make(map[string]any, len(n.fields))
	switch {
	case v.Kind() == reflect.Struct:
		plan, err := planFor(n, v.Type())
		if err != nil {
			return nil, fieldErr(err.Error())
		}
		for i, f := range n.fields {
			idx := plan.index[i]
			if idx == nil {
				if !f.hasDefault {
					return nil, prefix("."+f.name, fieldErr(fmt.Sprintf("required field missing: Go %s has no field for it", v.Type())))
				}
				out[f.name] = f.defNative
				continue
			}
			x, err := toNative(f.typ, v.FieldByIndex(idx))
			if err != nil {
				return nil, prefix("."+f.name, err)
			}
			out[f.name] = x
		}
		return out, nil
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		if v.Type() == mapStringAnyType {
			return recordFromMap(n, v.Interface().(map[string]any), out)
		}
		found := 0
		for _, f := range n.fields {
			mv := v.MapIndex(reflect.ValueOf(f.name).Convert(v.Type().Key()))
			if !mv.IsValid() {
				if !f.hasDefault {
					return nil, prefix("."+f.name, fieldErr("required field missing"))
				}
				out[f.name] = f.defNative
				continue
			}
			found++
			x, err := toNative(f.typ, mv)
			if err != nil {
				return nil, prefix("."+f.name, err)
			}
			out[f.name] = x
		}
		if found < v.Len() {
			for _, k := range v.MapKeys() {
				if _, ok := n.fieldIndex[k.String()]; !ok {
					return nil, fieldErr(fmt.Sprintf("unknown field %q", k.String()))
				}
			}
		}
		return out, nil
	}
	return nil, mismatch(n, v)
}

func recordFromMap(n *node, m map[string]any, out map[string]any) (any, error) {
	found := 0
	for _, f := range n.fields {
		x, ok := m[f.name]
		if !ok {
			if !f.hasDefault {
				return nil, prefix("."+f.name, fieldErr("required field missing"))
			}
			out[f.name] = f.defNative
			continue
		}
		found++
		nat, err := toNative(f.typ, reflect.ValueOf(x))
		if err != nil {
			return nil, prefix("."+f.name, err)
		}
		out[f.name] = nat
	}
	if found < len(m) {
		for k := range m {
			if _, ok := n.fieldIndex[k]; !ok {
				return nil, fieldErr(fmt.Sprintf("unknown field %q", k))
			}
		}
	}
	return out, nil
}
