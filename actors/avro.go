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

func (rt *Runtime) avroEncoder(topic string, s *schema.Schema) Encoder {
	rt.schemas.add(s)
	if rt.s.registry != nil {
		return avroEncoder{schema.NewSerde(s, schema.WithRegistry(rt.s.registry, topic+"-value"))}
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

func (d avroDecoder) Decode(data []byte, v any) error {
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
		ctx, cancel := context.WithTimeout(context.Background(), d.rt.s.requestTimeout)
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
