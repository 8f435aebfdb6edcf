package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/schema"
)

// AvroJSON is the decoder of a consumer's schema: key (`actord start`): it
// turns an Avro record into its JSON value (schema.DecodeJSON's mapping),
// which Decoded then hands to log, exec and http handlers.
//
// The writer's schema is the registry's for a Confluent-framed record (by
// id, cached by the registry client), and reader's own or one the registry
// has seen for a single-object record. With a reader schema, the value is
// resolved into it. What does not decode (not Avro, an unknown id, a
// writer that cannot be read as reader) is a permanent error, so the
// consumer dead-letters the record with the reason; a registry that
// cannot answer is waited for within the attempt (schema.Await).
type AvroJSON struct {
	reader *schema.Schema
	reg    schema.Registry
	log    *slog.Logger
}

// NewAvroJSON returns the decoder of a reader schema (nil: the writer's
// fields) and a registry (nil: single-object records only). log receives
// one warning per record that waits for the registry; nil discards it.
func NewAvroJSON(reader *schema.Schema, reg schema.Registry, log *slog.Logger) (*AvroJSON, error) {
	if reader == nil && reg == nil {
		return nil, errors.New("handler: a schema needs a reader schema file or a registry")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AvroJSON{reader: reader, reg: reg, log: log}, nil
}

var _ actors.Decoder = (*AvroJSON)(nil)

// Decode implements actors.Decoder: v must be a *[]byte, which gets the
// JSON value.
func (d *AvroJSON) Decode(data []byte, v any) error {
	return d.DecodeContext(context.Background(), data, v)
}

// DecodeContext is Decode with the attempt's context, which bounds the
// wait for a registry that cannot answer (the runtime calls it).
func (d *AvroJSON) DecodeContext(ctx context.Context, data []byte, v any) error {
	out, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("handler: AvroJSON decodes into a *[]byte, not %T", v)
	}
	h, body, err := schema.ReadHeader(data)
	if err != nil {
		return err
	}
	writer, err := d.writer(ctx, h)
	if err != nil {
		return err
	}
	var j []byte
	if d.reader != nil {
		j, err = d.reader.DecodeJSONFrom(writer, body)
	} else {
		j, err = writer.DecodeJSON(body)
	}
	if err != nil {
		return err
	}
	*out = j
	return nil
}

func (d *AvroJSON) writer(ctx context.Context, h schema.Header) (*schema.Schema, error) {
	if h.Framing == schema.Confluent {
		if d.reg == nil {
			return nil, fmt.Errorf("%w: record framed with registry id %d and the consumer's schema has no registry: true", schema.ErrUnknownSchema, h.ID)
		}
		var w *schema.Schema
		err := schema.Await(ctx, func(ctx context.Context) error {
			var err error
			w, err = d.reg.ByID(ctx, h.ID)
			if err != nil {
				return schema.LookupError(h.ID, err)
			}
			return nil
		}, func(err error) { d.log.Warn("schema registry cannot answer: the record waits for it", "err", err) })
		return w, err
	}
	if d.reader != nil && h.Fingerprint == d.reader.Fingerprint() {
		return d.reader, nil
	}
	if d.reg != nil {
		if w, ok := d.reg.ByFingerprint(h.Fingerprint); ok {
			return w, nil
		}
	}
	return nil, fmt.Errorf("%w: single-object record with fingerprint %#016x, not the consumer's schema file's", schema.ErrUnknownSchema, h.Fingerprint)
}

// Decoded wraps a log, exec or http handler so that it gets the decoded
// value (the consumer's Decoder's, AvroJSON's JSON) where it would get the
// record's bytes: the log line's "value", the command's stdin, the POST
// body.
// The log kind writes that JSON as the line's "value" itself, not as a
// string.
func Decoded(fn Func) Func {
	return func(ctx context.Context, m actors.Message[[]byte]) error {
		m.Raw = m.Value
		return fn(context.WithValue(ctx, decodedKey{}, true), m)
	}
}

// decodedKey marks the context of a handler call whose value Decoded set.
type decodedKey struct{}

// decodedJSON reports whether ctx is a Decoded handler call's.
func decodedJSON(ctx context.Context) bool {
	v, _ := ctx.Value(decodedKey{}).(bool)
	return v
}

// AvroReencode is the decoder of a forward handler's schema: it reads each
// Avro record as AvroJSON does (the writer's schema by id or fingerprint,
// resolved into the reader schema) and encodes it again with the reader
// schema, so the forwarded topic carries one version, the reader's: with
// a registry in the Confluent framing with the reader's id under the
// target topic's subject (registered, or looked up, once), else in
// single-object encoding. Decoded then hands the new bytes to the forward
// handler. A schema the registry refuses for the target is permanent, so
// the record is dead-lettered with the registry's reason.
type AvroReencode struct {
	in    *AvroJSON
	serde *schema.Serde
}

// NewAvroReencode returns the re-encoding decoder of records forwarded to
// target; reader is required.
func NewAvroReencode(reader *schema.Schema, reg schema.Registry, target string, log *slog.Logger) (*AvroReencode, error) {
	if reader == nil {
		return nil, errors.New("handler: forward re-encodes with a reader schema: set schema.file")
	}
	in, err := NewAvroJSON(reader, reg, log)
	if err != nil {
		return nil, err
	}
	serde := schema.NewSerde(reader)
	if reg != nil {
		subject, err := schema.SubjectFor(reg, target, reader, false)
		if err != nil {
			return nil, fmt.Errorf("handler: forward to %s: %w", target, err)
		}
		serde = schema.NewSerde(reader, schema.WithRegistry(reg, subject))
	}
	return &AvroReencode{in: in, serde: serde}, nil
}

var _ actors.Decoder = (*AvroReencode)(nil)

// Decode implements actors.Decoder: v must be a *[]byte, which gets the
// re-encoded record.
func (d *AvroReencode) Decode(data []byte, v any) error {
	return d.DecodeContext(context.Background(), data, v)
}

// DecodeContext is Decode with the attempt's context, which bounds the
// waits for a registry that cannot answer.
func (d *AvroReencode) DecodeContext(ctx context.Context, data []byte, v any) error {
	out, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("handler: AvroReencode decodes into a *[]byte, not %T", v)
	}
	h, body, err := schema.ReadHeader(data)
	if err != nil {
		return err
	}
	writer, err := d.in.writer(ctx, h)
	if err != nil {
		return err
	}
	var val any
	if err := d.in.reader.DecodeFrom(writer, body, &val); err != nil {
		return err
	}
	var enc []byte
	err = schema.Await(ctx, func(ctx context.Context) error {
		var err error
		if enc, err = d.serde.MarshalContext(ctx, val); err != nil && !refusal(err) {
			// Not the registry's verdict on the schema (a 401, say): the
			// record is fine, so it waits as for a registry that is down.
			return &schema.RegistryError{Op: "register the forward schema", Err: err}
		}
		return err
	}, func(err error) { d.in.log.Warn("schema registry cannot answer: the record waits for it", "err", err) })
	if err != nil {
		return err // a *RefusedError is permanent: the record is dead-lettered with the reason
	}
	*out = enc
	return nil
}

// refusal reports whether err is a definite answer: the registry refused
// the schema, or the value does not fit it.
func refusal(err error) bool {
	var (
		re *schema.RefusedError
		fe *schema.FieldError
		rg *schema.RegistryError
	)
	return errors.As(err, &re) || errors.As(err, &fe) || errors.As(err, &rg)
}
