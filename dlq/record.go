package dlq

import (
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// HeaderPrefix starts every header a dead letter gains. [Replay] drops
// every header with this prefix, so a record that fails again is
// dead-lettered with fresh ones only.
const HeaderPrefix = "actord.dlq."

// The headers added to a dead letter, after the original record's own and
// in this order. [Record] writes all of them but [HeaderHandler], which it
// writes (last) only for a [Failure] that names a handler.
const (
	// HeaderTopic is the original record's topic.
	HeaderTopic = "actord.dlq.topic"
	// HeaderPartition is the original record's partition, in decimal.
	HeaderPartition = "actord.dlq.partition"
	// HeaderOffset is the original record's offset, in decimal.
	HeaderOffset = "actord.dlq.offset"
	// HeaderTimestamp is the original record's timestamp (RFC 3339 with
	// nanoseconds, UTC).
	HeaderTimestamp = "actord.dlq.timestamp"
	// HeaderGroup is the consumer group that gave up on the record.
	HeaderGroup = "actord.dlq.group"
	// HeaderError is the text of the last error (empty when there was
	// none).
	HeaderError = "actord.dlq.error"
	// HeaderAttempts is how many attempts were made, in decimal.
	HeaderAttempts = "actord.dlq.attempts"
	// HeaderFailedAt is when the record was dead-lettered (RFC 3339 with
	// nanoseconds, UTC).
	HeaderFailedAt = "actord.dlq.failed_at"
	// HeaderHandler names, on a dead-lettered event, the handler that
	// gave up on it. It is the only optional header.
	HeaderHandler = "actord.dlq.handler"
	// HeaderStub, on a dead letter that [Stub] wrote, says why the
	// original record could not be dead-lettered whole.
	HeaderStub = "actord.dlq.stub"
)

// timeLayout is how the timestamp headers are written and parsed.
const timeLayout = time.RFC3339Nano

// Failure is why and how a record is dead-lettered.
type Failure struct {
	// Group is the consumer group that gave up on the record.
	Group string
	// Handler, when set, names the event handler that gave up; it is
	// written as [HeaderHandler].
	Handler string
	// Attempts is how many attempts were made.
	Attempts int
	// Err is the last error; nil is written as an empty [HeaderError].
	Err error
	// FailedAt is when the record was given up on.
	FailedAt time.Time
}

// Record is the dead letter of r for the dead-letter topic topic: r's key,
// value and headers (shared, not copied), then the actord.dlq.* headers
// in the order of the constants above. Partition and timestamp are left
// to the producer. The result is byte for byte what the runtime has
// always written; [Parse] reads it back.
func Record(topic string, r *kgo.Record, f Failure) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+9)
	hs = append(hs, r.Headers...)
	errText := ""
	if f.Err != nil {
		errText = f.Err.Error()
	}
	hs = append(hs,
		kgo.RecordHeader{Key: HeaderTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderTimestamp, Value: []byte(r.Timestamp.UTC().Format(timeLayout))},
		kgo.RecordHeader{Key: HeaderGroup, Value: []byte(f.Group)},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(errText)},
		kgo.RecordHeader{Key: HeaderAttempts, Value: []byte(strconv.Itoa(f.Attempts))},
		kgo.RecordHeader{Key: HeaderFailedAt, Value: []byte(f.FailedAt.UTC().Format(timeLayout))},
	)
	if f.Handler != "" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderHandler, Value: []byte(f.Handler)})
	}
	return &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: hs}
}

// maxStubError caps the error text of a stub: the record it stands for
// was refused for its size, and the error may quote it.
const maxStubError = 1024

// Stub is the dead letter of r for when r itself can never be written to
// the dead-letter topic (too large for it, or a record the broker refuses
// as invalid): the actord.dlq.* headers of [Record] naming r's topic,
// partition and offset, without r's key, value or headers, and with
// [HeaderStub] saying why. Nothing is lost: r stays in its source topic
// until retention, where the stub's coordinates find it. [Replay] refuses
// a stub, naming where the original is.
func Stub(topic string, r *kgo.Record, f Failure, reason string) *kgo.Record {
	if f.Err != nil {
		if msg := f.Err.Error(); len(msg) > maxStubError {
			f.Err = errors.New(msg[:maxStubError] + "...")
		}
	}
	bare := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
	out := Record(topic, bare, f)
	out.Headers = append(out.Headers, kgo.RecordHeader{Key: HeaderStub, Value: []byte(reason)})
	return out
}
