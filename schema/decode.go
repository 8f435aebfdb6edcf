package schema

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"
)

// Decode decodes an Avro binary body written with this schema into out: a
// pointer to a struct (fields matched by Avro name as For derives them;
// record fields the struct lacks are skipped), to a map[string]any, or to
// an any. In maps and anys, records are map[string]any, unions are their
// plain value (nil for null), bytes are copies, timestamps and dates are
// time.Time, times of day time.Duration, decimals *big.Rat.
//
// Malformed bytes are an error wrapping ErrMalformed; a value that does not
// fit its Go field is a *FieldError naming the field.
func (s *Schema) Decode(body []byte, out any) error {
	return s.DecodeFrom(s, body, out)
}

// DecodeFrom decodes a body written with the writer schema into out, which
// is shaped by this (the reader's) schema, resolving the differences the
// way the Avro specification does: reader fields the writer lacks take
// their defaults, writer fields the reader lacks are skipped, numbers
// promote (int to long, float or double; long to float or double; float to
// double), string and bytes interchange, aliases rename, and an enum symbol
// the reader lacks becomes the reader's enum default. What cannot be
// resolved is an *IncompatibleError.
func (s *Schema) DecodeFrom(writer *Schema, body []byte, out any) error {
	dst := reflect.ValueOf(out)
	if dst.Kind() != reflect.Pointer || dst.IsNil() {
		return fmt.Errorf("avro decode: want a non-nil pointer, got %T", out)
	}
	nat, err := writer.decodeNative(body)
	if err != nil {
		return err
	}
	if writer != s && writer.text != s.text {
		if nat, err = s.resolutionFrom(writer).apply(nat); err != nil {
			return err
		}
	}
	if err := assign(s.root, nat, dst.Elem()); err != nil {
		return rooted(s.root, err)
	}
	return nil
}

// decodeNative checks and decodes a body into goavro's native form.
func (s *Schema) decodeNative(body []byte) (any, error) {
	if err := checkBody(s.root, body); err != nil {
		return nil, err
	}
	v, rest, err := nativeFromBinary(s, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the %s value", ErrMalformed, len(rest), s.root.rootPath())
	}
	return v, nil
}

// nativeFromBinary calls goavro, turning a panic into an error: checkBody
// has vetted the bytes, so this is a second line of defence.
func nativeFromBinary(s *Schema, body []byte) (v any, rest []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, rest, err = nil, nil, fmt.Errorf("goavro panicked: %v", r)
		}
	}()
	v, rest, err = s.codec.NativeFromBinary(body)
	if err == nil && s.fixedDec {
		v = fixedDecimals(s.root, v, fromPlainFixed)
	}
	return v, rest, err
}

// unwrapUnion returns the branch a goavro union value holds and its value.
func unwrapUnion(n *node, v any) (*node, any, error) {
	if v == nil {
		if i, ok := n.branchIndex["null"]; ok {
			return n.branches[i], nil, nil
		}
		return nil, nil, fieldErr("null value for a union without null")
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, x := range m {
			if i, ok := n.branchIndex[k]; ok {
				return n.branches[i], x, nil
			}
		}
	}
	return nil, nil, fieldErr(fmt.Sprintf("union value of Go type %T names no branch", v))
}

func decodeMismatch(n *node, v any, dst reflect.Value) error {
	return fieldErr(fmt.Sprintf("cannot decode %s value (%T) into Go %s", n.describe(), v, dst.Type()))
}

// assign stores the native value v of type n into dst.
func assign(n *node, v any, dst reflect.Value) error {
	if n.kind == kindUnion {
		b, x, err := unwrapUnion(n, v)
		if err != nil {
			return err
		}
		n, v = b, x
	}
	switch dst.Kind() {
	case reflect.Pointer:
		return assignPointer(n, v, dst)
	case reflect.Interface:
		return assignInterface(n, v, dst)
	}
	if v == nil {
		// null into a value that cannot be nil: its zero value.
		dst.SetZero()
		return nil
	}
	// Only three Go types need assignWellKnown; testing for them here spares
	// every other value a call.
	if t := dst.Type(); t == timeType || t == durationType || t == bigRatType {
		if done, err := assignWellKnown(n, v, dst); done {
			return err
		}
	}
	switch n.kind {
	case kindRecord:
		return assignRecord(n, v, dst)
	case kindArray:
		return assignArray(n, v, dst)
	case kindMap:
		return assignMap(n, v, dst)
	}
	return assignScalar(n, v, dst)
}

// assignPointer stores v through the pointer dst, allocating the pointee
// if dst is nil; null sets the pointer to nil.
func assignPointer(n *node, v any, dst reflect.Value) error {
	if v == nil {
		dst.SetZero()
		return nil
	}
	if dst.Type().Elem() == bigRatType {
		// A fresh copy, so the caller does not share goavro's *big.Rat.
		if r, ok := v.(*big.Rat); ok {
			dst.Set(reflect.ValueOf(new(big.Rat).Set(r)))
			return nil
		}
	}
	if dst.IsNil() {
		dst.Set(reflect.New(dst.Type().Elem()))
	}
	return assign(n, v, dst.Elem())
}

// assignInterface stores the plain Go form of v into the interface dst.
func assignInterface(n *node, v any, dst reflect.Value) error {
	if v == nil {
		dst.SetZero()
		return nil
	}
	p := plain(n, v)
	pv := reflect.ValueOf(p)
	if !pv.Type().AssignableTo(dst.Type()) {
		return decodeMismatch(n, v, dst)
	}
	dst.Set(pv)
	return nil
}

// assignWellKnown handles the Go types logical values decode into
// (time.Time, time.Duration, big.Rat). done is false when dst is none of
// them, or is a time.Duration and v is not, so v is assigned by its Avro
// kind instead (a time.Duration is also a plain integer).
func assignWellKnown(n *node, v any, dst reflect.Value) (done bool, err error) {
	switch dst.Type() {
	case timeType:
		if t, ok := v.(time.Time); ok {
			dst.Set(reflect.ValueOf(t))
			return true, nil
		}
		return true, decodeMismatch(n, v, dst)
	case durationType:
		if d, ok := v.(time.Duration); ok {
			dst.SetInt(int64(d))
			return true, nil
		}
	case bigRatType:
		if r, ok := v.(*big.Rat); ok {
			dst.Set(reflect.ValueOf(r).Elem())
			return true, nil
		}
		return true, decodeMismatch(n, v, dst)
	}
	return false, nil
}

// assignArray stores a native array into a Go slice or array; an array
// must have exactly as many elements as there are items.
func assignArray(n *node, v any, dst reflect.Value) error {
	arr, ok := v.([]any)
	if !ok {
		return decodeMismatch(n, v, dst)
	}
	switch dst.Kind() {
	case reflect.Slice:
		s := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, x := range arr {
			if err := assign(n.items, x, s.Index(i)); err != nil {
				return prefix("["+strconv.Itoa(i)+"]", err)
			}
		}
		dst.Set(s)
		return nil
	case reflect.Array:
		if len(arr) != dst.Len() {
			return fieldErr(fmt.Sprintf("cannot decode %d items into Go %s", len(arr), dst.Type()))
		}
		for i, x := range arr {
			if err := assign(n.items, x, dst.Index(i)); err != nil {
				return prefix("["+strconv.Itoa(i)+"]", err)
			}
		}
		return nil
	}
	return decodeMismatch(n, v, dst)
}

// assignMap stores a native map into a Go map with string-kinded keys.
func assignMap(n *node, v any, dst reflect.Value) error {
	m, ok := v.(map[string]any)
	if !ok || dst.Kind() != reflect.Map || dst.Type().Key().Kind() != reflect.String {
		return decodeMismatch(n, v, dst)
	}
	out := reflect.MakeMapWithSize(dst.Type(), len(m))
	et := dst.Type().Elem()
	for k, x := range m {
		ev := reflect.New(et).Elem()
		if err := assign(n.items, x, ev); err != nil {
			return prefix("["+strconv.Quote(k)+"]", err)
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
	}
	dst.Set(out)
	return nil
}

func assignRecord(n *node, v any, dst reflect.Value) error {
	m, ok := v.(map[string]any)
	if !ok {
		return decodeMismatch(n, v, dst)
	}
	switch {
	case dst.Kind() == reflect.Struct:
		plan, err := planFor(n, dst.Type())
		if err != nil {
			return fieldErr(err.Error())
		}
		for i, f := range n.fields {
			idx := plan.index[i]
			if idx == nil {
				continue
			}
			if err := assign(f.typ, m[f.name], dst.FieldByIndex(idx)); err != nil {
				return prefix("."+f.name, err)
			}
		}
		return nil
	case dst.Kind() == reflect.Map && dst.Type().Key().Kind() == reflect.String:
		if dst.Type() == mapStringAnyType {
			dst.Set(reflect.ValueOf(plain(n, m)))
			return nil
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(n.fields))
		et := dst.Type().Elem()
		for _, f := range n.fields {
			ev := reflect.New(et).Elem()
			if err := assign(f.typ, m[f.name], ev); err != nil {
				return prefix("."+f.name, err)
			}
			out.SetMapIndex(reflect.ValueOf(f.name).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
		return nil
	}
	return decodeMismatch(n, v, dst)
}

func assignScalar(n *node, v any, dst reflect.Value) error {
	switch x := v.(type) {
	case bool:
		if dst.Kind() == reflect.Bool {
			dst.SetBool(x)
			return nil
		}
	case int32:
		return assignInt(n, int64(x), dst)
	case int64:
		return assignInt(n, x, dst)
	case float32:
		return assignFloat(n, float64(x), dst)
	case float64:
		return assignFloat(n, x, dst)
	case string:
		switch {
		case dst.Kind() == reflect.String:
			dst.SetString(x)
			return nil
		case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Uint8:
			dst.SetBytes([]byte(x))
			return nil
		}
	case []byte:
		switch {
		case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Uint8:
			// goavro's bytes alias the input; the caller may reuse it.
			dst.SetBytes(append([]byte(nil), x...))
			return nil
		case dst.Kind() == reflect.Array && dst.Type().Elem().Kind() == reflect.Uint8:
			if len(x) != dst.Len() {
				return fieldErr(fmt.Sprintf("cannot decode %d bytes into Go %s", len(x), dst.Type()))
			}
			reflect.Copy(dst, reflect.ValueOf(x))
			return nil
		case dst.Kind() == reflect.String:
			dst.SetString(string(x))
			return nil
		}
	case time.Time:
		// A timestamp or date into a plain number: its base value.
		if dst.Kind() >= reflect.Int && dst.Kind() <= reflect.Int64 {
			return assignInt(n, reflect.ValueOf(toBase(n, x)).Int(), dst)
		}
	case time.Duration:
		if dst.Kind() >= reflect.Int && dst.Kind() <= reflect.Int64 {
			return assignInt(n, reflect.ValueOf(toBase(n, x)).Int(), dst)
		}
	}
	return decodeMismatch(n, v, dst)
}

func assignInt(n *node, i int64, dst reflect.Value) error {
	switch dst.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if dst.OverflowInt(i) {
			return fieldErr(fmt.Sprintf("%d overflows Go %s", i, dst.Type()))
		}
		dst.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if i < 0 || dst.OverflowUint(uint64(i)) {
			return fieldErr(fmt.Sprintf("%d overflows Go %s", i, dst.Type()))
		}
		dst.SetUint(uint64(i))
		return nil
	case reflect.Float32, reflect.Float64:
		dst.SetFloat(float64(i))
		return nil
	}
	if dst.Type() == timeType && n.logical == "" {
		return fieldErr(fmt.Sprintf("cannot decode %s into Go time.Time without a timestamp logical type", n.describe()))
	}
	return fieldErr(fmt.Sprintf("cannot decode %s value into Go %s", n.describe(), dst.Type()))
}

func assignFloat(n *node, f float64, dst reflect.Value) error {
	switch dst.Kind() {
	case reflect.Float32:
		if !math.IsInf(f, 0) && !math.IsNaN(f) && dst.OverflowFloat(f) {
			return fieldErr(fmt.Sprintf("%g overflows Go %s", f, dst.Type()))
		}
		dst.SetFloat(f)
		return nil
	case reflect.Float64:
		dst.SetFloat(f)
		return nil
	}
	return fieldErr(fmt.Sprintf("cannot decode %s value into Go %s", n.describe(), dst.Type()))
}

// plain turns a native value into plain Go: unions unwrapped, bytes copied,
// containers rebuilt so the caller owns them.
func plain(n *node, v any) any {
	if n.kind == kindUnion {
		b, x, err := unwrapUnion(n, v)
		if err != nil {
			return v
		}
		n, v = b, x
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		switch n.kind {
		case kindRecord:
			for _, f := range n.fields {
				if fv, ok := x[f.name]; ok {
					out[f.name] = plain(f.typ, fv)
				}
			}
		case kindMap:
			for k, e := range x {
				out[k] = plain(n.items, e)
			}
		default:
			for k, e := range x {
				out[k] = e
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if n.kind == kindArray {
				out[i] = plain(n.items, e)
			} else {
				out[i] = e
			}
		}
		return out
	case []byte:
		return append([]byte(nil), x...)
	}
	return v
}
