package actors

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds the settings of the runtime's producing client: what
// every Producer, Emit, dead letter and forward shares. They are
// RuntimeOptions because one client (one connection per broker, one
// buffer) serves them all; each mirrors a Java producer setting, named
// beside it.

// Compression is the codec record batches are produced with (Java client:
// compression.type).
type Compression int

// The codecs of ProducerCompression.
const (
	// CompressionNone sends batches as they are: the default, since every
	// client reads it (Debian's python3-kafka reads snappy only with
	// python3-snappy installed, lz4 only with python3-lz4, zstd only with
	// python3-zstandard; Java's compression.type defaults to none too).
	CompressionNone Compression = iota
	// CompressionGzip is the slowest to compress, readable by every client
	// (Python's standard library has it).
	CompressionGzip
	// CompressionSnappy is fast with a fair ratio; librdkafka and Java
	// read it, python3-kafka only with python3-snappy.
	CompressionSnappy
	// CompressionLZ4 is fast with a fair ratio, faster to decompress than
	// snappy.
	CompressionLZ4
	// CompressionZstd has the best ratio for its speed; it needs Kafka 2.1
	// or later, brokers and consumers alike.
	CompressionZstd
)

// String is the config word of c: none, gzip, snappy, lz4 or zstd.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// ParseCompression maps the config words none, gzip, snappy, lz4 and zstd.
func ParseCompression(s string) (Compression, error) {
	for c := CompressionNone; c <= CompressionZstd; c++ {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("compression %q is not one of none, gzip, snappy, lz4, zstd", s)
}

// Codec is c as a franz-go codec, for a client of the service's own.
func (c Compression) Codec() kgo.CompressionCodec {
	switch c {
	case CompressionGzip:
		return kgo.GzipCompression()
	case CompressionSnappy:
		return kgo.SnappyCompression()
	case CompressionLZ4:
		return kgo.Lz4Compression()
	case CompressionZstd:
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// Acks is how many replicas must have a record before the broker answers
// (Java client: acks).
type Acks int

// The acknowledgement levels of ProducerAcks.
const (
	// AcksAll waits for every in-sync replica, with idempotent writes (no
	// duplicates from retried requests, order kept per partition): the
	// default, and the only level that survives the loss of the leader
	// (Java: acks=all, enable.idempotence=true).
	AcksAll Acks = iota
	// AcksLeader waits for the partition leader only, without idempotence:
	// a record the leader had but no follower yet is lost if the leader
	// dies, and a retried request may write a record twice (Java: acks=1).
	AcksLeader
	// AcksNone does not wait at all: a record is "delivered" once written
	// to the socket, and lost silently if the broker refuses it or dies
	// (Java: acks=0). A Receipt's offset means nothing: the broker does not
	// say where the record landed.
	AcksNone
)

// String is the config word of a: all, leader or none.
func (a Acks) String() string {
	switch a {
	case AcksAll:
		return "all"
	case AcksLeader:
		return "leader"
	case AcksNone:
		return "none"
	}
	return fmt.Sprintf("Acks(%d)", int(a))
}

// ParseAcks maps the config words all, leader and none.
func ParseAcks(s string) (Acks, error) {
	for a := AcksAll; a <= AcksNone; a++ {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("acks %q is not one of all, leader, none", s)
}

// The producing client's defaults.
const (
	// DefaultCompression is CompressionNone: see its doc for why.
	DefaultCompression = CompressionNone
	// DefaultProducerLinger is how long a partition's batch waits for more
	// records: not at all, so that a lone Publish is not held (Java's
	// linger.ms was 0 until Kafka 4.0, 5ms since; sarama's flush frequency
	// is 0). Under load records still batch: the idempotent producer has
	// one request in flight to a broker, and what is buffered meanwhile
	// goes out together when it returns. Any linger above 0 costs at least
	// a millisecond, whatever its value: Go's network poller sleeps in
	// whole milliseconds, so a timer under 1 ms in an idle process fires
	// after about 1.1 ms, and one re-armed by a wake-up in between after
	// up to 2 ms.
	DefaultProducerLinger = 0
	// MaxProducerLinger is franz-go's upper bound.
	MaxProducerLinger = time.Minute
	// DefaultBatchMaxBytes is the largest record batch, before compression:
	// Kafka's default max.message.bytes (1,000,012).
	DefaultBatchMaxBytes = 1_000_012
	// MinBatchMaxBytes and MaxBatchMaxBytes bound ProducerBatchMaxBytes:
	// franz-go's floor, and its largest request to one broker (100 MiB).
	MinBatchMaxBytes = 512
	MaxBatchMaxBytes = 100 << 20
	// DefaultMaxBufferedRecords is how many records may wait to be
	// acknowledged before a publish blocks (franz-go's default).
	DefaultMaxBufferedRecords = 50_000
	// MinDeliveryTimeout is franz-go's shortest delivery timeout.
	MinDeliveryTimeout = time.Second
)

// producerSettings are the producing client's settings; a zero
// deliveryTimeout means the request timeout, recordRetries < 0 unlimited.
type producerSettings struct {
	compression     Compression
	linger          time.Duration
	batchMaxBytes   int32
	maxBuffered     int
	acks            Acks
	recordRetries   int
	deliveryTimeout time.Duration
}

func defaultProducerSettings() producerSettings {
	return producerSettings{
		compression:   DefaultCompression,
		linger:        DefaultProducerLinger,
		batchMaxBytes: DefaultBatchMaxBytes,
		maxBuffered:   DefaultMaxBufferedRecords,
		acks:          AcksAll,
		recordRetries: -1,
	}
}

// opts are the franz-go options of the producing client, acks aside
// (see Runtime.publisher).
func (p producerSettings) opts(requestTimeout time.Duration) []kgo.Opt {
	delivery := p.deliveryTimeout
	if delivery == 0 {
		delivery = requestTimeout
	}
	opts := []kgo.Opt{
		kgo.ProducerBatchCompression(p.compression.Codec()),
		kgo.ProducerLinger(p.linger),
		kgo.ProducerBatchMaxBytes(p.batchMaxBytes),
		kgo.MaxBufferedRecords(p.maxBuffered),
		kgo.RecordDeliveryTimeout(delivery),
	}
	if p.recordRetries >= 0 {
		opts = append(opts, kgo.RecordRetries(p.recordRetries))
	}
	return opts
}

// ackOpts are the franz-go options of acks a: leader and none turn
// idempotent writes off, which franz-go (and Kafka) tie to acks=all.
func ackOpts(a Acks) []kgo.Opt {
	switch a {
	case AcksLeader:
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}
	case AcksNone:
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}
	}
	return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
}

// ProducerCompression sets the codec record batches are produced with
// (Java client: compression.type). Compression trades producer CPU for
// network and disk: zstd and lz4 usually shrink JSON several times for
// little CPU; a batch that does not shrink goes out uncompressed. Every
// consumer must be able to decode it (see CompressionNone). Default
// DefaultCompression.
func ProducerCompression(c Compression) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if c < CompressionNone || c > CompressionZstd {
			s.bad("actors.ProducerCompression(%v): not one of CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd", c)
			return
		}
		s.producer.compression = c
	})
}

// ProducerLinger sets how long a partition's batch waits for more records
// before it is sent (Java client: linger.ms): longer makes fewer, larger
// batches (better compression, fewer requests for the brokers) and adds
// that much latency to a publish, rounded up to whole milliseconds and up
// to a millisecond more (Go's timers in an idle process: see
// DefaultProducerLinger). Between 0 and MaxProducerLinger. Default
// DefaultProducerLinger (0: sent at once).
func ProducerLinger(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < 0 || d > MaxProducerLinger {
			s.bad("actors.ProducerLinger(%s): must be between 0 and %s", d, MaxProducerLinger)
			return
		}
		s.producer.linger = d
	})
}

// ProducerBatchMaxBytes caps a record batch (one partition's share of a
// request) before compression (Java client: batch.size, with
// max.request.size): larger batches compress better and cost fewer
// requests, and must stay within the topic's max.message.bytes, or the
// broker refuses them. A record larger than this fails at once. Between
// MinBatchMaxBytes and MaxBatchMaxBytes. Default DefaultBatchMaxBytes.
func ProducerBatchMaxBytes(n int) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < MinBatchMaxBytes || n > MaxBatchMaxBytes {
			s.bad("actors.ProducerBatchMaxBytes(%d): must be between %d and %d", n, MinBatchMaxBytes, MaxBatchMaxBytes)
			return
		}
		s.producer.batchMaxBytes = int32(n)
	})
}

// MaxBufferedRecords caps the records published but not yet acknowledged
// (Java client: buffer.memory, in records rather than bytes). At the cap a
// Publish or PublishAsync blocks until a record is acknowledged or its
// ctx ends (then the record fails with the ctx's error): the producer's
// backpressure, which bounds its memory during a broker outage. At least
// 1. Default DefaultMaxBufferedRecords.
func MaxBufferedRecords(n int) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < 1 {
			s.bad("actors.MaxBufferedRecords(%d): must be at least 1", n)
			return
		}
		s.producer.maxBuffered = n
	})
}

// ProducerAcks sets how many replicas must have a published record before
// it counts as delivered (Java client: acks, and enable.idempotence with
// all): AcksAll (default) is durable and duplicate-free; AcksLeader and
// AcksNone are faster and can lose records (see each). It applies to
// Producer and Emit: the runtime's own writes (dead letters, stubs, the
// forward handler's copies, Runtime.Client) always wait for every in-sync
// replica with idempotence, through a client of their own, since a lost
// dead letter would be a lost record.
func ProducerAcks(a Acks) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if a < AcksAll || a > AcksNone {
			s.bad("actors.ProducerAcks(%v): not one of AcksAll, AcksLeader, AcksNone", a)
			return
		}
		s.producer.acks = a
	})
}

// RecordRetries caps how many times a record whose produce request failed
// is sent again before it fails (Java client: retries); with idempotence
// (AcksAll) a record is failed only where that cannot reorder or duplicate
// it. When it fails, so do the records behind it in its partition. Fewer
// retries surface a broker problem sooner as errors (and dead-letter
// writes that the partition then retries). At least 0. Default: no cap,
// only the delivery timeout.
func RecordRetries(n int) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < 0 {
			s.bad("actors.RecordRetries(%d): must be at least 0", n)
			return
		}
		s.producer.recordRetries = n
	})
}

// DeliveryTimeout bounds how long a published record may wait, buffered
// and retried, before it fails (Java client: delivery.timeout.ms): longer
// rides out a longer broker outage, shorter reports it sooner (a Publish
// returns the error, a dead-letter write is retried by its partition).
// Add the linger to it. At least MinDeliveryTimeout. Default: the request
// timeout (RequestTimeout).
func DeliveryTimeout(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < MinDeliveryTimeout {
			s.bad("actors.DeliveryTimeout(%s): must be at least %s", d, MinDeliveryTimeout)
			return
		}
		s.producer.deliveryTimeout = d
	})
}
