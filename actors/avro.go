package actors

import (
	"context"
	"fmt"
	"sync"

	"github.com/actord/actord/schema"
)

// knownSchemas is the runtime's in-process record of schemas by
// fingerprint, for single-object decoding.
type knownSchemas struct {
	mu sync.RWMutex
	m  map[uint64]*schema.Schema
}

func (k *knownSchemas) add(s *schema.Schema) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[uint64]*schema.Schema{}
	}
	k.m[s.Fingerprint()] = s
}

func (k *knownSchemas) get(fp uint64) (*schema.Schema, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s, ok := k.m[fp]
	return s, ok
}

// KnowSchema tells the runtime about a writer schema (for example an older
// version of a record) so that consumers can decode records written with
// it.
func (rt *Runtime) KnowSchema(s *schema.Schema) { rt.schemas.add(s) }

type avroEncoder struct {
	serde *schema.Serde
}

func (e avroEncoder) Encode(v any) ([]byte, error) { return e.serde.Marshal(v) }

// errEncoder fails every Encode with err: a producer whose subject cannot
// be named (a record-name strategy and a schema that is not named).
type errEncoder struct{ err error }

func (e errEncoder) Encode(any) ([]byte, error) { return nil, e.err }

func (rt *Runtime) avroEncoder(topic string, s *schema.Schema) Encoder {
	rt.schemas.add(s)
	if rt.s.registry != nil {
		// The registry's subject strategy (schema.RegistryClient's), else
		// "<topic>-value".
		subject, err := schema.SubjectFor(rt.s.registry, topic, s, false)
		if err != nil {
			return errEncoder{fmt.Errorf("producer of %s: %w", topic, err)}
		}
		return avroEncoder{schema.NewSerde(s, schema.WithRegistry(rt.s.registry, subject))}
	}
	return avroEncoder{schema.NewSerde(s)}
}

// avroDecoder decodes Avro records with the reader schema s, resolving
// from the writer schema the framing names.
type avroDecoder struct {
	rt     *Runtime
	reader *schema.Schema
}

func (rt *Runtime) avroDecoder(s *schema.Schema) Decoder {
	rt.schemas.add(s)
	return avroDecoder{rt: rt, reader: s}
}

// DecodeContext is Decode that, while the schema registry cannot answer
// (schema.Transient), waits with backoff (schema.Await: 100ms doubling to
// 5s) and asks again until it answers or ctx ends: the attempt's context,
// so a registry outage holds the record, neither failing its attempts nor
// dead-lettering it; only a handler timeout ends the wait, and that
// attempt is retried by the consumer's policy.
func (d avroDecoder) DecodeContext(ctx context.Context, data []byte, v any) error {
	return schema.Await(ctx, func(ctx context.Context) error { return d.decode(ctx, data, v) }, func(err error) {
		d.rt.log.Warn("schema registry cannot answer: the record waits for it", "err", err)
	})
}

// Decode implements Decoder: one try, a registry lookup bounded by the
// runtime's request timeout.
func (d avroDecoder) Decode(data []byte, v any) error {
	return d.decode(context.Background(), data, v)
}

func (d avroDecoder) decode(ctx context.Context, data []byte, v any) error {
	h, body, err := schema.ReadHeader(data)
	if err != nil {
		return err
	}
	var writer *schema.Schema
	switch h.Framing {
	case schema.Confluent:
		if d.rt.s.registry == nil {
			return fmt.Errorf("%w: record framed with registry id %d and no registry configured", schema.ErrUnknownSchema, h.ID)
		}
		ctx, cancel := context.WithTimeout(ctx, d.rt.s.requestTimeout)
		defer cancel()
		if writer, err = d.rt.s.registry.ByID(ctx, h.ID); err != nil {
			// An unclassified registry error is I/O: retried, not dead-lettered.
			return schema.LookupError(h.ID, err)
		}
	default:
		var ok bool
		if writer, ok = d.rt.schemas.get(h.Fingerprint); !ok && d.rt.s.registry != nil {
			writer, ok = d.rt.s.registry.ByFingerprint(h.Fingerprint)
		}
		if !ok {
			return fmt.Errorf("%w: fingerprint %#016x (tell the runtime with KnowSchema)", schema.ErrUnknownSchema, h.Fingerprint)
		}
	}
	return d.reader.DecodeFrom(writer, body, v)
}
