package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// Serde turns values into framed Avro messages with one schema and reads
// messages back into values of that schema, whichever compatible version
// of it they were written with. It is safe for concurrent use.
//
// Marshal writes single-object encoding by default, and the Confluent
// framing when the Serde has a registry (WithRegistry). Unmarshal reads
// either framing: it finds the writer's schema by fingerprint (the Serde's
// own schema, those given WithWriterSchemas, then the registry's
// ByFingerprint) or by registry id, and resolves it into the Serde's
// schema (see Schema.DecodeFrom).
type Serde struct {
	schema   *Schema
	registry Registry
	subject  string
	known    map[uint64]*Schema

	regMu sync.Mutex
	id    atomic.Int64 // registry id of schema; 0 until registered
	ids   sync.Map     // registry id -> *Schema fetched
}

// SerdeOption configures a Serde.
type SerdeOption func(*Serde)

// WithRegistry makes the Serde register its schema under subject in reg
// (on first Marshal, or explicitly with Register) and write the Confluent
// framing with the registry id; Unmarshal then also looks writer schemas up
// in reg by id and fingerprint. Without it, Marshal writes single-object
// encoding and no registry is consulted.
func WithRegistry(reg Registry, subject string) SerdeOption {
	return func(s *Serde) { s.registry, s.subject = reg, subject }
}

// WithWriterSchemas tells the Serde of other versions of its schema that
// data may have been written with, so single-object messages written with
// them decode without a registry.
func WithWriterSchemas(writers ...*Schema) SerdeOption {
	return func(s *Serde) {
		for _, w := range writers {
			if w != nil {
				s.known[w.fp] = w
			}
		}
	}
}

// NewSerde returns a Serde for schema s: the schema Marshal writes with
// and Unmarshal reads into.
func NewSerde(s *Schema, opts ...SerdeOption) *Serde {
	if s == nil {
		panic("schema.NewSerde: nil schema")
	}
	sd := &Serde{schema: s, known: map[uint64]*Schema{}}
	for _, o := range opts {
		o(sd)
	}
	return sd
}

// Schema returns the Serde's schema.
func (sd *Serde) Schema() *Schema { return sd.schema }

// Framing returns the framing Marshal writes.
func (sd *Serde) Framing() Framing {
	if sd.registry != nil {
		return Confluent
	}
	return SingleObject
}

// Register registers the Serde's schema with its registry (once; later
// calls return the id) and returns the id. Call it at startup to fail fast;
// Marshal otherwise registers on first use. Without a registry it is an
// error.
func (sd *Serde) Register(ctx context.Context) (int, error) {
	if id := sd.id.Load(); id != 0 {
		return int(id), nil
	}
	if sd.registry == nil {
		return 0, errors.New("schema: serde has no registry")
	}
	sd.regMu.Lock()
	defer sd.regMu.Unlock()
	if id := sd.id.Load(); id != 0 {
		return int(id), nil
	}
	id, err := sd.registry.Register(ctx, sd.subject, sd.schema)
	if err != nil {
		return 0, fmt.Errorf("register schema %s under subject %q: %w", sd.schema.Name(), sd.subject, err)
	}
	sd.id.Store(int64(id))
	sd.ids.Store(id, sd.schema)
	return id, nil
}

// Marshal validates v against the Serde's schema and returns the framed
// message. A value that does not fit is a *FieldError naming the field.
func (sd *Serde) Marshal(v any) ([]byte, error) {
	return sd.MarshalContext(context.Background(), v)
}

// MarshalContext is Marshal with a context for the first registration.
func (sd *Serde) MarshalContext(ctx context.Context, v any) ([]byte, error) {
	var buf []byte
	if sd.registry != nil {
		id, err := sd.Register(ctx)
		if err != nil {
			return nil, err
		}
		buf = AppendConfluentHeader(make([]byte, 0, 64), id)
	} else {
		buf = AppendSingleObjectHeader(make([]byte, 0, 64), sd.schema.fp)
	}
	return sd.schema.AppendEncode(buf, v)
}

// Unmarshal decodes a framed message into out (see Schema.Decode for what
// out may be). The errors: ErrMalformed for bad bytes, ErrUnknownSchema
// when the writer schema cannot be found, *IncompatibleError when it
// cannot be read as the Serde's schema, *FieldError when a value does not
// fit out; all four are permanent. A registry lookup that fails to answer
// is a *RegistryError, which Transient reports worth retrying.
func (sd *Serde) Unmarshal(data []byte, out any) error {
	return sd.UnmarshalContext(context.Background(), data, out)
}

// UnmarshalContext is Unmarshal with a context for registry lookups; a
// lookup cut short by ctx is a *RegistryError wrapping ctx's error.
func (sd *Serde) UnmarshalContext(ctx context.Context, data []byte, out any) error {
	writer, body, err := sd.WriterSchema(ctx, data)
	if err != nil {
		return err
	}
	return sd.schema.DecodeFrom(writer, body, out)
}

// WriterSchema returns the schema a framed message was written with, and
// its body.
func (sd *Serde) WriterSchema(ctx context.Context, data []byte) (*Schema, []byte, error) {
	h, body, err := ReadHeader(data)
	if err != nil {
		return nil, nil, err
	}
	if h.Framing == Confluent {
		w, err := sd.byID(ctx, h.ID)
		return w, body, err
	}
	if h.Fingerprint == sd.schema.fp {
		return sd.schema, body, nil
	}
	if w, ok := sd.known[h.Fingerprint]; ok {
		return w, body, nil
	}
	if sd.registry != nil {
		if w, ok := sd.registry.ByFingerprint(h.Fingerprint); ok {
			return w, body, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: fingerprint %#016x", ErrUnknownSchema, h.Fingerprint)
}

func (sd *Serde) byID(ctx context.Context, id int) (*Schema, error) {
	if w, ok := sd.ids.Load(id); ok {
		return w.(*Schema), nil
	}
	if sd.registry == nil {
		return nil, fmt.Errorf("%w: confluent-framed message (schema id %d) and no registry", ErrUnknownSchema, id)
	}
	w, err := sd.registry.ByID(ctx, id)
	if err != nil {
		return nil, LookupError(id, err)
	}
	if w.fp == sd.schema.fp {
		w = sd.schema // same encoding: decode with our own, no resolution
	}
	sd.ids.Store(id, w)
	return w, nil
}

// LookupError keeps a registry's definite answers (unknown id, or a
// *RegistryError already) as they are and wraps anything else in a
// *RegistryError: a lookup has no other definite answer, so an error a
// client did not classify is taken to be I/O and retried rather than
// dead-lettered. The cause stays in the chain.
func LookupError(id int, err error) error {
	var re *RegistryError
	if errors.As(err, &re) || permanent(err) {
		return err
	}
	return &RegistryError{Op: "lookup id " + strconv.Itoa(id), Err: err}
}
