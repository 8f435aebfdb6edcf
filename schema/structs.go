package schema

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
)

// structField is one Go struct field as an Avro record field.
type structField struct {
	name    string // Avro field name
	goPath  string // Go field name(s), for errors: Inner.Field when promoted
	index   []int  // for reflect.Value.FieldByIndex
	typ     reflect.Type
	def     string // avroDefault tag: a JSON default
	aliases []string
}

type structInfo struct {
	fields []structField
	err    error
}

var structInfos sync.Map // reflect.Type -> *structInfo

// fieldsOf lists the fields of struct type t that map to Avro fields, in
// declaration order, with embedded structs flattened as encoding/json does.
// The Avro name is the avro tag's name, else the json tag's, else the Go
// name in snake_case; "-" in either tag skips the field.
func fieldsOf(t reflect.Type) ([]structField, error) {
	if si, ok := structInfos.Load(t); ok {
		si := si.(*structInfo)
		return si.fields, si.err
	}
	si := &structInfo{}
	si.fields, si.err = collectFields(t, nil, "", map[reflect.Type]bool{})
	if si.err == nil {
		seen := map[string]string{}
		for _, f := range si.fields {
			if prev, dup := seen[f.name]; dup {
				si.err = fmt.Errorf("%s.%s: Avro field name %q is also used by %s", t.Name(), f.goPath, f.name, prev)
				break
			}
			seen[f.name] = f.goPath
		}
	}
	actual, _ := structInfos.LoadOrStore(t, si)
	si = actual.(*structInfo)
	return si.fields, si.err
}

func collectFields(t reflect.Type, index []int, goPrefix string, embedding map[reflect.Type]bool) ([]structField, error) {
	var out []structField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, skip := tagName(sf)
		if skip {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct && sf.Type != timeType {
			if embedding[sf.Type] {
				continue
			}
			embedding[sf.Type] = true
			inner, err := collectFields(sf.Type, idx, goPrefix+sf.Name+".", embedding)
			delete(embedding, sf.Type)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = snakeCase(sf.Name)
		}
		f := structField{name: name, goPath: goPrefix + sf.Name, index: idx, typ: sf.Type}
		f.def = sf.Tag.Get("avroDefault")
		if a := sf.Tag.Get("avroAliases"); a != "" {
			for _, s := range strings.Split(a, ",") {
				if s = strings.TrimSpace(s); s != "" {
					f.aliases = append(f.aliases, s)
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// tagName returns the name an avro or json tag gives a field ("" for
// none), and whether a tag says to skip it.
func tagName(sf reflect.StructField) (string, bool) {
	if tag, ok := sf.Tag.Lookup("avro"); ok {
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			return "", true
		}
		if name != "" {
			return name, false
		}
	}
	if tag, ok := sf.Tag.Lookup("json"); ok {
		if tag == "-" {
			return "", true
		}
		name, _, _ := strings.Cut(tag, ",")
		return name, false
	}
	return "", false
}

// snakeCase turns a Go identifier into snake_case: OrderID -> order_id,
// HTTPServer -> http_server, CreatedAt -> created_at.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fieldPlan maps a record's fields to a struct type's fields: index[i] is
// the struct field for record field i, or nil when the struct lacks it.
type fieldPlan struct {
	index [][]int
	err   error
}

type planKey struct {
	n *node
	t reflect.Type
}

var fieldPlans sync.Map // planKey -> *fieldPlan

func planFor(n *node, t reflect.Type) (*fieldPlan, error) {
	key := planKey{n, t}
	if p, ok := fieldPlans.Load(key); ok {
		p := p.(*fieldPlan)
		return p, p.err
	}
	p := &fieldPlan{index: make([][]int, len(n.fields))}
	fs, err := fieldsOf(t)
	if err != nil {
		p.err = err
	} else {
		byName := make(map[string][]int, len(fs))
		for _, f := range fs {
			byName[f.name] = f.index
		}
		for i, f := range n.fields {
			p.index[i] = byName[f.name]
		}
	}
	actual, _ := fieldPlans.LoadOrStore(key, p)
	p = actual.(*fieldPlan)
	return p, p.err
}
