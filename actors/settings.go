package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/schema"
	"github.com/actord/actord/topics"
)

// The runtime's defaults, one home each; the daemon's config refers to
// them.
const (
	// DefaultServiceName names the runtime when ServiceName is not given:
	// the Kafka client ID and the event router's group derive from it.
	DefaultServiceName = "actord"
	// DefaultRequestTimeout bounds how long any one admin call, ping or
	// produce waits on an unreachable or unresponsive cluster.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultSessionTimeout is how long the group coordinator waits for a
	// silent member (Java client: session.timeout.ms).
	DefaultSessionTimeout = 45 * time.Second
	// DefaultCommitInterval is how often finished offsets are committed.
	DefaultCommitInterval = time.Second
	// MinCommitInterval is the shortest commit interval franz-go accepts.
	MinCommitInterval = 100 * time.Millisecond
	// DefaultDrainTimeout bounds how long a revoke or a stop waits for
	// in-flight records.
	DefaultDrainTimeout = 30 * time.Second
	// DefaultMaxInFlight caps a partition's fetched but unfinished records.
	DefaultMaxInFlight = partition.DefaultMaxInFlight
	// DefaultConcurrency is the handler actors per partition in key and
	// unordered modes.
	DefaultConcurrency = partition.DefaultConcurrency
	// DefaultFetchPartitionBytes is the most one fetch asks of one
	// partition (max.partition.fetch.bytes): small enough that one fetch
	// per partition, which comes on top of the in-flight cap, stays a few
	// MiB, large enough to keep a fast consumer fed.
	DefaultFetchPartitionBytes = 256 << 10
	// DefaultEventsTopic carries every named event.
	DefaultEventsTopic = "events"
	// DefaultEventConcurrency is the event actors per handler registered
	// with On.
	DefaultEventConcurrency = 4
	// MaxConcurrency is the most handler actors a partition may run:
	// far above any useful value, below what exhausts a machine's memory
	// once partitions are assigned.
	MaxConcurrency = 10_000
	// MaxInFlightLimit is the most fetched but unfinished records a partition
	// may hold, for the same reason.
	MaxInFlightLimit = 100_000
	// DefaultDeadLetterSuffix makes a consumer's default dead-letter
	// topic: "orders" dead-letters to "orders.dlq".
	DefaultDeadLetterSuffix = ".dlq"
)

// settings is what the runtime options set; validate checks them all in
// one place.
type settings struct {
	brokers        []string
	service        string
	clientID       string
	kafkaOpts      []kgo.Opt
	log            *slog.Logger
	requestTimeout time.Duration
	sessionTimeout time.Duration
	commitInterval time.Duration
	drainTimeout   time.Duration
	// txnPrefix starts the transactional IDs of exactly-once partitions
	// (TransactionalIDPrefix); empty means DefaultTransactionalIDPrefix.
	txnPrefix      string
	maxInFlight    int
	fetchBytes     int
	registry       schema.Registry
	registerer     prometheus.Registerer
	metricsListen  string
	consoleToken   string
	eventsTopic    string
	eventsGroup    string
	eventsParts    int32
	tracerProvider trace.TracerProvider
	producer       producerSettings
	group          groupSettings
	stallTimeout   time.Duration

	errs []error
}

func defaultSettings() settings {
	return settings{
		service:        DefaultServiceName,
		requestTimeout: DefaultRequestTimeout,
		sessionTimeout: DefaultSessionTimeout,
		commitInterval: DefaultCommitInterval,
		drainTimeout:   DefaultDrainTimeout,
		maxInFlight:    DefaultMaxInFlight,
		fetchBytes:     DefaultFetchPartitionBytes,
		eventsTopic:    DefaultEventsTopic,
		eventsParts:    1,
		producer:       defaultProducerSettings(),
		stallTimeout:   DefaultStallTimeout,
	}
}

func (s *settings) bad(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

// validate returns every problem of the options at once, each naming the
// option and its value.
func (s *settings) validate() error {
	if len(s.brokers) == 0 {
		s.errs = append(s.errs, ErrNoBrokers)
	}
	for _, b := range s.brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			s.bad("actors.Brokers(%q): not a host:port", b)
		}
	}
	if s.service == "" {
		s.bad("actors.ServiceName(\"\"): must not be empty (it names the client ID and the event group)")
	}
	if err := topics.ValidateName(s.eventsTopic); err != nil {
		s.bad("actors.EventsTopic(%q): %v", s.eventsTopic, err)
	}
	if err := s.group.check(); err != nil {
		s.errs = append(s.errs, err)
	}
	if s.consoleToken != "" && s.metricsListen == "" {
		s.bad("actors.ConsoleAdmin: given without actors.ServeMetrics (the console is served on its listener)")
	}
	return errors.Join(s.errs...)
}

// ErrNoBrokers is New's error when no broker address is given.
var ErrNoBrokers = errors.New("actors.New: no brokers: pass actors.Brokers(\"host:9092\", ...) to use a Kafka cluster, " +
	"or start an embedded broker (broker.Start, or actortest.Broker in tests) and pass actors.Brokers(b.Addr())")

// RuntimeOption configures a Runtime built by New. A bad value makes New
// fail with an error naming the option and the value.
type RuntimeOption interface{ applyRuntime(*settings) }

type runtimeOpt func(*settings)

func (f runtimeOpt) applyRuntime(s *settings) { f(s) }

// Brokers sets the bootstrap servers, host:port each (Java client:
// bootstrap.servers). Required: there is no default cluster, so a runtime
// never talks to a broker nobody chose. To run on the embedded broker,
// start it (package broker) and pass its address.
func Brokers(addrs ...string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		for _, a := range addrs {
			for _, p := range strings.Split(a, ",") {
				if p = strings.TrimSpace(p); p != "" {
					s.brokers = append(s.brokers, p)
				}
			}
		}
	})
}

// ServiceName names the service: the default client ID and the event
// router's default consumer group. Default DefaultServiceName.
func ServiceName(name string) RuntimeOption {
	return runtimeOpt(func(s *settings) { s.service = name })
}

// ClientID sets the Kafka client ID (client.id). Default: the service name.
func ClientID(id string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if id == "" {
			s.bad("actors.ClientID(\"\"): must not be empty")
		}
		s.clientID = id
	})
}

// KafkaOptions adds franz-go client options to every client the runtime
// builds (producer, groups, admin): SASL, TLS, dialers, hooks. They come
// after the runtime's own options, so they win where both set one thing;
// options that would take over what the runtime manages (consumer groups,
// topics, commits) must not be given here.
func KafkaOptions(opts ...kgo.Opt) RuntimeOption {
	return runtimeOpt(func(s *settings) { s.kafkaOpts = append(s.kafkaOpts, opts...) })
}

// WithLogger sets the runtime's logger; protoactor's and franz-go's own
// logs go through it too (component protoactor and kafka, their
// informational lines at debug level, warnings and errors as they are).
// Default: slog text on stderr at info.
func WithLogger(l *slog.Logger) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if l == nil {
			s.bad("actors.WithLogger(nil): want a logger (slog.New(slog.DiscardHandler) discards)")
		}
		s.log = l
	})
}

// RequestTimeout bounds how long a ping, an admin call or a produce waits
// on an unreachable cluster before it fails (franz-go RetryTimeout and
// RecordDeliveryTimeout). Default DefaultRequestTimeout.
func RequestTimeout(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d <= 0 {
			s.bad("actors.RequestTimeout(%s): must be positive", d)
		}
		s.requestTimeout = d
	})
}

// SessionTimeout is how long the group coordinator waits for a silent
// member before it hands the member's partitions to others (Java client:
// session.timeout.ms): shorter moves a crashed member's partitions sooner,
// too short expels members that pause. Between 6s and 5m (the brokers'
// usual limits). Default DefaultSessionTimeout.
func SessionTimeout(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < 6*time.Second || d > 5*time.Minute {
			s.bad("actors.SessionTimeout(%s): must be between 6s and 5m", d)
		}
		s.sessionTimeout = d
	})
}

// CommitInterval sets how often finished offsets are committed: shorter
// re-delivers less after a crash and costs more commits. At least
// MinCommitInterval. Default DefaultCommitInterval.
func CommitInterval(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < MinCommitInterval {
			s.bad("actors.CommitInterval(%s): must be at least %s", d, MinCommitInterval)
		}
		s.commitInterval = d
	})
}

// DrainTimeout bounds how long a revoke or a stop waits for in-flight
// records before letting go of them uncommitted (they are re-delivered).
// Default DefaultDrainTimeout.
func DrainTimeout(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d <= 0 {
			s.bad("actors.DrainTimeout(%s): must be positive", d)
		}
		s.drainTimeout = d
	})
}

// DefaultMaxInFlightPerPartition sets the in-flight cap of consumers that
// do not set MaxInFlight. Default DefaultMaxInFlight.
func DefaultMaxInFlightPerPartition(n int) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < 1 || n > MaxInFlightLimit {
			s.bad("actors.DefaultMaxInFlightPerPartition(%d): must be between 1 and %d", n, MaxInFlightLimit)
		}
		s.maxInFlight = n
	})
}

// FetchPartitionBytes is the most bytes one fetch asks of one partition
// (Java client: max.partition.fetch.bytes); a larger record batch still
// comes whole. Between 1 KiB and 1 GiB. Default DefaultFetchPartitionBytes.
func FetchPartitionBytes(n int) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < 1024 || n > 1<<30 {
			s.bad("actors.FetchPartitionBytes(%d): must be between 1024 and 1073741824 (1 GiB)", n)
		}
		s.fetchBytes = n
	})
}

// WithSchemaRegistry makes producers with a schema register it under the
// subject "<topic>-value" and frame records the Confluent way (0x00, the
// 4-byte schema id, the body); consumers look writer schemas up by id.
// Without it records use Avro single-object encoding (0xC3 0x01 and the
// schema's CRC-64-AVRO fingerprint), and writer schemas are found among
// the schemas this runtime's producers and consumers know.
func WithSchemaRegistry(reg schema.Registry) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if reg == nil {
			s.bad("actors.WithSchemaRegistry(nil): want a registry")
		}
		s.registry = reg
	})
}

// MetricsRegisterer registers the runtime's Prometheus instruments on reg
// (for example prometheus.DefaultRegisterer, beside the service's own)
// instead of on the runtime's private registry. Default: a private
// registry, exposed only by ServeMetrics or Runtime.Metrics.
func MetricsRegisterer(reg prometheus.Registerer) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if reg == nil {
			s.bad("actors.MetricsRegisterer(nil): want a registerer")
		}
		s.registerer = reg
	})
}

// ServeMetrics serves the status console at / (its JSON API under /api/,
// package console), /metrics, /healthz and /readyz on addr (host:port,
// port 0 picks one; see Runtime.MetricsAddr) from Start to Stop. The
// console is read-only unless ConsoleAdmin is given too. Default: not
// served.
func ServeMetrics(addr string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			s.bad("actors.ServeMetrics(%q): not a host:port", addr)
		}
		s.metricsListen = addr
	})
}

// EventsTopic sets the topic that carries named events (Emit, On). Default
// DefaultEventsTopic.
func EventsTopic(name string) RuntimeOption {
	return runtimeOpt(func(s *settings) { s.eventsTopic = name })
}

// EventsGroup sets the event router's consumer group. Default: the service
// name, so that every instance of a service shares its events.
func EventsGroup(name string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if name == "" {
			s.bad("actors.EventsGroup(\"\"): must not be empty")
		}
		s.eventsGroup = name
	})
}

// EventsPartitions is the partition count the events topic is created with
// when it does not exist (an existing topic is left as it is). Default 1.
func EventsPartitions(n int32) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if n < 1 {
			s.bad("actors.EventsPartitions(%d): must be at least 1", n)
		}
		s.eventsParts = n
	})
}
