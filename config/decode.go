// This file holds decoding: the check of the config file's keys and
// section shapes as written (checkMap), the strict mapstructure hook that
// turns a wrong type into a problem naming the key (strictHook), and the
// translation of YAML and mapstructure errors into key problems.

package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// checkMap reports (and deletes) every key of m that t does not declare,
// and every section or list whose value has the wrong shape, so that the
// layers merge cleanly and each problem is reported once. An explicit null
// for an optional section (handler: {log: }) means the section with its
// defaults.
func checkMap(t reflect.Type, m map[string]any, path string, report func(key string, err error)) {
	fields := map[string]reflect.StructField{}
	names := []string{}
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			fields[name] = t.Field(i)
			names = append(names, name)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := joinKey(path, k)
		f, ok := fields[k]
		if !ok {
			report(key, unknownKey(k, names))
			delete(m, k)
			continue
		}
		checkValue(f.Type, m, k, key, report)
	}
}

// checkCase reports every key of raw, the file's section of type t as
// written, that is not lower case, and deletes it (viper's lower-cased
// copy of it) from m, the same section as viper read it. Keys are lower
// case: Kafka: is an unknown key, not kafka:. Sections and lists of
// sections are followed; the keys of a map value (a topic's config) are
// names, not keys, and are left alone.
func checkCase(t reflect.Type, raw, m map[string]any, path string, report func(key string, err error)) {
	fields := map[string]reflect.StructField{}
	names := []string{}
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			fields[name] = t.Field(i)
			names = append(names, name)
		}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lower := strings.ToLower(k)
		if k != lower {
			err := unknownKey(lower, names)
			if _, ok := fields[lower]; ok {
				err = fmt.Errorf("unknown key (did you mean %s? keys are lower case)", lower)
			}
			report(joinKey(path, k), err)
			delete(m, lower)
			continue
		}
		f, ok := fields[k]
		if !ok {
			continue // checkMap reports it
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			rs, ok1 := raw[k].(map[string]any)
			ms, ok2 := m[k].(map[string]any)
			if ok1 && ok2 {
				checkCase(ft, rs, ms, joinKey(path, k), report)
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			rl, ok1 := raw[k].([]any)
			ml, ok2 := m[k].([]any)
			if !ok1 || !ok2 {
				continue
			}
			for i := range min(len(rl), len(ml)) {
				rs, ok1 := rl[i].(map[string]any)
				ms, ok2 := ml[i].(map[string]any)
				if ok1 && ok2 {
					checkCase(ft.Elem(), rs, ms, fmt.Sprintf("%s[%d]", joinKey(path, k), i), report)
				}
			}
		}
	}
}

// checkValue checks m[k], the value at key of a field of type ft: a
// section must be a mapping and a list of sections a list, each checked
// in turn; a misshapen one is reported and deleted. A null optional
// section becomes an empty one.
func checkValue(ft reflect.Type, m map[string]any, k, key string, report func(key string, err error)) {
	if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
		ft = ft.Elem()
		if m[k] == nil {
			m[k] = map[string]any{}
		}
	}
	switch {
	case m[k] == nil:
	case ft == execHandlerType:
		// handler.exec is a command list or a mapping (config/exec.go).
		m[k] = execListForm(m[k])
		sub, ok := m[k].(map[string]any)
		if !ok {
			report(key, fmt.Errorf("expected a list (the command) or a mapping (command, mode), got %s", describe(m[k])))
			delete(m, k)
			return
		}
		checkMap(ft, sub, key, report)
	case ft.Kind() == reflect.Struct && ft != durationType:
		sub, ok := m[k].(map[string]any)
		if !ok {
			report(key, fmt.Errorf("expected a mapping of keys, got %s", describe(m[k])))
			delete(m, k)
			return
		}
		checkMap(ft, sub, key, report)
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
		list, ok := m[k].([]any)
		if !ok {
			report(key, fmt.Errorf("expected a list, got %s", describe(m[k])))
			delete(m, k)
			return
		}
		checkList(ft.Elem(), list, key, report)
	}
}

// checkList checks each item of a list of sections of type t at key.
func checkList(t reflect.Type, list []any, key string, report func(key string, err error)) {
	for i, item := range list {
		itemKey := fmt.Sprintf("%s[%d]", key, i)
		sub, ok := item.(map[string]any)
		if !ok {
			// Kept so that later items keep their index; the
			// decoder's error on it is dropped as a consequence.
			report(itemKey, fmt.Errorf("expected a mapping of keys, got %s", describe(item)))
			continue
		}
		checkMap(t, sub, itemKey, report)
	}
}

// strictHook converts and checks every value before mapstructure sets it,
// so that a wrong type is a problem naming the key rather than a silent
// conversion: durations need a unit (a bare 100 could mean nanoseconds or
// milliseconds), numbers must fit, and a section must be a mapping.
// Numbers and booleans are accepted where a string is expected (topic
// configs such as retention.ms: 86400000).
func strictHook(from, to reflect.Type, data any) (any, error) {
	if data == nil {
		return nil, nil
	}
	switch {
	case to == durationType:
		return hookDuration(data)
	case isInt(to.Kind()):
		return hookInt(to, data)
	case to.Kind() == reflect.Float64:
		return hookFloat(data)
	case to.Kind() == reflect.Bool:
		if _, ok := data.(bool); !ok {
			return nil, fmt.Errorf("expected true or false, got %s", describe(data))
		}
	case to.Kind() == reflect.String:
		return hookString(data)
	case to.Kind() == reflect.Slice:
		if from.Kind() != reflect.Slice {
			return nil, fmt.Errorf("expected a list, got %s", describe(data))
		}
	case to.Kind() == reflect.Map || to.Kind() == reflect.Struct:
		if from.Kind() != reflect.Map && from != to {
			return nil, fmt.Errorf("expected a mapping of keys, got %s", describe(data))
		}
	}
	return data, nil
}

// hookDuration converts data to a time.Duration: a duration, a string
// with a unit, or a bare 0.
func hookDuration(data any) (any, error) {
	switch v := data.(type) {
	case time.Duration:
		return v, nil
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, durationProblem(v)
		}
		return d, nil
	}
	if n, ok := toInt64(data); ok && n == 0 {
		return time.Duration(0), nil
	}
	return nil, durationProblem(data)
}

// hookInt converts data to an integer that fits the integer type to.
func hookInt(to reflect.Type, data any) (any, error) {
	n, ok := toInt64(data)
	if !ok {
		return nil, fmt.Errorf("expected an integer, got %s", describe(data))
	}
	if reflect.New(to).Elem().OverflowInt(n) {
		return nil, fmt.Errorf("%d is out of range", n)
	}
	return n, nil
}

// hookFloat converts data to a finite float64.
func hookFloat(data any) (any, error) {
	f, ok := toFloat64(data)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("expected a number, got %s", describe(data))
	}
	return f, nil
}

// hookString accepts a string, or formats a boolean or a number as one.
func hookString(data any) (any, error) {
	switch v := data.(type) {
	case string:
		return data, nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	if n, ok := toInt64(data); ok {
		return strconv.FormatInt(n, 10), nil
	}
	if f, ok := toFloat64(data); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	}
	return nil, fmt.Errorf("expected a string, got %s", describe(data))
}

// decodeErrors flattens mapstructure's (wrapped, joined) errors into key
// problems.
func decodeErrors(err error) []*KeyError {
	switch e := err.(type) {
	case nil:
		return nil
	case *mapstructure.DecodeError:
		key := e.Name()
		if key == "" {
			key = "(top level)"
		}
		return []*KeyError{{Key: key, Err: e.Unwrap()}}
	case interface{ Unwrap() []error }:
		var out []*KeyError
		for _, e := range e.Unwrap() {
			out = append(out, decodeErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			return decodeErrors(inner)
		}
	}
	return []*KeyError{{Key: "(top level)", Err: err}}
}

// yamlLine matches the YAML decoder's complaint that the file is not a
// mapping, capturing the tag of what it is instead.
var yamlLine = regexp.MustCompile(`cannot unmarshal !!(\w+).* into map\[string\]interface \{\}`)

// yamlProblem turns viper's YAML error into "line N: what", without the
// decoder's Go type names.
func yamlProblem(err error) string {
	var pe viper.ConfigParseError
	if errors.As(err, &pe) {
		err = pe.Unwrap()
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	lines := strings.Split(msg, "\n")
	for i, s := range lines {
		s = strings.TrimSpace(s)
		if m := yamlLine.FindStringSubmatch(s); m != nil {
			s = s[:strings.Index(s, "cannot")] + "the file must be a mapping of keys, not " + yamlKind(m[1])
		}
		lines[i] = s
	}
	return strings.Join(lines, "; ")
}

// yamlKind names a YAML tag (seq, str, ...) for a problem message.
func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "str":
		return "a string"
	case "int", "float":
		return "a number"
	case "bool":
		return "a boolean"
	}
	return "!!" + tag
}
