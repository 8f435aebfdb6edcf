package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parser turns decoded schema JSON into a node graph, resolving names the
// way the Avro specification says: a dotted name is a full name; otherwise
// the type's namespace attribute, else the enclosing namespace, qualifies
// it; a reference is looked up in the enclosing namespace, then as given.
type parser struct {
	names map[string]*node
	// strict validates field defaults against their types (and converts
	// them to goavro's native form). Parse is always strict; the Avro
	// specification's canonical-form vectors are not (one carries the
	// string "true" as a boolean default), so the tests parse them leniently.
	strict bool
}

// decodeJSON decodes one JSON value, numbers as json.Number, and rejects
// trailing data.
func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the schema")
	}
	return v, nil
}

// parseNode parses schema JSON text into its node graph.
func parseNode(text string, strict bool) (*node, error) {
	v, err := decodeJSON(text)
	if err != nil {
		return nil, err
	}
	p := &parser{names: map[string]*node{}, strict: strict}
	n, err := p.parse(v, "", "")
	if err != nil {
		return nil, err
	}
	computeMinSize(n, map[*node]bool{})
	return n, nil
}

// at prefixes a schema error with where it was found.
func at(path string, err error) error {
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func (p *parser) parse(v any, ns, path string) (*node, error) {
	switch v := v.(type) {
	case string:
		return p.reference(v, ns, path)
	case []any:
		return p.union(v, ns, path)
	case map[string]any:
		return p.object(v, ns, path)
	}
	return nil, at(path, fmt.Errorf("a schema is a type name, an object or a union array, not %s", jsonKind(v)))
}

func (p *parser) reference(name, ns, path string) (*node, error) {
	if k, ok := primitiveKinds[name]; ok {
		return &node{kind: k}, nil
	}
	if !strings.Contains(name, ".") && ns != "" {
		if n, ok := p.names[ns+"."+name]; ok {
			return n, nil
		}
	}
	if n, ok := p.names[name]; ok {
		return n, nil
	}
	return nil, at(path, fmt.Errorf("unknown type %q", name))
}

func (p *parser) union(items []any, ns, path string) (*node, error) {
	n := &node{kind: kindUnion, branchIndex: make(map[string]int, len(items))}
	for i, item := range items {
		b, err := p.parse(item, ns, path)
		if err != nil {
			return nil, err
		}
		if b.kind == kindUnion {
			return nil, at(path, fmt.Errorf("union branch %d is itself a union", i))
		}
		key := b.unionKey()
		if _, dup := n.branchIndex[key]; dup {
			return nil, at(path, fmt.Errorf("union has two branches of type %s", key))
		}
		n.branchIndex[key] = i
		n.branches = append(n.branches, b)
	}
	return n, nil
}

func (p *parser) object(m map[string]any, ns, path string) (*node, error) {
	t, ok := m["type"]
	if !ok {
		return nil, at(path, errors.New(`schema object has no "type"`))
	}
	tname, ok := t.(string)
	if !ok {
		// {"type": {...}} or {"type": [...]}: the type is nested.
		return p.parse(t, ns, path)
	}
	switch tname {
	case "record", "error":
		return p.record(m, tname == "error", ns, path)
	case "enum":
		return p.enum(m, ns, path)
	case "fixed":
		return p.fixed(m, ns, path)
	case "array":
		items, ok := m["items"]
		if !ok {
			return nil, at(path, errors.New(`array has no "items"`))
		}
		it, err := p.parse(items, ns, path+"[]")
		if err != nil {
			return nil, err
		}
		return &node{kind: kindArray, items: it}, nil
	case "map":
		values, ok := m["values"]
		if !ok {
			return nil, at(path, errors.New(`map has no "values"`))
		}
		vt, err := p.parse(values, ns, path+"{}")
		if err != nil {
			return nil, err
		}
		return &node{kind: kindMap, items: vt}, nil
	}
	k, ok := primitiveKinds[tname]
	if !ok {
		// {"type": "SomeNamedType"}
		return p.reference(tname, ns, path)
	}
	n := &node{kind: k}
	if lt, _ := m["logicalType"].(string); lt != "" {
		p.logical(n, lt, m)
	}
	return n, nil
}

// logical records a logical type on n when it is one this package gives a
// native form and it annotates the right base type; anything else is
// ignored, as the specification requires of an invalid logical type.
func (p *parser) logical(n *node, lt string, m map[string]any) {
	if lt == logicalDecimal {
		if n.kind != kindBytes && n.kind != kindFixed {
			return
		}
		prec, ok1 := jsonInt(m["precision"])
		scale, ok2 := jsonInt(m["scale"])
		if _, has := m["scale"]; !has {
			scale, ok2 = 0, true
		}
		if !ok1 || !ok2 || prec <= 0 || scale < 0 || scale > prec {
			return
		}
		n.logical, n.prec, n.scale = lt, prec, scale
		return
	}
	if base, ok := logicalBase[lt]; ok && base == n.kind {
		n.logical = lt
	}
}

// define computes and registers the full name of a named type.
func (p *parser) define(n *node, m map[string]any, ns, path string) (string, error) {
	name, ok := m["name"].(string)
	if !ok || name == "" {
		return "", at(path, fmt.Errorf("%s has no name", n.kind))
	}
	full := name
	if !strings.Contains(name, ".") {
		if nsv, has := m["namespace"]; has && nsv != nil {
			s, ok := nsv.(string)
			if !ok {
				return "", at(path, fmt.Errorf("%s %s: namespace is not a string", n.kind, name))
			}
			ns = s
		}
		if ns != "" {
			full = ns + "." + name
		}
	}
	if err := validFullName(full); err != nil {
		return "", at(path, err)
	}
	if _, prim := primitiveKinds[full]; prim {
		return "", at(path, fmt.Errorf("%s may not be named %q, a primitive type", n.kind, full))
	}
	if _, dup := p.names[full]; dup {
		return "", at(path, fmt.Errorf("type %q is defined twice", full))
	}
	n.name = full
	p.names[full] = n
	nsOfFull := ""
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		nsOfFull = full[:i]
	}
	aliases, err := stringList(m["aliases"])
	if err != nil {
		return "", at(path, fmt.Errorf("%s %s: aliases: %w", n.kind, full, err))
	}
	for _, a := range aliases {
		if !strings.Contains(a, ".") && nsOfFull != "" {
			a = nsOfFull + "." + a
		}
		if err := validFullName(a); err != nil {
			return "", at(path, fmt.Errorf("%s %s: alias: %w", n.kind, full, err))
		}
		n.aliases = append(n.aliases, a)
	}
	return nsOfFull, nil
}

func (p *parser) record(m map[string]any, isError bool, ns, path string) (*node, error) {
	n := &node{kind: kindRecord, isError: isError}
	ns, err := p.define(n, m, ns, path)
	if err != nil {
		return nil, err
	}
	if path == "" {
		path = n.shortName()
	}
	fs, ok := m["fields"].([]any)
	if !ok {
		return nil, at(path, fmt.Errorf("record %s has no fields array", n.name))
	}
	n.fieldIndex = make(map[string]int, len(fs))
	for i, fv := range fs {
		fm, ok := fv.(map[string]any)
		if !ok {
			return nil, at(path, fmt.Errorf("field %d is not an object", i))
		}
		fname, _ := fm["name"].(string)
		if err := validName(fname); err != nil {
			return nil, at(path, fmt.Errorf("field %d: %w", i, err))
		}
		fpath := path + "." + fname
		if _, dup := n.fieldIndex[fname]; dup {
			return nil, at(fpath, errors.New("field is defined twice"))
		}
		ft, ok := fm["type"]
		if !ok {
			return nil, at(fpath, errors.New(`field has no "type"`))
		}
		typ, err := p.parse(ft, ns, fpath)
		if err != nil {
			return nil, err
		}
		f := &field{name: fname, typ: typ}
		if f.aliases, err = stringList(fm["aliases"]); err != nil {
			return nil, at(fpath, fmt.Errorf("aliases: %w", err))
		}
		if o, has := fm["order"]; has && p.strict {
			if o != "ascending" && o != "descending" && o != "ignore" {
				return nil, at(fpath, fmt.Errorf("order %v: want ascending, descending or ignore", o))
			}
		}
		if def, has := fm["default"]; has {
			f.hasDefault, f.def = true, def
			if p.strict {
				if f.defNative, err = defaultNative(typ, def); err != nil {
					return nil, at(fpath, fmt.Errorf("default: %w", err))
				}
			}
		}
		n.fieldIndex[fname] = i
		n.fields = append(n.fields, f)
	}
	return n, nil
}

func (p *parser) enum(m map[string]any, ns, path string) (*node, error) {
	n := &node{kind: kindEnum}
	if _, err := p.define(n, m, ns, path); err != nil {
		return nil, err
	}
	if path == "" {
		path = n.shortName()
	}
	syms, err := stringList(m["symbols"])
	if err != nil || m["symbols"] == nil {
		return nil, at(path, fmt.Errorf("enum %s: symbols is not an array of strings", n.name))
	}
	n.symbolIndex = make(map[string]int, len(syms))
	for i, s := range syms {
		if err := validName(s); err != nil {
			return nil, at(path, fmt.Errorf("enum %s: symbol: %w", n.name, err))
		}
		if _, dup := n.symbolIndex[s]; dup {
			return nil, at(path, fmt.Errorf("enum %s: symbol %q appears twice", n.name, s))
		}
		n.symbolIndex[s] = i
	}
	n.symbols = syms
	if d, has := m["default"]; has {
		s, ok := d.(string)
		if _, known := n.symbolIndex[s]; !ok || !known {
			return nil, at(path, fmt.Errorf("enum %s: default %v is not one of its symbols", n.name, d))
		}
		n.enumDefault, n.hasEnumDefault = s, true
	}
	return n, nil
}

func (p *parser) fixed(m map[string]any, ns, path string) (*node, error) {
	n := &node{kind: kindFixed}
	if _, err := p.define(n, m, ns, path); err != nil {
		return nil, err
	}
	size, ok := jsonInt(m["size"])
	if !ok || size < 0 {
		return nil, at(path, fmt.Errorf("fixed %s: size is not a non-negative integer", n.name))
	}
	n.size = size
	if lt, _ := m["logicalType"].(string); lt == logicalDecimal {
		p.logical(n, lt, m)
	}
	return n, nil
}

// computeMinSize records on every node the fewest bytes its value encodes
// to; the body check uses it to bound array and map block counts.
func computeMinSize(n *node, visiting map[*node]bool) int {
	if visiting[n] {
		return 0 // a record inside itself: count it once
	}
	switch n.kind {
	case kindNull:
		n.minSize = 0
	case kindFloat:
		n.minSize = 4
	case kindDouble:
		n.minSize = 8
	case kindFixed:
		n.minSize = n.size
	case kindRecord:
		visiting[n] = true
		total := 0
		for _, f := range n.fields {
			total += computeMinSize(f.typ, visiting)
		}
		delete(visiting, n)
		n.minSize = total
	case kindArray, kindMap:
		visiting[n] = true
		computeMinSize(n.items, visiting)
		delete(visiting, n)
		n.minSize = 1
	case kindUnion:
		visiting[n] = true
		for _, b := range n.branches {
			computeMinSize(b, visiting)
		}
		delete(visiting, n)
		n.minSize = 1
	default:
		n.minSize = 1
	}
	return n.minSize
}

// validName checks one Avro name component: [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("invalid name %q: want [A-Za-z_][A-Za-z0-9_]*", s)
		}
	}
	return nil
}

// validFullName checks every dot-separated component of a full name.
func validFullName(s string) error {
	for _, part := range strings.Split(s, ".") {
		if err := validName(part); err != nil {
			return fmt.Errorf("invalid name %q: want dot-separated [A-Za-z_][A-Za-z0-9_]*", s)
		}
	}
	return nil
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("not an array")
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("element %d is not a string", i)
		}
		out[i] = s
	}
	return out, nil
}

func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n.String())
	return i, err == nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// compactJSON removes insignificant whitespace; String() of a parsed schema
// is its text as given, compacted.
func compactJSON(text string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(text)); err != nil {
		return strings.TrimSpace(text)
	}
	return b.String()
}
