package dlq

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrNotDeadLetter is matched (errors.Is) by every error [Parse] returns:
// the record lacks an actord.dlq.* header or has one that does not parse.
var ErrNotDeadLetter = errors.New("not a dead letter")

// InvalidHeaderError is one missing or malformed actord.dlq.* header. [Parse]
// returns one per problem, joined (errors.As finds the first).
type InvalidHeaderError struct {
	// Header is the header's name, one of the Header* constants.
	Header string
	// Missing is true when the record has no such header.
	Missing bool
	// Value is the header's (last) value when it is malformed.
	Value string
	// Err is why Value does not parse; nil when Missing.
	Err error
}

// Error names the header and what is wrong with it.
func (e *InvalidHeaderError) Error() string {
	if e.Missing {
		return "missing header " + e.Header
	}
	return fmt.Sprintf("header %s %q: %v", e.Header, e.Value, e.Err)
}

// Unwrap returns [ErrNotDeadLetter] and the parse error.
func (e *InvalidHeaderError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotDeadLetter}
	}
	return []error{ErrNotDeadLetter, e.Err}
}

// Position is where a record sits in Kafka.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Letter is what a dead letter says: where the original record came
// from, why it was given up on, and the original key, value and headers.
type Letter struct {
	// Topic, Partition, Offset and Timestamp are the original record's
	// ([HeaderTopic], [HeaderPartition], [HeaderOffset],
	// [HeaderTimestamp]).
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	// Group is the consumer group that gave up ([HeaderGroup]).
	Group string
	// Handler is the event handler that gave up ([HeaderHandler]); empty
	// for a consumer's dead letter.
	Handler string
	// Error is the last error's text ([HeaderError]).
	Error string
	// Attempts is how many attempts were made ([HeaderAttempts]).
	Attempts int
	// FailedAt is when the record was dead-lettered ([HeaderFailedAt]).
	FailedAt time.Time

	// Key and Value are the original record's (shared with Record).
	Key, Value []byte
	// Headers are the original record's headers: the dead letter's
	// without the actord.dlq.* ones, in their order.
	Headers []kgo.RecordHeader

	// At is where the dead letter itself sits.
	At Position
	// Record is the dead-letter record as read, for callers that need
	// more of it (its timestamp, its raw headers, committing it).
	Record *kgo.Record
	// Err is, for a Letter from [Read] or [Scan], the error [Parse]
	// returned for it: nil for a well-formed dead letter. Such a Letter
	// holds every header that did parse.
	Err error

	meta  []kgo.RecordHeader
	valid uint16 // bit i: headerNames[i] present and parsed
}

// headerNames are the headers Parse reads, in the order Record writes
// them; all but the last are required.
var headerNames = [...]string{
	HeaderTopic, HeaderPartition, HeaderOffset, HeaderTimestamp,
	HeaderGroup, HeaderError, HeaderAttempts, HeaderFailedAt, HeaderHandler,
}

// Raw is the value of the actord.dlq.* header name as written (the last
// one when it repeats), and whether the dead letter has it. It lets a
// tool show a header that did not parse.
func (l Letter) Raw(name string) (string, bool) {
	for i := len(l.meta) - 1; i >= 0; i-- {
		if l.meta[i].Key == name {
			return string(l.meta[i].Value), true
		}
	}
	return "", false
}

// Has reports whether the dead letter has header name and it parsed into
// its field of l ([HeaderTopic] must also be non-empty).
func (l Letter) Has(name string) bool {
	for i, h := range headerNames {
		if h == name {
			return l.valid&(1<<i) != 0
		}
	}
	return false
}

// Parse reads the dead letter r. Every header of [HeaderTopic] to
// [HeaderFailedAt] is required and must parse (numbers in decimal, times
// in RFC 3339, a non-empty topic); [HeaderHandler] is optional. A header
// that repeats counts by its last value. Other actord.dlq.* headers are
// dropped from Headers with the known ones.
//
// For a record that is not a dead letter, the error names every missing
// or malformed header ([InvalidHeaderError], matching [ErrNotDeadLetter]) and
// the Letter still holds what did parse. Parse copies no key, value or
// header bytes and does no I/O.
func Parse(r *kgo.Record) (Letter, error) {
	if r == nil {
		return Letter{}, fmt.Errorf("nil record: %w", ErrNotDeadLetter)
	}
	l := Letter{Key: r.Key, Value: r.Value, Record: r, At: Position{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}}
	for _, h := range r.Headers {
		if strings.HasPrefix(h.Key, HeaderPrefix) {
			l.meta = append(l.meta, h)
		} else {
			l.Headers = append(l.Headers, h)
		}
	}
	var errs []error
	for i, name := range headerNames {
		v, ok := l.Raw(name)
		if !ok {
			if name != HeaderHandler {
				errs = append(errs, &InvalidHeaderError{Header: name, Missing: true})
			}
			continue
		}
		if err := l.set(name, v); err != nil {
			errs = append(errs, &InvalidHeaderError{Header: name, Value: v, Err: err})
			continue
		}
		l.valid |= 1 << i
	}
	if len(errs) > 0 {
		return l, fmt.Errorf("record at %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, errors.Join(errs...))
	}
	return l, nil
}

// set parses v into the field of header name, leaving it unset when v
// does not parse.
func (l *Letter) set(name, v string) error {
	switch name {
	case HeaderTopic:
		if v == "" {
			return errors.New("empty topic")
		}
		l.Topic = v
	case HeaderPartition:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return err
		}
		l.Partition = int32(n)
	case HeaderOffset:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		l.Offset = n
	case HeaderAttempts:
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		l.Attempts = n
	case HeaderTimestamp, HeaderFailedAt:
		t, err := time.Parse(timeLayout, v)
		if err != nil {
			return err
		}
		if name == HeaderTimestamp {
			l.Timestamp = t
		} else {
			l.FailedAt = t
		}
	case HeaderGroup:
		l.Group = v
	case HeaderError:
		l.Error = v
	case HeaderHandler:
		l.Handler = v
	}
	return nil
}
