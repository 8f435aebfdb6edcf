package actors

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/supervisor"
)

// Message is one record as a handler sees it: where it came from, which
// attempt this is, the raw bytes and the value decoded into T.
type Message[T any] struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Headers   []kgo.RecordHeader
	Timestamp time.Time
	// Attempt is 1 on the first try and grows with each retry.
	Attempt int
	// Raw is the record value as it was on the wire.
	Raw []byte
	// Value is Raw decoded into T.
	Value T
}

// Header returns the value of the first header called name.
func (m Message[T]) Header(name string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == name {
			return string(h.Value), true
		}
	}
	return "", false
}

func newMessage[T any](r *kgo.Record, attempt int, v T) Message[T] {
	return Message[T]{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key,
		Headers: r.Headers, Timestamp: r.Timestamp, Attempt: attempt, Raw: r.Value, Value: v,
	}
}

// Retry marks err as a transient failure: the record is tried again after
// a backoff, up to the consumer's max retries, then dead-lettered. Any
// plain error is treated the same; Retry says so explicitly (the seed's
// ConsumerError("Retry")).
func Retry(err error) error { return supervisor.RetryError(err) }

// Permanent marks err as not worth retrying: the record goes straight to
// the dead-letter topic, or is logged and skipped where dead-lettering is
// off.
func Permanent(err error) error { return supervisor.PermanentError(err) }

// PanicError is the failure recorded for an attempt whose handler panicked.
type PanicError = supervisor.PanicError

// ErrHandlerTimeout is the (retryable) failure of an attempt that outlived
// the HandlerTimeout option.
var ErrHandlerTimeout = supervisor.ErrHandlerTimeout

// DecodeError is the permanent failure of a record whose value cannot be
// decoded into the consumer's type: a poison record. It is dead-lettered at
// once, never retried.
type DecodeError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

// Error names the record and why it could not be decoded.
func (e *DecodeError) Error() string {
	return "cannot decode record " + e.Topic + "/" + itoa(int64(e.Partition)) + "@" + itoa(e.Offset) + ": " + e.Err.Error()
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }
