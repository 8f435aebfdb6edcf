package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// Enum is implemented by a Go string type that For derives as an Avro enum
// rather than a string, named as records are (the Go type's name, or
// AvroName, AvroNamespace and AvroAliases). Encoding a value that is not
// one of the symbols is an error naming the field.
type Enum interface {
	AvroSymbols() []string
}

// EnumDefault is implemented by an Enum type that gives the derived enum a
// default: the symbol a reader with this schema substitutes for a symbol
// written by a newer schema that it does not know.
type EnumDefault interface {
	AvroEnumDefault() string
}

var (
	timeType         = reflect.TypeFor[time.Time]()
	durationType     = reflect.TypeFor[time.Duration]()
	bigRatType       = reflect.TypeFor[big.Rat]()
	jsonNumberType   = reflect.TypeFor[json.Number]()
	mapStringAnyType = reflect.TypeFor[map[string]any]()
	enumType         = reflect.TypeFor[Enum]()
)

type derivedEntry struct {
	s   *Schema
	err error
}

// derivedKey is one derivation: a Go type under one set of ForOptions.
type derivedKey struct {
	t    reflect.Type
	opts string // naming.cacheKey of the options; "" for none
}

var derived sync.Map // derivedKey -> derivedEntry

// For derives an Avro record schema from the Go struct type T (or *T). The
// result is computed once per type and set of options, and cached, so a
// call after the first costs a map lookup.
//
// Field names come from an `avro:"name"` tag, else the json tag's name,
// else the Go name in snake_case; "-" skips a field; embedded structs are
// flattened. An `avroDefault:"JSON"` tag gives a field a default and an
// `avroAliases:"old,older"` tag gives it aliases, for schema evolution.
//
// Types map as follows: bool to boolean; int, int64 and uint32 to long;
// int32, int16, int8, uint16 and uint8 to int; float64 to double; float32
// to float; string to string (to an enum if the type implements Enum);
// []byte to bytes; [N]byte to fixed; time.Time to a timestamp-millis long;
// a pointer to ["null", T] with default null; other slices and arrays to
// arrays; maps with string keys to maps; structs to records.
//
// A record, enum or fixed type is named after its Go type, unless the type
// has an AvroName method (Namer), in the namespace of its AvroNamespace
// method (Namespacer), with the aliases of its AvroAliases method
// (Aliaser). The options Name, Namespace and Aliases name the root record
// instead, overriding its methods:
//
//	schema.For[OrderCreatedV2](schema.Name("OrderCreated"), schema.Namespace("shop"))
//
// A type that cannot be mapped (uint, uint64, complex numbers, channels,
// functions, interfaces, maps with other keys, anonymous structs) is an
// error naming the field, and a bad name an error naming the option or
// method and the value, for example:
//
//	schema.For[OrderCreated]: OrderCreated.Items[].Meta: map key type int is not string
//	schema.For[OrderCreated]: schema.Name("Order-Created"): invalid name "Order-Created": want [A-Za-z_][A-Za-z0-9_]*
func For[T any](opts ...ForOption) (*Schema, error) {
	t := reflect.TypeFor[T]()
	over, err := forOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("schema.For[%s]: %w", t, err)
	}
	return forType(t, over)
}

func forType(t reflect.Type, over *naming) (*Schema, error) {
	key := derivedKey{t, over.cacheKey()}
	if e, ok := derived.Load(key); ok {
		e := e.(derivedEntry)
		return e.s, e.err
	}
	var e derivedEntry
	e.s, e.err = derive(t, over)
	actual, _ := derived.LoadOrStore(key, e)
	e = actual.(derivedEntry)
	return e.s, e.err
}

func derive(t reflect.Type, over *naming) (*Schema, error) {
	root := t
	for root.Kind() == reflect.Pointer {
		root = root.Elem()
	}
	label := "schema.For[" + t.String() + "]"
	if root.Kind() != reflect.Struct || root == timeType {
		return nil, fmt.Errorf("%s: %s is not a struct", label, t)
	}
	d := &deriver{named: map[string]reflect.Type{}, types: map[reflect.Type]string{}, root: root, over: over}
	js, err := d.typeOf(root, root.Name())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(js); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	s, err := Parse(buf.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return s, nil
}

// obj is a JSON object that keeps its keys in order, so derived schemas
// read the way a person would write them.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(p.k))
		b.WriteByte(':')
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// deriver builds the JSON of a derived schema. named remembers the Go type
// behind each Avro name defined so far, and types the reverse, so a type
// used twice (or recursively) is defined once and referred to by name
// after, and two Go types never claim one Avro name.
type deriver struct {
	named map[string]reflect.Type
	types map[reflect.Type]string
	root  reflect.Type
	over  *naming // For's options, for root only; nil for none
}

// pathErr is a derivation error at a Go field path.
func pathErr(path, format string, args ...any) error {
	return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

func (d *deriver) typeOf(t reflect.Type, path string) (any, error) {
	switch {
	case t == timeType:
		return obj{{"type", "long"}, {"logicalType", logicalTimestampMillis}}, nil
	case t.Kind() == reflect.String && t.Implements(enumType):
		return d.enum(t, path)
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "long", nil
	case reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint16, reflect.Uint8:
		return "int", nil
	case reflect.Float64:
		return "double", nil
	case reflect.Float32:
		return "float", nil
	case reflect.String:
		return "string", nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes", nil
		}
		items, err := d.typeOf(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", items}}, nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return d.fixed(t, path)
		}
		items, err := d.typeOf(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", items}}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, pathErr(path, "map key type %s is not string", t.Key())
		}
		values, err := d.typeOf(t.Elem(), path+"{}")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "map"}, {"values", values}}, nil
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return nil, pathErr(path, "pointer to pointer %s has no Avro form", t)
		}
		inner, err := d.typeOf(t.Elem(), path)
		if err != nil {
			return nil, err
		}
		return []any{"null", inner}, nil
	case reflect.Struct:
		return d.record(t, path)
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return nil, pathErr(path, "type %s does not fit an Avro long (use int64 or uint32)", t)
	}
	return nil, pathErr(path, "type %s has no Avro form", t)
}

// define claims an Avro name for Go type t. It returns the type's naming
// (with its full name) and whether t was defined before, so the caller
// refers to it by name.
func (d *deriver) define(t reflect.Type, path string) (*naming, string, bool, error) {
	if full, ok := d.types[t]; ok {
		return nil, full, true, nil
	}
	var over *naming
	if t == d.root {
		over = d.over
	}
	n, err := namingOf(t, over)
	if err != nil {
		return nil, "", false, pathErr(path, "%v", err)
	}
	full := n.full()
	if err := validFullName(full); err != nil {
		return nil, "", false, pathErr(path, "name of %s: %v", t, err)
	}
	if prev, ok := d.named[full]; ok {
		return nil, "", false, pathErr(path, "Go types %s and %s both map to Avro name %q; give one an AvroName or AvroNamespace method", prev, t, full)
	}
	d.named[full] = t
	d.types[t] = full
	return n, full, false, nil
}

// namedObj starts the JSON object of a named type: its type, name and, when
// it has any, aliases.
func namedObj(typ, full string, n *naming) obj {
	o := obj{{"type", typ}, {"name", full}}
	if len(n.aliases) > 0 {
		o = append(o, kv{"aliases", n.aliases})
	}
	return o
}

func (d *deriver) record(t reflect.Type, path string) (any, error) {
	nm, full, seen, err := d.define(t, path)
	if err != nil || seen {
		return full, err
	}
	fs, err := fieldsOf(t)
	if err != nil {
		return nil, err
	}
	fields := make([]any, 0, len(fs))
	for _, f := range fs {
		fpath := path + "." + f.goPath
		if err := validName(f.name); err != nil {
			return nil, pathErr(fpath, "field name: %v", err)
		}
		ft, err := d.typeOf(f.typ, fpath)
		if err != nil {
			return nil, err
		}
		fo := obj{{"name", f.name}, {"type", ft}}
		switch {
		case f.def != "":
			if !json.Valid([]byte(f.def)) {
				return nil, pathErr(fpath, "avroDefault tag %q is not JSON", f.def)
			}
			fo = append(fo, kv{"default", json.RawMessage(f.def)})
		case f.typ.Kind() == reflect.Pointer:
			fo = append(fo, kv{"default", nil})
		}
		if len(f.aliases) > 0 {
			fo = append(fo, kv{"aliases", f.aliases})
		}
		fields = append(fields, fo)
	}
	return append(namedObj("record", full, nm), kv{"fields", fields}), nil
}

func (d *deriver) enum(t reflect.Type, path string) (any, error) {
	nm, full, seen, err := d.define(t, path)
	if err != nil || seen {
		return full, err
	}
	zero := reflect.Zero(t).Interface()
	o := append(namedObj("enum", full, nm), kv{"symbols", zero.(Enum).AvroSymbols()})
	if d, ok := zero.(EnumDefault); ok {
		o = append(o, kv{"default", d.AvroEnumDefault()})
	}
	return o, nil
}

func (d *deriver) fixed(t reflect.Type, path string) (any, error) {
	if t.Name() == "" {
		// An unnamed [N]byte: one fixed type per size.
		full := "fixed_" + strconv.Itoa(t.Len())
		if _, ok := d.named[full]; ok {
			return full, nil
		}
		d.named[full] = t
		return obj{{"type", "fixed"}, {"name", full}, {"size", t.Len()}}, nil
	}
	nm, full, seen, err := d.define(t, path)
	if err != nil || seen {
		return full, err
	}
	return append(namedObj("fixed", full, nm), kv{"size", t.Len()}), nil
}
