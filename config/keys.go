// This file holds the configuration's key names: the single-value keys
// the environment and flags can set (Keys, leaves), their environment
// variable names (EnvName), and the helpers that split, join and follow
// dotted keys such as consumers[1].backoff.jitter.

package config

import (
	"reflect"
	"slices"
	"strings"
	"time"
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "ACTORD_"

// EnvName is the environment variable that sets a dotted key:
// EnvName("kafka.bootstrap_servers") is "ACTORD_KAFKA_BOOTSTRAP_SERVERS".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists every key that holds a single value outside the lists, in
// the order of the Config struct: the keys the environment and flags can
// set.
func Keys() []string {
	lvs := leaves()
	keys := make([]string, len(lvs))
	for i, lf := range lvs {
		keys[i] = lf.key
	}
	return keys
}

// leaf is one key outside the lists that holds a single value.
type leaf struct {
	key   string
	typ   reflect.Type
	index []int
}

// get returns the leaf's value in c.
func (lf leaf) get(c Config) any {
	return reflect.ValueOf(c).FieldByIndex(lf.index).Interface()
}

// durationType is time.Duration's type, a scalar although its kind is int64.
var durationType = reflect.TypeFor[time.Duration]()

// leaves walks Config for the keys the environment and flags can set.
func leaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := tagName(f)
			if name == "" {
				continue
			}
			idx := append(slices.Clone(index), i)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(f.Type, prefix+name+".", idx)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				// topics and consumers: the file's alone.
			default:
				out = append(out, leaf{key: prefix + name, typ: f.Type, index: idx})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

// leafKeys lists the loader's single-value keys, as Keys does.
func (l *loader) leafKeys() []string {
	keys := make([]string, len(l.leaves))
	for i, lf := range l.leaves {
		keys[i] = lf.key
	}
	return keys
}

// tagName is the key a struct field is read from (its mapstructure tag),
// or "" for a field that is not a key.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// joinKey appends the key k to the dotted path of its section.
func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// splitKey splits "consumers[1].handler.http.url" into its steps:
// consumers, 1, handler, http, url. A bracketed step may hold dots
// (topics[0].config[retention.ms]).
func splitKey(key string) []string {
	var toks []string
	for key != "" {
		switch key[0] {
		case '.':
			key = key[1:]
		case '[':
			end := strings.IndexByte(key, ']')
			if end < 0 {
				return append(toks, key[1:])
			}
			toks, key = append(toks, key[1:end]), key[end+1:]
		default:
			end := strings.IndexAny(key, ".[")
			if end < 0 {
				end = len(key)
			}
			toks, key = append(toks, key[:end]), key[end:]
		}
	}
	return toks
}

// hasPath reports whether the nested maps of v hold the path.
func hasPath(v any, path ...string) bool {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

// pathValue returns the value the nested maps of v hold at path, or nil.
func pathValue(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
