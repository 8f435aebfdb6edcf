package config

import (
	"time"

	"github.com/actord/actord/actors"
)

// Producer tunes the runtime's producing client: what the forward
// handler, dead letters and `actord produce` write with. Each key is the
// library's option of the same name (actors.ProducerCompression, ...);
// the defaults are the library's.
type Producer struct {
	// Compression is none, gzip, snappy, lz4 or zstd (Java client:
	// compression.type). Default none: every client reads it.
	Compression string `mapstructure:"compression"`
	// Linger is how long a batch waits for more records (linger.ms).
	// Default 1ms.
	Linger time.Duration `mapstructure:"linger"`
	// BatchMaxBytes caps a record batch before compression. Default
	// 1000012 (Kafka's max.message.bytes).
	BatchMaxBytes int `mapstructure:"batch_max_bytes"`
	// MaxBufferedRecords caps the records not yet acknowledged; a publish
	// blocks at it. Default 50000.
	MaxBufferedRecords int `mapstructure:"max_buffered_records"`
	// Acks is all (with idempotence), leader or none (acks). Default all.
	// The runtime's own writes (dead letters, forward) always use all.
	Acks string `mapstructure:"acks"`
	// RecordRetries caps the retries of a record's produce request
	// (retries); -1, the default, means no cap but the delivery timeout.
	RecordRetries int `mapstructure:"record_retries"`
	// DeliveryTimeout bounds how long a record may wait, buffered and
	// retried (delivery.timeout.ms); 0, the default, means
	// kafka.request_timeout.
	DeliveryTimeout time.Duration `mapstructure:"delivery_timeout"`
}

// DefaultProducer is the producer section's defaults: the library's.
func DefaultProducer() Producer {
	return Producer{
		Compression:        actors.DefaultCompression.String(),
		Linger:             actors.DefaultProducerLinger,
		BatchMaxBytes:      actors.DefaultBatchMaxBytes,
		MaxBufferedRecords: actors.DefaultMaxBufferedRecords,
		Acks:               actors.AcksAll.String(),
		RecordRetries:      -1,
	}
}

func (p Producer) check(ck *checker) {
	if _, err := actors.ParseCompression(p.Compression); err != nil {
		ck.add("producer.compression", "%s is not one of none, gzip, snappy, lz4, zstd", clipQuoted(p.Compression))
	}
	if p.Linger < 0 || p.Linger > actors.MaxProducerLinger {
		ck.add("producer.linger", "must be between 0 and %s, got %s", actors.MaxProducerLinger, p.Linger)
	}
	ck.between("producer.batch_max_bytes", int64(p.BatchMaxBytes), actors.MinBatchMaxBytes, actors.MaxBatchMaxBytes)
	ck.atLeast("producer.max_buffered_records", int64(p.MaxBufferedRecords), 1)
	if _, err := actors.ParseAcks(p.Acks); err != nil {
		ck.add("producer.acks", "%s is not one of all, leader, none", clipQuoted(p.Acks))
	}
	ck.atLeast("producer.record_retries", int64(p.RecordRetries), -1)
	if d := p.DeliveryTimeout; d != 0 && d < actors.MinDeliveryTimeout {
		ck.add("producer.delivery_timeout", "must be 0 (kafka.request_timeout) or at least %s, got %s", actors.MinDeliveryTimeout, d)
	}
}

// Options are the library's options of the section (valid, as Validate
// leaves it).
func (p Producer) Options() ([]actors.RuntimeOption, error) {
	c, err := actors.ParseCompression(p.Compression)
	if err != nil {
		return nil, err
	}
	a, err := actors.ParseAcks(p.Acks)
	if err != nil {
		return nil, err
	}
	opts := []actors.RuntimeOption{
		actors.ProducerCompression(c),
		actors.ProducerLinger(p.Linger),
		actors.ProducerBatchMaxBytes(p.BatchMaxBytes),
		actors.MaxBufferedRecords(p.MaxBufferedRecords),
		actors.ProducerAcks(a),
	}
	if p.RecordRetries >= 0 {
		opts = append(opts, actors.RecordRetries(p.RecordRetries))
	}
	if p.DeliveryTimeout > 0 {
		opts = append(opts, actors.DeliveryTimeout(p.DeliveryTimeout))
	}
	return opts, nil
}
