package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Schema resolution (the Avro specification's "Schema Resolution"): goavro
// decodes with the writer's schema only, so values decoded in the writer's
// shape are turned into the reader's by a tree of steps built once per
// (writer, reader) pair. Building the steps also lists every reason the
// reader cannot read some writer data, which is what Compatible reports.

// step turns a value of a writer type into a value of a reader type.
type step struct {
	fn       func(v any) (any, error)
	identity bool // fn returns v unchanged
}

func identityFn(v any) (any, error) { return v, nil }

// resolution is a built resolution from one writer schema to one reader.
type resolution struct {
	root *step
}

func (r *resolution) apply(v any) (any, error) { return r.root.fn(v) }

// resolutionFrom returns the cached resolution of writer's values into s.
func (s *Schema) resolutionFrom(writer *Schema) *resolution {
	if r, ok := s.resolutions.Load(writer); ok {
		return r.(*resolution)
	}
	rv := newResolver(writer.root, s.root, "writer's schema", "reader's schema")
	res := &resolution{root: rv.build(writer.root, s.root, s.root.rootPath())}
	actual, _ := s.resolutions.LoadOrStore(writer, res)
	return actual.(*resolution)
}

type resolver struct {
	writerName, readerName string
	labelW, labelR         string
	memo                   map[[2]*node]*step
	reasons                []string
}

func newResolver(w, r *node, labelW, labelR string) *resolver {
	return &resolver{
		writerName: nameOf(w),
		readerName: nameOf(r),
		labelW:     labelW,
		labelR:     labelR,
		memo:       map[[2]*node]*step{},
	}
}

func nameOf(n *node) string {
	if n.named() {
		return n.name
	}
	return n.kind.String()
}

// incompatible records a reason and returns a step that fails with it.
func (rv *resolver) incompatible(path, reason string) *step {
	rv.reasons = append(rv.reasons, path+": "+reason)
	err := &IncompatibleError{Writer: rv.writerName, Reader: rv.readerName, Path: path, Reason: reason}
	return &step{fn: func(any) (any, error) { return nil, err }}
}

func (rv *resolver) build(w, r *node, path string) *step {
	key := [2]*node{w, r}
	if st, ok := rv.memo[key]; ok {
		return st
	}
	st := &step{}
	rv.memo[key] = st // before recursing: recursive types refer back to st
	built := rv.make(w, r, path)
	st.fn, st.identity = built.fn, built.identity
	return st
}

func (rv *resolver) make(w, r *node, path string) *step {
	if w.kind == kindUnion {
		return rv.writerUnion(w, r, path)
	}
	if r.kind == kindUnion {
		return rv.readerUnion(w, r, path)
	}
	if w.kind == r.kind {
		switch w.kind {
		case kindRecord:
			return rv.record(w, r, path)
		case kindEnum:
			return rv.enum(w, r, path)
		case kindFixed:
			if !namesMatch(w, r) {
				return rv.nameMismatch(w, r, path)
			}
			if w.size != r.size {
				return rv.incompatible(path, fmt.Sprintf("fixed %s has size %d in the %s and %d in the %s", r.name, w.size, rv.labelW, r.size, rv.labelR))
			}
			return rv.logicalStep(w, r)
		case kindArray, kindMap:
			return rv.container(w, r, path)
		}
		return rv.logicalStep(w, r)
	}
	if promotes(w.kind, r.kind) {
		return &step{fn: func(v any) (any, error) {
			return fromBase(r, promote(toBase(w, v), r.kind)), nil
		}}
	}
	return rv.incompatible(path, fmt.Sprintf("%s in the %s cannot be read as %s in the %s", w.describe(), rv.labelW, r.describe(), rv.labelR))
}

// logicalStep resolves two values of one base type whose logical types
// may differ: through the base value when they do.
func (rv *resolver) logicalStep(w, r *node) *step {
	if w.logical == r.logical && w.scale == r.scale {
		return &step{fn: identityFn, identity: true}
	}
	return &step{fn: func(v any) (any, error) { return fromBase(r, toBase(w, v)), nil }}
}

// promotes reports the specification's promotions: int to long, float or
// double; long to float or double; float to double; string to bytes and
// bytes to string.
func promotes(w, r kind) bool {
	switch w {
	case kindInt:
		return r == kindLong || r == kindFloat || r == kindDouble
	case kindLong:
		return r == kindFloat || r == kindDouble
	case kindFloat:
		return r == kindDouble
	case kindString:
		return r == kindBytes
	case kindBytes:
		return r == kindString
	}
	return false
}

// promote converts a base value to the base value of kind r.
func promote(v any, r kind) any {
	switch x := v.(type) {
	case int32:
		switch r {
		case kindLong:
			return int64(x)
		case kindFloat:
			return float32(x)
		case kindDouble:
			return float64(x)
		}
	case int64:
		switch r {
		case kindFloat:
			return float32(x)
		case kindDouble:
			return float64(x)
		}
	case float32:
		return float64(x)
	case string:
		return []byte(x)
	case []byte:
		return string(x)
	}
	return v
}

// namesMatch reports whether a reader's named type reads a writer's: the
// same unqualified name, as the specification's resolution rules say, or a
// reader alias with the writer's unqualified name. Aliases compare the way
// names do, so an alias reads whatever the reader would read if it had
// been given that name.
func namesMatch(w, r *node) bool {
	ws := w.shortName()
	if ws == r.shortName() {
		return true
	}
	for _, a := range r.aliases {
		if shortOf(a) == ws {
			return true
		}
	}
	return false
}

// shortOf is a full name without its namespace.
func shortOf(full string) string {
	return full[strings.LastIndexByte(full, '.')+1:]
}

func (rv *resolver) nameMismatch(w, r *node, path string) *step {
	return rv.incompatible(path, fmt.Sprintf("%s %s in the %s is not %s %s in the %s (by name or alias)", w.kind, w.name, rv.labelW, r.kind, r.name, rv.labelR))
}

// unionIndex returns the branch index a goavro union value holds and the
// branch's value.
func unionIndex(n *node, v any) (int, any, error) {
	if v == nil {
		if i, ok := n.branchIndex["null"]; ok {
			return i, nil, nil
		}
	} else if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, x := range m {
			if i, ok := n.branchIndex[k]; ok {
				return i, x, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("%w: union value of Go type %T names no branch", ErrMalformed, v)
}

func (rv *resolver) writerUnion(w, r *node, path string) *step {
	steps := make([]*step, len(w.branches))
	for i, b := range w.branches {
		steps[i] = rv.build(b, r, path)
	}
	return &step{fn: func(v any) (any, error) {
		i, x, err := unionIndex(w, v)
		if err != nil {
			return nil, err
		}
		return steps[i].fn(x)
	}}
}

func (rv *resolver) readerUnion(w, r *node, path string) *step {
	pick := -1
	for i, b := range r.branches { // the first branch of the same type
		if b.kind == w.kind && (!w.named() || namesMatch(w, b)) {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, b := range r.branches { // else the first it promotes to
			if promotes(w.kind, b.kind) {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		return rv.incompatible(path, fmt.Sprintf("%s in the %s matches no branch of %s in the %s", w.describe(), rv.labelW, r.describe(), rv.labelR))
	}
	b := r.branches[pick]
	inner := rv.build(w, b, path)
	if b.kind == kindNull {
		return &step{fn: func(any) (any, error) { return nil, nil }}
	}
	key := b.unionKey()
	return &step{fn: func(v any) (any, error) {
		x, err := inner.fn(v)
		if err != nil {
			return nil, err
		}
		return map[string]any{key: x}, nil
	}}
}

// fieldStep fills one reader field: from a writer field through a step,
// or with the reader's default.
type fieldStep struct {
	name string
	from string
	step *step
	def  any
}

func (rv *resolver) record(w, r *node, path string) *step {
	if !namesMatch(w, r) {
		return rv.nameMismatch(w, r, path)
	}
	fields := make([]fieldStep, len(r.fields))
	identity := len(w.fields) == len(r.fields)
	var fatal *step
	for i, rf := range r.fields {
		fpath := path + "." + rf.name
		wf := writerField(w, rf)
		switch {
		case wf != nil:
			st := rv.build(wf.typ, rf.typ, fpath)
			fields[i] = fieldStep{name: rf.name, from: wf.name, step: st}
			identity = identity && wf.name == rf.name && st.identity
		case rf.hasDefault:
			fields[i] = fieldStep{name: rf.name, def: rf.defNative}
			identity = false
		default:
			st := rv.incompatible(fpath, fmt.Sprintf("field has no default in the %s and is missing from the %s", rv.labelR, rv.labelW))
			if fatal == nil {
				fatal = st
			}
		}
	}
	if fatal != nil {
		return fatal
	}
	if identity {
		return &step{fn: identityFn, identity: true}
	}
	return &step{fn: func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: record value of Go type %T", ErrMalformed, v)
		}
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			if f.step == nil {
				out[f.name] = f.def
				continue
			}
			x, err := f.step.fn(m[f.from])
			if err != nil {
				return nil, err
			}
			out[f.name] = x
		}
		return out, nil
	}}
}

// writerField finds the writer's field for a reader field: by name, then
// by the reader field's aliases.
func writerField(w *node, rf *field) *field {
	if i, ok := w.fieldIndex[rf.name]; ok {
		return w.fields[i]
	}
	for _, a := range rf.aliases {
		if i, ok := w.fieldIndex[a]; ok {
			return w.fields[i]
		}
	}
	return nil
}

func (rv *resolver) enum(w, r *node, path string) *step {
	if !namesMatch(w, r) {
		return rv.nameMismatch(w, r, path)
	}
	var missing []string
	for _, s := range w.symbols {
		if _, ok := r.symbolIndex[s]; !ok {
			missing = append(missing, strconv.Quote(s))
		}
	}
	if len(missing) == 0 {
		return &step{fn: identityFn, identity: true}
	}
	if !r.hasEnumDefault {
		rv.reasons = append(rv.reasons, fmt.Sprintf("%s: symbols %s of the %s are missing from the %s, which has no enum default",
			path, strings.Join(missing, ", "), rv.labelW, rv.labelR))
	}
	writerName, readerName, labelR := rv.writerName, rv.readerName, rv.labelR
	return &step{fn: func(v any) (any, error) {
		s, _ := v.(string)
		if _, ok := r.symbolIndex[s]; ok {
			return s, nil
		}
		if r.hasEnumDefault {
			return r.enumDefault, nil
		}
		return nil, &IncompatibleError{Writer: writerName, Reader: readerName, Path: path,
			Reason: fmt.Sprintf("symbol %q is not in the %s, which has no enum default", s, labelR)}
	}}
}

func (rv *resolver) container(w, r *node, path string) *step {
	suffix := "[]"
	if w.kind == kindMap {
		suffix = "{}"
	}
	inner := rv.build(w.items, r.items, path+suffix)
	if inner.identity {
		return &step{fn: identityFn, identity: true}
	}
	if w.kind == kindArray {
		return &step{fn: func(v any) (any, error) {
			arr, _ := v.([]any)
			out := make([]any, len(arr))
			for i, x := range arr {
				y, err := inner.fn(x)
				if err != nil {
					return nil, err
				}
				out[i] = y
			}
			return out, nil
		}}
	}
	return &step{fn: func(v any) (any, error) {
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, x := range m {
			y, err := inner.fn(x)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	}}
}
