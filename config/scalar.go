// This file holds scalar values: parsing an environment or flag string as
// a key's type, converting decoded numbers, and describing a value in a
// problem message.

package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// parseScalar parses an environment or flag string as a value of t.
func parseScalar(s string, t reflect.Type) (any, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, durationProblem(s)
		}
		return d, nil
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case isInt(t.Kind()):
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer in range", s)
		}
		return n, nil
	case t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	}
	return s, nil
}

// durationProblem says that v is not a duration with a unit.
func durationProblem(v any) error {
	return fmt.Errorf("%s is not a duration: write it with a unit, like 100ms or 10s", describe(v))
}

// isInt reports whether k is a signed integer kind.
func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// toInt64 converts any integer, or a float holding an integer, to int64.
func toInt64(data any) (int64, bool) {
	v := reflect.ValueOf(data)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

// toFloat64 converts any float, or an integer toInt64 accepts, to float64.
func toFloat64(data any) (float64, bool) {
	v := reflect.ValueOf(data)
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	if n, ok := toInt64(data); ok {
		return float64(n), true
	}
	return 0, false
}

// describe shows a value in a problem message. Strings are quoted; lists
// and mappings are named, not printed.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprint(v)
	case time.Duration:
		return v.String()
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", v)
}
