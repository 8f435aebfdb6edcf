package schema

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// goavro (v2.15) cannot encode a zero decimal of a fixed type: it writes
// the one byte 0 and then refuses it for not being the fixed's size. So
// goavro compiles fixed decimals as plain fixed, and the package converts
// at its boundary: values going to goavro carry their fixed decimals as
// the padded two's-complement bytes (toBase), values coming from goavro
// get *big.Rat back (fromBase). Only schemas with a fixed decimal pay for
// the walk.

// hasFixedDecimal reports whether a fixed decimal is reachable from n.
func hasFixedDecimal(n *node) bool {
	seen := map[*node]bool{}
	var walk func(n *node) bool
	walk = func(n *node) bool {
		if n == nil || seen[n] {
			return false
		}
		seen[n] = true
		if n.kind == kindFixed && n.logical == logicalDecimal {
			return true
		}
		for _, f := range n.fields {
			if walk(f.typ) {
				return true
			}
		}
		for _, b := range n.branches {
			if walk(b) {
				return true
			}
		}
		return walk(n.items)
	}
	return walk(n)
}

// plainFixedText is the schema text with the decimal logical type taken
// off every fixed type (defaults left alone), for goavro.
func plainFixedText(text string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "fixed" && x["logicalType"] == logicalDecimal {
				delete(x, "logicalType")
				delete(x, "precision")
				delete(x, "scale")
			}
			for k, e := range x {
				if k != "default" {
					strip(e)
				}
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(out.Bytes())), nil
}

// fixedDecimals is v, a value of n in goavro's native form, with its
// fixed decimals rewritten by conv. v is not modified (it may hold a
// field default that every encoding shares): the containers on the way
// are copied.
func fixedDecimals(n *node, v any, conv func(n *node, v any) any) any {
	if v == nil {
		return nil
	}
	switch n.kind {
	case kindFixed:
		if n.logical == logicalDecimal {
			return conv(n, v)
		}
	case kindRecord:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				out[k] = e
			}
			for _, f := range n.fields {
				if fv, ok := m[f.name]; ok {
					out[f.name] = fixedDecimals(f.typ, fv, conv)
				}
			}
			return out
		}
	case kindArray:
		if a, ok := v.([]any); ok {
			out := make([]any, len(a))
			for i, e := range a {
				out[i] = fixedDecimals(n.items, e, conv)
			}
			return out
		}
	case kindMap:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				out[k] = fixedDecimals(n.items, e, conv)
			}
			return out
		}
	case kindUnion:
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for k, e := range m {
				if i, ok := n.branchIndex[k]; ok {
					return map[string]any{k: fixedDecimals(n.branches[i], e, conv)}
				}
			}
		}
	}
	return v
}

// toPlainFixed is a fixed decimal's value as goavro's plain fixed takes it.
func toPlainFixed(n *node, v any) any {
	if r, ok := v.(*big.Rat); ok {
		return toBase(n, r)
	}
	return v
}

// fromPlainFixed is a fixed decimal's value read by goavro's plain fixed.
func fromPlainFixed(n *node, v any) any {
	if b, ok := v.([]byte); ok {
		return fromBase(n, b)
	}
	return v
}
