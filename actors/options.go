package actors

import (
	"time"

	"github.com/actord/actord/config"
	"github.com/actord/actord/partition"
	"github.com/actord/actord/schema"
	"github.com/actord/actord/supervisor"
)

// Option tunes one consumer or event handler.
type Option func(*options)

type options struct {
	policy         supervisor.Policy
	ordering       partition.Ordering
	concurrency    int
	maxInFlight    int
	deadLetter     string
	noDeadLetter   bool
	handlerTimeout time.Duration
	fromLatest     bool
	decoder        Decoder
	schema         *schema.Schema

	prod producerOptions // producer and Publish options
}

func defaultOptions() options {
	return options{policy: supervisor.DefaultPolicy(), concurrency: 16}
}

// MaxRetries sets how many times a failed record is retried: at most n+1
// attempts. Default 3.
func MaxRetries(n int) Option { return func(o *options) { o.policy.MaxRetries = n } }

// Backoff sets the retry delay: initial, doubling per retry up to max, with
// 20% jitter. Default 100ms to 10s.
func Backoff(initial, max time.Duration) Option {
	return func(o *options) { o.policy.Initial, o.policy.Max = initial, max }
}

// RetryPolicy sets the whole retry policy at once.
func RetryPolicy(p supervisor.Policy) Option { return func(o *options) { o.policy = p } }

// Ordering sets the ordering mode: partition (default: one record of a
// partition at a time), key (each key in order, keys in parallel) or
// unordered.
func Ordering(m partition.Ordering) Option { return func(o *options) { o.ordering = m } }

// Concurrency sets the handler actors per partition in key and unordered
// modes. Default 16.
func Concurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// MaxInFlight caps fetched but unfinished records per partition; fetching
// pauses above it. Default runtime.max_in_flight (1000).
func MaxInFlight(n int) Option { return func(o *options) { o.maxInFlight = n } }

// DeadLetterTopic sets where exhausted records go. Default "<topic>.dlq".
func DeadLetterTopic(topic string) Option { return func(o *options) { o.deadLetter = topic } }

// NoDeadLetter turns dead-lettering off: exhausted records are logged with
// their coordinates and skipped.
func NoDeadLetter() Option { return func(o *options) { o.noDeadLetter = true } }

// HandlerTimeout bounds one attempt; an attempt that outlives it fails with
// ErrHandlerTimeout and is retried. Default: none.
func HandlerTimeout(d time.Duration) Option { return func(o *options) { o.handlerTimeout = d } }

// FromLatest starts a group that has no committed offset at the end of the
// topic instead of its beginning.
func FromLatest() Option { return func(o *options) { o.fromLatest = true } }

// WithDecoder sets how record values become the handler's T. Default JSON
// (with []byte and string taken as they are).
func WithDecoder(d Decoder) Option { return func(o *options) { o.decoder = d } }

// WithSchema makes a producer validate and encode values as Avro records
// of s, and a consumer decode them into its type with s as the reader
// schema (resolving the writer's schema, found by fingerprint or registry
// id). A value that does not fit is an error naming the field, and nothing
// is produced; a record that cannot be decoded or resolved is a poison
// record, dead-lettered at once.
func WithSchema(s *schema.Schema) Option { return func(o *options) { o.schema = s } }

// FromConfig turns a consumer declared in config into options.
func FromConfig(c config.Consumer) ([]Option, error) {
	mode, err := partition.ParseOrdering(c.Ordering)
	if err != nil {
		return nil, err
	}
	opts := []Option{
		Ordering(mode),
		RetryPolicy(supervisor.Policy{
			MaxRetries: derefInt(c.MaxRetries, 3),
			Initial:    c.Backoff.Initial, Max: c.Backoff.Max,
			Multiplier: c.Backoff.Multiplier, Jitter: c.Backoff.Jitter,
		}),
	}
	if c.Concurrency > 0 {
		opts = append(opts, Concurrency(c.Concurrency))
	}
	if c.MaxInFlight > 0 {
		opts = append(opts, MaxInFlight(c.MaxInFlight))
	}
	if c.DeadLetter != nil && !*c.DeadLetter {
		opts = append(opts, NoDeadLetter())
	} else if c.DeadLetterTopic != "" {
		opts = append(opts, DeadLetterTopic(c.DeadLetterTopic))
	}
	if c.HandlerTimeout > 0 {
		opts = append(opts, HandlerTimeout(c.HandlerTimeout))
	}
	if c.FromBeginning != nil && !*c.FromBeginning {
		opts = append(opts, FromLatest())
	}
	return opts, nil
}

func derefInt(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}
