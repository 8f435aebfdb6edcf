package schema

import (
	"context"
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

// RegistryError reports that a schema registry could not answer: it could
// not be reached, timed out, answered with a server error (5xx), or the
// call's context ended first. The data may be fine, so a consumer retries
// the record (see Transient) instead of dead-lettering it.
//
// Registry implementations return it for I/O failures, and Serde wraps in
// one any error of a registry lookup that is not a definite answer (see
// Registry), so Transient holds however the registry client reports I/O.
type RegistryError struct {
	// Op names the call that failed, with its argument: "lookup id 7",
	// "register subject \"orders-value\"".
	Op string
	// Err is the cause: a network error, an HTTP status, context.Canceled
	// or context.DeadlineExceeded.
	Err error
}

// Error returns "schema registry: OP: CAUSE".
func (e *RegistryError) Error() string {
	msg := "schema registry: " + e.Op
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded)
// sees through a RegistryError.
func (e *RegistryError) Unwrap() error { return e.Err }

// Transient reports whether err is worth retrying: true when a
// *RegistryError or context.DeadlineExceeded is anywhere in its chain
// (through fmt.Errorf's %w, errors.Join and Unwrap), as long as nothing in
// the chain marks it permanent. It is false for nil and for the permanent
// kinds, which fail the same way every time: errors wrapping ErrMalformed
// or ErrUnknownSchema, *IncompatibleError and *FieldError. A permanent kind
// wins over a transient one, so a registry that reports "no such id"
// (ErrUnknownSchema) inside a RegistryError is not retried forever. Any
// other error is false, context.Canceled on its own included: nothing says
// a registry was asked. A registry call cut short by cancellation is a
// *RegistryError, and true, so a record is never dead-lettered only
// because its consumer was stopping.
//
// It costs a walk of the error chain, a few type checks per link.
func Transient(err error) bool {
	if err == nil || permanent(err) {
		return false
	}
	var re *RegistryError
	return errors.As(err, &re) || errors.Is(err, context.DeadlineExceeded)
}

// permanent reports whether err says the data or the schemas are at fault,
// so the same input fails the same way again.
func permanent(err error) bool {
	var (
		ie *IncompatibleError
		fe *FieldError
	)
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownSchema) ||
		errors.As(err, &ie) || errors.As(err, &fe)
}

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
