package schema

import (
	"errors"
)

// FieldError reports a value that does not fit: a Go value that does not
// fit its schema when encoding (a missing required field, a wrong type, an
// unknown enum symbol), or a decoded value that does not fit the Go type it
// is decoded into. Path names the field, starting with the record's name:
//
//	OrderCreated.items[2].quantity: want int, got Go string
type FieldError struct {
	// Path locates the value: the root record's name, then .field, [index]
	// for array items and ["key"] for map values. Empty for a schema that
	// is not a record.
	Path string
	// Reason says what is wrong with the value.
	Reason string
}

// Error returns the path and the reason: "Order.items[2].quantity: ...".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// IncompatibleError reports that data written with one schema cannot be
// read with another: a field the reader needs has no default, types that
// do not promote, an enum symbol the reader lacks and has no default for.
// Retrying cannot help, so a consumer treats it as permanent.
type IncompatibleError struct {
	// Writer and Reader are the full names (or type names) of the two
	// schemas.
	Writer, Reader string
	// Path locates the problem from the reader's root, as in FieldError,
	// with [] for any array item and {} for any map value.
	Path string
	// Reason says what cannot be resolved.
	Reason string
}

// Error names both schemas, the path and the reason.
func (e *IncompatibleError) Error() string {
	return "cannot read " + e.Writer + " data as " + e.Reader + ": " + e.Path + ": " + e.Reason
}

// ErrUnknownSchema is wrapped by decoding errors when the writer's schema
// (by fingerprint or registry id) is not known.
var ErrUnknownSchema = errors.New("unknown writer schema")

// ErrMalformed is wrapped by decoding errors when the bytes are not a valid
// encoding: a bad framing header, a truncated or overlong body.
var ErrMalformed = errors.New("malformed avro data")

// prefix prepends a path segment to a *FieldError and returns other errors
// unchanged. Paths are built from the leaf up so that a value that fits
// costs nothing.
func prefix(seg string, err error) error {
	if fe, ok := err.(*FieldError); ok {
		fe.Path = seg + fe.Path
	}
	return err
}

// rooted names the root of a FieldError's path.
func rooted(n *node, err error) error {
	if fe, ok := err.(*FieldError); ok && n.kind == kindRecord {
		fe.Path = n.shortName() + fe.Path
	}
	return err
}

func fieldErr(reason string) *FieldError { return &FieldError{Reason: reason} }
