package schema

import (
	"strconv"
	"strings"
)

// canonicalForm writes the Parsing Canonical Form of the schema rooted at n,
// as the Avro specification defines it: primitives as bare names, full
// names everywhere, only the attributes name, type, fields, symbols, items,
// values and size (in that order), no whitespace, and a named type written
// out once then referred to by its full name.
func canonicalForm(n *node) string {
	var b strings.Builder
	writeCanonical(&b, n, map[*node]bool{})
	return b.String()
}

func writeCanonical(b *strings.Builder, n *node, seen map[*node]bool) {
	switch n.kind {
	case kindRecord, kindEnum, kindFixed:
		if seen[n] {
			b.WriteString(strconv.Quote(n.name))
			return
		}
		seen[n] = true
		b.WriteString(`{"name":`)
		b.WriteString(strconv.Quote(n.name))
		b.WriteString(`,"type":`)
		switch n.kind {
		case kindRecord:
			if n.isError {
				b.WriteString(`"error","fields":[`)
			} else {
				b.WriteString(`"record","fields":[`)
			}
			for i, f := range n.fields {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"name":`)
				b.WriteString(strconv.Quote(f.name))
				b.WriteString(`,"type":`)
				writeCanonical(b, f.typ, seen)
				b.WriteByte('}')
			}
			b.WriteString("]}")
		case kindEnum:
			b.WriteString(`"enum","symbols":[`)
			for i, s := range n.symbols {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Quote(s))
			}
			b.WriteString("]}")
		case kindFixed:
			b.WriteString(`"fixed","size":`)
			b.WriteString(strconv.Itoa(n.size))
			b.WriteByte('}')
		}
	case kindArray:
		b.WriteString(`{"type":"array","items":`)
		writeCanonical(b, n.items, seen)
		b.WriteByte('}')
	case kindMap:
		b.WriteString(`{"type":"map","values":`)
		writeCanonical(b, n.items, seen)
		b.WriteByte('}')
	case kindUnion:
		b.WriteByte('[')
		for i, br := range n.branches {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, br, seen)
		}
		b.WriteByte(']')
	default:
		b.WriteByte('"')
		b.WriteString(n.kind.String())
		b.WriteByte('"')
	}
}
