package schema

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// How For names the Avro record, enum and fixed types it derives. A
// reader matches a writer's named type by name or by the reader's aliases
// (see Schema.DecodeFrom), so the name is part of a schema's contract with
// data already written: a Go type renamed to OrderCreatedV2 must still say
// it reads OrderCreated. The root type is named by For's options; every
// type, the root included, can name itself with the AvroName, AvroNamespace
// and AvroAliases methods, which For's options override for the root.

// Namer is implemented by a Go type that gives the Avro record, enum or
// fixed type derived from it a name other than its Go type name, so the Go
// type can be renamed without renaming the Avro type. The name is a simple
// Avro name ([A-Za-z_][A-Za-z0-9_]*); the namespace comes from Namespacer.
// The method is called on the zero value, once per derivation.
type Namer interface {
	AvroName() string
}

// Namespacer is implemented by a Go type that gives the Avro record, enum
// or fixed type derived from it a namespace. Without it the type has none.
// The method is called on the zero value, once per derivation.
type Namespacer interface {
	AvroNamespace() string
}

// Aliaser is implemented by a Go type whose derived Avro record, enum or
// fixed type reads data written under other names: each alias is a full
// name ("shop.OrderPlaced") or a simple one, taken to be in the type's own
// namespace. Aliases do not change the type's canonical form or
// fingerprint. The method is called on the zero value, once per derivation.
type Aliaser interface {
	AvroAliases() []string
}

var (
	namerType      = reflect.TypeFor[Namer]()
	namespacerType = reflect.TypeFor[Namespacer]()
	aliaserType    = reflect.TypeFor[Aliaser]()
)

// ForOption names the root record For derives: Name, Namespace, Aliases.
// An option overrides the root type's own AvroName, AvroNamespace or
// AvroAliases method; nested types are named by their methods only. A bad
// value is an error from For naming the option and the value.
type ForOption func(*naming)

// Name sets the root record's simple name (for example "OrderCreated"),
// instead of the Go type's name. It is what lets a Go type with another
// name read data written under this one; Aliases adds further names read.
// A dotted name is an error: set the namespace with Namespace.
func Name(name string) ForOption {
	return func(n *naming) {
		n.name, n.hasName = name, true
		switch {
		case strings.Contains(name, "."):
			n.fail("schema.Name(%q): a name has no dots; set the namespace with schema.Namespace", name)
		case validName(name) != nil:
			n.fail("schema.Name(%q): %v", name, validName(name))
		}
	}
}

// Namespace sets the root record's namespace (for example "shop"), instead
// of the root type's AvroNamespace method; "" means no namespace. Nested
// types keep their own, as Avro names them independently.
func Namespace(namespace string) ForOption {
	return func(n *naming) {
		n.namespace, n.hasNamespace = namespace, true
		if namespace == "" {
			return
		}
		if err := validFullName(namespace); err != nil {
			n.fail("schema.Namespace(%q): %v", namespace, err)
		}
	}
}

// Aliases sets the other names the root record reads data written under,
// instead of the root type's AvroAliases method: full names
// ("shop.OrderPlaced") or simple names in the record's namespace. Avro
// matches a writer's record to the reader's by name or by any reader
// alias, so this is how a record is renamed without breaking consumers.
func Aliases(aliases ...string) ForOption {
	return func(n *naming) {
		n.aliases, n.hasAliases = append([]string(nil), aliases...), true
		for _, a := range aliases {
			if err := validFullName(a); err != nil {
				n.fail("schema.Aliases(%q): %v", a, err)
			}
		}
	}
}

// naming is how one named type is called: its simple name, namespace and
// aliases, as set by ForOptions (the has* flags say which were) or by the
// type's methods.
type naming struct {
	name, namespace       string
	aliases               []string
	hasName, hasNamespace bool
	hasAliases            bool
	errs                  []string // bad option values, in order
}

func (n *naming) fail(format string, args ...any) {
	n.errs = append(n.errs, fmt.Sprintf(format, args...))
}

// full returns the full name: namespace.name, or name without a namespace.
func (n *naming) full() string {
	if n.namespace == "" {
		return n.name
	}
	return n.namespace + "." + n.name
}

// forOptions applies opts. It returns nil for none, so the common call
// For[T]() shares one cache entry per type.
func forOptions(opts []ForOption) (*naming, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	n := &naming{}
	for _, o := range opts {
		if o != nil {
			o(n)
		}
	}
	if len(n.errs) > 0 {
		return nil, errors.New(strings.Join(n.errs, "; "))
	}
	return n, nil
}

// cacheKey tells apart the derivations of one Go type under different
// options.
func (n *naming) cacheKey() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, part := range []struct {
		set bool
		v   string
	}{{n.hasName, n.name}, {n.hasNamespace, n.namespace}, {n.hasAliases, strings.Join(n.aliases, ",")}} {
		if part.set {
			b.WriteString(strconv.Quote(part.v))
		}
		b.WriteByte('|')
	}
	return b.String()
}

// namingOf reads a Go type's naming from its methods (each optional), then
// applies over, the root's options (nil for a nested type). A bad value
// from a method is an error naming the method and the type.
func namingOf(t reflect.Type, over *naming) (*naming, error) {
	n := &naming{name: t.Name()}
	zero := reflect.New(t).Interface() // methods with value or pointer receivers
	if reflect.PointerTo(t).Implements(namerType) {
		n.name = zero.(Namer).AvroName()
		if err := validName(n.name); err != nil {
			return nil, fmt.Errorf("AvroName of %s: %w", t, err)
		}
	}
	if reflect.PointerTo(t).Implements(namespacerType) {
		n.namespace = zero.(Namespacer).AvroNamespace()
		if err := validNamespace(n.namespace); err != nil {
			return nil, fmt.Errorf("AvroNamespace of %s: %w", t, err)
		}
	}
	if reflect.PointerTo(t).Implements(aliaserType) {
		n.aliases = zero.(Aliaser).AvroAliases()
		for _, a := range n.aliases {
			if err := validFullName(a); err != nil {
				return nil, fmt.Errorf("AvroAliases of %s: %w", t, err)
			}
		}
	}
	if over != nil {
		if over.hasName {
			n.name = over.name
		}
		if over.hasNamespace {
			n.namespace = over.namespace
		}
		if over.hasAliases {
			n.aliases = over.aliases
		}
	}
	if n.name == "" {
		return nil, fmt.Errorf("anonymous %s has no name for an Avro type; declare a named type", t.Kind())
	}
	if err := validName(n.name); err != nil {
		return nil, fmt.Errorf("the name of Go type %s is not a valid Avro name; give it an AvroName method", t)
	}
	return n, nil
}

// validNamespace accepts "" (no namespace) and dotted Avro names.
func validNamespace(ns string) error {
	if ns == "" {
		return nil
	}
	return validFullName(ns)
}
