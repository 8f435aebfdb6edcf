package schema

import (
	"strings"
)

// kind is the Avro type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindBoolean
	kindInt
	kindLong
	kindFloat
	kindDouble
	kindBytes
	kindString
	kindRecord
	kindEnum
	kindFixed
	kindArray
	kindMap
	kindUnion
)

var kindNames = [...]string{
	kindNull:    "null",
	kindBoolean: "boolean",
	kindInt:     "int",
	kindLong:    "long",
	kindFloat:   "float",
	kindDouble:  "double",
	kindBytes:   "bytes",
	kindString:  "string",
	kindRecord:  "record",
	kindEnum:    "enum",
	kindFixed:   "fixed",
	kindArray:   "array",
	kindMap:     "map",
	kindUnion:   "union",
}

func (k kind) String() string { return kindNames[k] }

var primitiveKinds = map[string]kind{
	"null":    kindNull,
	"boolean": kindBoolean,
	"int":     kindInt,
	"long":    kindLong,
	"float":   kindFloat,
	"double":  kindDouble,
	"bytes":   kindBytes,
	"string":  kindString,
}

// Logical types this package (and goavro) gives a native Go form. Any other
// logicalType attribute is kept in the schema text but ignored, as the Avro
// specification requires.
const (
	logicalTimestampMillis = "timestamp-millis"
	logicalTimestampMicros = "timestamp-micros"
	logicalTimeMillis      = "time-millis"
	logicalTimeMicros      = "time-micros"
	logicalDate            = "date"
	logicalDecimal         = "decimal"
)

// logicalBase lists the underlying kind each known logical type annotates.
var logicalBase = map[string]kind{
	logicalTimestampMillis: kindLong,
	logicalTimestampMicros: kindLong,
	logicalTimeMillis:      kindInt,
	logicalTimeMicros:      kindLong,
	logicalDate:            kindInt,
}

// node is one parsed Avro type. Named types (record, enum, fixed) are shared
// by every reference to them, so a recursive schema is a cyclic graph.
type node struct {
	kind    kind
	logical string // a known logical type, or ""
	scale   int    // decimal scale
	prec    int    // decimal precision

	// Named types.
	name    string   // full name
	aliases []string // full names
	isError bool     // declared as "error" rather than "record"

	fields     []*field       // record
	fieldIndex map[string]int // record: field name -> index

	symbols        []string       // enum
	symbolIndex    map[string]int // enum
	enumDefault    string         // enum
	hasEnumDefault bool           // enum

	size int // fixed

	items *node // array items, map values

	branches    []*node        // union
	branchIndex map[string]int // union: goavro branch name -> index

	minSize int // the fewest bytes a value of this type encodes to
}

// field is one field of a record.
type field struct {
	name       string
	aliases    []string
	typ        *node
	hasDefault bool
	def        any // the default as decoded JSON (json.Number for numbers)
	defNative  any // the default in goavro's native form
}

// named reports whether n is a record, enum or fixed.
func (n *node) named() bool {
	return n.kind == kindRecord || n.kind == kindEnum || n.kind == kindFixed
}

// shortName is the name without its namespace.
func (n *node) shortName() string { return shortOf(n.name) }

// unionKey is the name goavro gives a value of this type inside a union:
// the full name of a named type, base.logical for the logical types goavro
// knows, else the primitive or complex type name.
func (n *node) unionKey() string {
	switch {
	case n.named():
		return n.name
	case n.logical == logicalDecimal:
		return "bytes.decimal"
	case n.logical != "":
		return n.kind.String() + "." + n.logical
	}
	return n.kind.String()
}

// describe names n for error messages: a primitive or complex type name, a
// named type's full name, the logical type in parentheses.
func (n *node) describe() string {
	switch {
	case n.named():
		return n.kind.String() + " " + n.name
	case n.kind == kindUnion:
		parts := make([]string, len(n.branches))
		for i, b := range n.branches {
			parts[i] = b.describe()
		}
		return "union [" + strings.Join(parts, ", ") + "]"
	case n.kind == kindArray:
		return "array of " + n.items.describe()
	case n.kind == kindMap:
		return "map of " + n.items.describe()
	case n.logical != "":
		return n.kind.String() + " (" + n.logical + ")"
	}
	return n.kind.String()
}

// rootPath is how error paths start for a schema rooted at n: the short
// name of a named type, else the type name.
func (n *node) rootPath() string {
	if n.named() {
		return n.shortName()
	}
	return n.kind.String()
}
