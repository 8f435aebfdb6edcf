package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/schema"
	"github.com/actord/actord/supervisor"
	"github.com/actord/actord/topics"
)

// Options are typed by where they apply, as franz-go's are: a
// ConsumerOption tunes Consume and ConsumeWith, an EventOption tunes On, a
// ProducerOption tunes NewProducer, a PublishOption one Publish call. An
// option valid in several places implements several interfaces (for
// example MaxRetries is a HandlerOption: consumers and event handlers), so
// an option given where it means nothing does not compile. A bad value
// (negative retries, an inverted backoff) is an error from the call that
// takes it, naming the option and the value.

// ConsumerOption tunes one consumer (Consume, ConsumeWith).
type ConsumerOption interface{ applyConsumer(*consumerOptions) }

// EventOption tunes one event handler (On).
type EventOption interface{ applyEvent(*eventOptions) }

// HandlerOption tunes consumers and event handlers alike: their retries,
// dead letters and decoding.
type HandlerOption interface {
	ConsumerOption
	EventOption
}

// OrderingMode is how records of one partition may run concurrently; see
// ByPartition, ByKey and Unordered.
type OrderingMode = partition.Ordering

// The ordering modes of a consumer (the Ordering option).
const (
	// ByPartition runs one record of a partition at a time, in offset
	// order: a retrying record holds back its whole partition. The
	// default.
	ByPartition = partition.ByPartition
	// ByKey runs records of different keys concurrently and records of
	// one key in offset order; a retrying key holds back only itself.
	ByKey = partition.ByKey
	// Unordered runs a partition's records concurrently with no order.
	Unordered = partition.Unordered
)

// Policy is a retry policy: max retries and an exponential backoff with
// jitter (see RetryPolicy).
type Policy = supervisor.Policy

// handling is what consumers and event handlers share: how a failure is
// retried and dead-lettered, and how a value is decoded.
type handling struct {
	policy       supervisor.Policy
	deadLetter   string
	noDeadLetter bool
	decoder      Decoder
	schema       *schema.Schema
	errs         []error
}

func (h *handling) bad(format string, args ...any) {
	h.errs = append(h.errs, fmt.Errorf(format, args...))
}

// check settles what the options left open and reports every problem:
// the policy, and a dead-letter topic that is valid, not the consumed
// topic itself, and not given beside NoDeadLetter.
func (h *handling) check(source string) error {
	if err := h.policy.Validate(); err != nil {
		h.bad("retry policy: %v", err)
	}
	switch {
	case h.noDeadLetter && h.deadLetter != "":
		h.bad("actors.DeadLetterTopic(%q) given with actors.NoDeadLetter()", h.deadLetter)
	case h.noDeadLetter:
	case h.deadLetter == "":
		h.deadLetter = source + DefaultDeadLetterSuffix
	case h.deadLetter == source:
		h.bad("actors.DeadLetterTopic(%q): is the consumed topic itself (a failed record would loop)", h.deadLetter)
	default:
		if err := topics.ValidateName(h.deadLetter); err != nil {
			h.bad("actors.DeadLetterTopic(%q): %v", h.deadLetter, err)
		}
	}
	if h.decoder != nil && h.schema != nil {
		h.bad("actors.WithDecoder and actors.WithSchema both given: a schema decodes values itself")
	}
	return errors.Join(h.errs...)
}

type consumerOptions struct {
	handling
	ordering       partition.Ordering
	concurrency    int
	maxInFlight    int
	handlerTimeout time.Duration
	fromLatest     bool
	circuit        supervisor.CircuitConfig
	noCircuit      bool
	retryTopic     string
	retrySchedule  []time.Duration
}

func (o *consumerOptions) check(topic string) error {
	if o.ordering != ByPartition && o.ordering != ByKey && o.ordering != Unordered {
		o.bad("actors.Ordering(%v): not one of ByPartition, ByKey, Unordered", o.ordering)
	}
	err := o.handling.check(topic) // settles the dead-letter topic
	n := len(o.errs)
	if o.checkParking(topic); len(o.errs) > n {
		return errors.Join(o.errs...)
	}
	return err
}

type eventOptions struct {
	handling
}

// handlingOpt is an option of consumers and event handlers alike.
type handlingOpt func(*handling)

func (f handlingOpt) applyConsumer(o *consumerOptions) { f(&o.handling) }
func (f handlingOpt) applyEvent(o *eventOptions)       { f(&o.handling) }

// consumerOpt is an option of consumers only.
type consumerOpt func(*consumerOptions)

func (f consumerOpt) applyConsumer(o *consumerOptions) { f(o) }

// MaxRetries sets how many times a failed record is retried: at most n+1
// attempts; 0 means none. Default supervisor.DefaultMaxRetries (3).
func MaxRetries(n int) HandlerOption {
	return handlingOpt(func(h *handling) {
		if n < 0 {
			h.bad("actors.MaxRetries(%d): must be at least 0", n)
			return
		}
		h.policy.MaxRetries = n
	})
}

// Backoff sets the retry delay: initial, doubling per retry up to max,
// with 20% jitter. initial must be positive and max at least initial.
// Default 100ms to 10s (supervisor.DefaultInitialBackoff,
// supervisor.DefaultMaxBackoff).
func Backoff(initial, max time.Duration) HandlerOption {
	return handlingOpt(func(h *handling) {
		if initial <= 0 || max < initial {
			h.bad("actors.Backoff(%s, %s): initial must be positive and max at least initial", initial, max)
			return
		}
		h.policy.Initial, h.policy.Max = initial, max
	})
}

// DefaultRetryPolicy is the policy of a consumer or event handler that
// sets none: supervisor.DefaultMaxRetries retries from
// supervisor.DefaultInitialBackoff doubling up to
// supervisor.DefaultMaxBackoff, with supervisor.DefaultJitter.
func DefaultRetryPolicy() Policy { return supervisor.DefaultPolicy() }

// RetryPolicy sets the whole retry policy at once; every field must be
// valid (see supervisor.Policy.Validate): start from DefaultRetryPolicy.
func RetryPolicy(p Policy) HandlerOption {
	return handlingOpt(func(h *handling) {
		if err := p.Validate(); err != nil {
			h.bad("actors.RetryPolicy(%+v): %v", p, err)
			return
		}
		h.policy = p
	})
}

// DeadLetterTopic sets where exhausted and permanently failed records go;
// it must not be the consumed topic. Default "<topic>.dlq"
// (DefaultDeadLetterSuffix) for consumers, "<events topic>.dlq" for event
// handlers.
func DeadLetterTopic(topic string) HandlerOption {
	return handlingOpt(func(h *handling) { h.deadLetter = topic })
}

// NoDeadLetter turns dead-lettering off: exhausted records are logged with
// their coordinates and committed past (skipped).
func NoDeadLetter() HandlerOption {
	return handlingOpt(func(h *handling) { h.noDeadLetter = true })
}

// WithDecoder sets how record values become the handler's value. Default
// JSON (with []byte and string taken as they are). A record that does not
// decode is a poison record, dead-lettered at once.
func WithDecoder(d Decoder) HandlerOption {
	return handlingOpt(func(h *handling) {
		if d == nil {
			h.bad("actors.WithDecoder(nil): want a decoder")
		}
		h.decoder = d
	})
}

// Ordering sets the ordering mode: ByPartition (default), ByKey or
// Unordered.
func Ordering(m OrderingMode) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) { o.ordering = m })
}

// Concurrency sets the handler actors per partition in ByKey and Unordered
// modes (ByPartition runs one). Between 1 and MaxConcurrency. Default
// DefaultConcurrency.
func Concurrency(n int) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) {
		if n < 1 || n > MaxConcurrency {
			o.bad("actors.Concurrency(%d): must be between 1 and %d", n, MaxConcurrency)
			return
		}
		o.concurrency = n
	})
}

// MaxInFlight caps fetched but unfinished records per partition; fetching
// holds above it. Between 1 and MaxInFlightLimit. Default: the runtime's
// (DefaultMaxInFlightPerPartition).
func MaxInFlight(n int) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) {
		if n < 1 || n > MaxInFlightLimit {
			o.bad("actors.MaxInFlight(%d): must be between 1 and %d", n, MaxInFlightLimit)
			return
		}
		o.maxInFlight = n
	})
}

// HandlerTimeout bounds one attempt; an attempt that outlives it fails with
// ErrHandlerTimeout and is retried. Must be positive. Default: none.
func HandlerTimeout(d time.Duration) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) {
		if d <= 0 {
			o.bad("actors.HandlerTimeout(%s): must be positive (leave it out for no timeout)", d)
			return
		}
		o.handlerTimeout = d
	})
}

// FromLatest starts a group that has no committed offset at the end of the
// topic instead of its beginning. It applies to the whole group: one
// consumer with it starts every topic of the group at the end.
func FromLatest() ConsumerOption {
	return consumerOpt(func(o *consumerOptions) { o.fromLatest = true })
}

// SchemaOption is WithSchema: it serves consumers, event handlers and
// producers.
type SchemaOption interface {
	HandlerOption
	ProducerOption
}

type schemaOpt struct{ s *schema.Schema }

func (o schemaOpt) set(h *handling) {
	if o.s == nil {
		h.bad("actors.WithSchema(nil): want a schema")
	}
	h.schema = o.s
}
func (o schemaOpt) applyConsumer(c *consumerOptions) { o.set(&c.handling) }
func (o schemaOpt) applyEvent(e *eventOptions)       { o.set(&e.handling) }
func (o schemaOpt) applyProducer(p *producerOptions) {
	if o.s == nil {
		p.bad("actors.WithSchema(nil): want a schema")
	}
	p.schema = o.s
}

// WithSchema makes a producer validate and encode values as Avro records
// of s, and a consumer or event handler decode them into its type with s
// as the reader schema (resolving the writer's schema, found by
// fingerprint or registry id). A value that does not fit is an error
// naming the field, and nothing is produced; a record that cannot be
// decoded or resolved is a poison record, dead-lettered at once, while a
// registry that cannot be reached is retried.
func WithSchema(s *schema.Schema) SchemaOption { return schemaOpt{s} }
