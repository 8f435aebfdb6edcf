// Package config owns actord's one configuration: the typed struct every
// part of the runtime and the command line reads, its defaults, and the
// loader that fills it from a YAML file, ACTORD_* environment variables and
// command-line flags, in that rising order of precedence.
package config

import (
	"time"

	"github.com/actord/actord/actors"
)

// Config is the whole of actord's configuration. Every key is documented in
// README.md (Configuration reference) with its type, default and
// environment variable; a test keeps the two in step.
type Config struct {
	// Service names this process; the default consumer group of the event
	// router and the Kafka client ID derive from it. Default "actord".
	Service string `mapstructure:"service"`

	// Kafka is how clients reach the cluster.
	Kafka Kafka `mapstructure:"kafka"`
	// Broker configures the embedded broker.
	Broker Broker `mapstructure:"broker"`
	// SchemaRegistry is the Confluent-compatible Schema Registry of Avro
	// records (config/schemaregistry.go).
	SchemaRegistry SchemaRegistry `mapstructure:"schema_registry"`
	// Runtime tunes the consumer machinery.
	Runtime Runtime `mapstructure:"runtime"`
	// Events configures named events.
	Events Events `mapstructure:"events"`
	// Log configures logging.
	Log Log `mapstructure:"log"`
	// HTTP configures the metrics and health listener.
	HTTP HTTP `mapstructure:"http"`
	// Tracing configures OpenTelemetry tracing (config/tracing.go).
	Tracing Tracing `mapstructure:"tracing"`
	// Producer tunes the producing client (config/producer.go).
	Producer Producer `mapstructure:"producer"`
	// Topics are reconciled at start. File only: no env or flag.
	Topics []Topic `mapstructure:"topics"`
	// Consumers are what `actord start` runs. File only: no env or flag.
	Consumers []Consumer `mapstructure:"consumers"`

	// File is the config file the values came from, empty when none was
	// read. Not a key: set by the loader.
	File string `mapstructure:"-"`
}

// Kafka is how the runtime reaches the cluster.
type Kafka struct {
	// Enabled false runs the embedded broker in-process (see Broker) and
	// points every client at it. Default true.
	Enabled bool `mapstructure:"enabled"`
	// BootstrapServers is a comma-separated host:port list (Java client:
	// bootstrap.servers). Default "localhost:9092".
	BootstrapServers string `mapstructure:"bootstrap_servers"`
	// ClientID is sent to the brokers (client.id). Default: the service name.
	ClientID string `mapstructure:"client_id"`
	// DialTimeout bounds one TCP (and TLS) connect. Default 5s.
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
	// RequestTimeout bounds how long any one command or admin call waits on
	// an unreachable or unresponsive cluster before it fails. Default 10s.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// SessionTimeout is how long the group coordinator waits for a
	// silent member before it hands the member's partitions to others
	// (Java client: session.timeout.ms). Shorter moves a crashed
	// member's partitions sooner; too short expels members that pause.
	// Default 45s.
	SessionTimeout time.Duration `mapstructure:"session_timeout"`
	// MetadataMaxAge is how often the group clients refresh metadata when
	// nothing forces it (Java client: metadata.max.age.ms): a
	// topic_pattern consumer finds new topics within it. Zero means the
	// default: 10s for a group with a topic pattern, 5m otherwise.
	MetadataMaxAge time.Duration `mapstructure:"metadata_max_age"`
	// InstanceID, Balancer and GroupProtocol tune every consumer group of
	// the process (config/groups.go).
	InstanceID    string `mapstructure:"instance_id"`
	Balancer      string `mapstructure:"balancer"`
	GroupProtocol string `mapstructure:"group_protocol"`
	// IsolationLevel is read_committed (default) or read_uncommitted.
	IsolationLevel string `mapstructure:"isolation_level"`
	// SASL authenticates the clients; empty mechanism means none.
	SASL SASL `mapstructure:"sasl"`
	// TLS encrypts the connections when Enabled.
	TLS TLS `mapstructure:"tls"`
	// TransactionalIDPrefix starts the transactional ID of each partition
	// of an exactly-once consumer (config/exactlyonce.go). Empty means
	// actors.DefaultTransactionalIDPrefix.
	TransactionalIDPrefix string `mapstructure:"transactional_id_prefix"`
}

// SASL holds client credentials. Password is never logged.
type SASL struct {
	// Mechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	Mechanism string `mapstructure:"mechanism"`
	// User is the SASL user name; required with a mechanism.
	User string `mapstructure:"user"`
	// Password is the SASL password; Config.Redacted hides it.
	Password string `mapstructure:"password"`
	// PasswordFile, when set, is read for the password (trailing newline
	// trimmed); it wins over Password.
	PasswordFile string `mapstructure:"password_file"`
}

// TLS configures client TLS.
type TLS struct {
	// Enabled dials the brokers over TLS. Default false.
	Enabled bool `mapstructure:"enabled"`
	// CAFile is a PEM file of the CAs that verify the brokers; empty
	// means the system's roots.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are the PEM client certificate and its key for
	// mutual TLS: both or neither.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ServerName is the name the brokers' certificates are verified
	// against; empty means the host dialed.
	ServerName string `mapstructure:"server_name"`
}

// Broker configures the embedded Kafka-protocol broker used by `actord
// broker`, `--embedded` and `kafka.enabled: false`.
type Broker struct {
	// Listen is the host:port it accepts connections on. Default
	// "127.0.0.1:9092"; port 0 picks a free one.
	Listen string `mapstructure:"listen"`
	// DataDir keeps topics, records and committed offsets across restarts.
	// Empty keeps everything in memory. Default "".
	DataDir string `mapstructure:"data_dir"`
	// AutoCreateTopics creates a topic on first use by a producer or
	// consumer. Default true.
	AutoCreateTopics bool `mapstructure:"auto_create_topics"`
	// DefaultPartitions is the partition count of auto-created topics.
	// Default 1.
	DefaultPartitions int `mapstructure:"default_partitions"`
	// SASL, with a mechanism, makes the broker require every connection
	// to authenticate as its one user (a superuser) with that mechanism.
	// Empty mechanism: no authentication. Password is never logged.
	SASL SASL `mapstructure:"sasl"`
	// TLS, with a certificate, makes the broker accept TLS connections
	// only.
	TLS BrokerTLS `mapstructure:"tls"`
	// SchemaRegistry is the embedded Schema Registry served beside the
	// broker (config/schemaregistry.go).
	SchemaRegistry BrokerRegistry `mapstructure:"schema_registry"`
}

// BrokerTLS is the embedded broker's TLS: its certificate, and the CA that
// client certificates must chain to for mutual TLS.
type BrokerTLS struct {
	// CertFile and KeyFile are the broker's PEM certificate (with any
	// intermediates) and its private key: both or neither. Set, the
	// broker speaks TLS 1.2 or later only.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ClientCAFile is a PEM file of the CAs that client certificates
	// must chain to; set, a client without such a certificate is refused
	// (mutual TLS). Needs CertFile.
	ClientCAFile string `mapstructure:"client_ca_file"`
}

// Runtime tunes the consumer machinery.
type Runtime struct {
	// CommitInterval is how often completed offsets are committed. Default 1s.
	CommitInterval time.Duration `mapstructure:"commit_interval"`
	// DrainTimeout bounds how long a revoke or a shutdown waits for
	// in-flight records before letting go. Default 30s.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
	// MaxInFlight caps the records a partition has fetched but not finished;
	// at it no more are delivered until it drains. Default
	// actors.DefaultMaxInFlight (1000).
	MaxInFlight int `mapstructure:"max_in_flight"`
	// FetchPartitionBytes is the most bytes one fetch request asks of one
	// partition (max.partition.fetch.bytes); a larger record batch still
	// comes whole. Default 256 KiB.
	FetchPartitionBytes int `mapstructure:"fetch_partition_bytes"`
	// StallTimeout is how long a partition with records in flight may go
	// without committing before it is reported stalled; 0 turns it off.
	// Default actors.DefaultStallTimeout (5m).
	StallTimeout time.Duration `mapstructure:"stall_timeout"`
}

// Events configures named events.
type Events struct {
	// Topic carries every named event. Default "events".
	Topic string `mapstructure:"topic"`
	// Group is the event router's consumer group. Default: the service name.
	Group string `mapstructure:"group"`
}

// Log configures the runtime's slog logger.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `mapstructure:"level"`
	// Format is text or json. Default text.
	Format string `mapstructure:"format"`
}

// HTTP configures the metrics and health listener.
type HTTP struct {
	// Listen is host:port for /metrics, /healthz and /readyz; empty turns
	// it off. Default "127.0.0.1:9464".
	Listen string `mapstructure:"listen"`
	// Admin turns on the status console's actions (replaying dead
	// letters, pausing and resuming consumers), which then need the token
	// in AdminTokenFile. Default false: the console is read-only.
	Admin bool `mapstructure:"admin"`
	// AdminTokenFile is a file holding the console's admin token (at
	// least 16 characters; a trailing newline is trimmed). Required with
	// Admin, an error without it.
	AdminTokenFile string `mapstructure:"admin_token_file"`
}

// Topic declares a topic to reconcile at start.
type Topic struct {
	// Name follows Kafka's rules: 1 to 249 of a-z A-Z 0-9 . _ -.
	Name string `mapstructure:"name"`
	// Partitions is the partition count; 0 means 1.
	Partitions int32 `mapstructure:"partitions"`
	// ReplicationFactor is the replicas of each partition; 0 means 1.
	ReplicationFactor int16 `mapstructure:"replication_factor"`
	// Config holds topic configs such as retention.ms.
	Config map[string]string `mapstructure:"config"`
}

// Consumer declares one consumer that `actord start` runs.
type Consumer struct {
	// Topic is the topic consumed. Required, unless TopicPattern is set.
	Topic string `mapstructure:"topic"`
	// TopicPattern consumes every topic whose whole name matches this
	// regular expression (Go's RE2 syntax), those created later too
	// (actors.ConsumePattern). Instead of Topic.
	TopicPattern string `mapstructure:"topic_pattern"`
	// Group is the consumer group. Required.
	Group string `mapstructure:"group"`
	// MaxRetries is how many times a failed record is retried: at most
	// MaxRetries+1 attempts. Default 3.
	MaxRetries *int `mapstructure:"max_retries"`
	// Backoff is the delay between attempts.
	Backoff Backoff `mapstructure:"backoff"`
	// Ordering is partition (default), key or unordered.
	Ordering string `mapstructure:"ordering"`
	// Concurrency is the handler actors per partition in key and unordered
	// modes. Default actors.DefaultConcurrency (16).
	Concurrency int `mapstructure:"concurrency"`
	// MaxInFlight overrides runtime.max_in_flight for this consumer.
	MaxInFlight int `mapstructure:"max_in_flight"`
	// DeadLetterTopic receives records that failed every attempt. Default
	// "<topic>.dlq". DeadLetter false turns dead-lettering off (failed
	// records are logged and skipped).
	DeadLetterTopic string `mapstructure:"dead_letter_topic"`
	// DeadLetter false turns dead-lettering off. Default true.
	DeadLetter *bool `mapstructure:"dead_letter"`
	// HandlerTimeout bounds one attempt; zero means none. A timeout is a
	// retryable failure.
	HandlerTimeout time.Duration `mapstructure:"handler_timeout"`
	// FromBeginning starts a group with no committed offset at the
	// earliest record (default true) instead of the latest.
	FromBeginning *bool   `mapstructure:"from_beginning"`
	Handler       Handler `mapstructure:"handler"`
	// Circuit is the consumer's circuit breaker (on by default).
	Circuit Circuit `mapstructure:"circuit"`
	// RetryTopic and RetrySchedule park records whose retries are spent,
	// with their key's later records, instead of dead-lettering them
	// (actors.RetryTopic; key ordering only).
	RetryTopic    string          `mapstructure:"retry_topic"`
	RetrySchedule []time.Duration `mapstructure:"retry_schedule"`
	// Schema decodes Avro records to JSON for the handler
	// (config/schemaregistry.go).
	Schema *ConsumerSchema `mapstructure:"schema"`
	// ExactlyOnce writes a forward handler's records and the consumed
	// offsets in one transaction per batch (config/exactlyonce.go).
	ExactlyOnce bool `mapstructure:"exactly_once"`
}

// Backoff is the retry delay: Initial, doubled (Multiplier) per attempt up
// to Max, with +/- Jitter as a fraction.
type Backoff struct {
	// Initial is the first delay. Default 100ms.
	Initial time.Duration `mapstructure:"initial"`
	// Max caps the delay. Default 10s.
	Max time.Duration `mapstructure:"max"`
	// Multiplier grows the delay per attempt; at least 1. Default 2.
	Multiplier float64 `mapstructure:"multiplier"`
	// Jitter spreads each delay by +/- this fraction, 0 to 1. Load fills
	// 0.2 when the key is absent from the file; an explicit 0 (and the
	// zero value in Go) means no jitter.
	Jitter float64 `mapstructure:"jitter"`
}

// Handler selects exactly one built-in handler kind.
type Handler struct {
	// Exec runs a command: once per record, or as a long-running stream
	// (config/exec.go).
	Exec *ExecHandler `mapstructure:"exec"`
	// HTTP POSTs each record to a URL.
	HTTP *HTTPHandler `mapstructure:"http"`
	// Log writes each record as one JSON line.
	Log *LogHandler `mapstructure:"log"`
	// Forward produces each record to another topic.
	Forward *ForwardHandler `mapstructure:"forward"`
}

// HTTPHandler POSTs each record to URL.
type HTTPHandler struct {
	// URL is an absolute http or https URL. Required.
	URL string `mapstructure:"url"`
	// Timeout bounds one request. Default 30s.
	Timeout time.Duration `mapstructure:"timeout"`
	// Batch, when set, POSTs records in batches (a JSON array each) through
	// actors.ConsumeBatch.
	Batch *Batch `mapstructure:"batch"`
}

// Batch is handler.http.batch: up to Max records a batch, a partial batch
// held up to Wait for more.
type Batch struct {
	Max  int           `mapstructure:"max"`
	Wait time.Duration `mapstructure:"wait"`
}

// LogHandler writes one JSON object per record to File, or stdout.
type LogHandler struct {
	// File is appended to; empty means stdout.
	File string `mapstructure:"file"`
}

// ForwardHandler produces each record to Topic.
type ForwardHandler struct {
	// Topic is where records go; not the consumed topic. Required.
	Topic string `mapstructure:"topic"`
}

// Default returns the configuration with every default set: the
// library's own defaults (actors.Default*, supervisor.Default*), and this
// package's for the daemon's keys.
func Default() Config {
	return Config{
		Service: actors.DefaultServiceName,
		Kafka: Kafka{
			Enabled:          true,
			BootstrapServers: DefaultBootstrapServers,
			DialTimeout:      DefaultDialTimeout,
			RequestTimeout:   actors.DefaultRequestTimeout,
			SessionTimeout:   actors.DefaultSessionTimeout,
			Balancer:         actors.BalanceCooperativeSticky.String(),
			GroupProtocol:    actors.ProtocolClassic.String(),
		},
		Broker: Broker{
			Listen:            DefaultBrokerListen,
			AutoCreateTopics:  true,
			DefaultPartitions: 1,
		},
		SchemaRegistry: SchemaRegistry{Timeout: DefaultRegistryTimeout, AutoRegister: true},
		Runtime: Runtime{
			CommitInterval:      actors.DefaultCommitInterval,
			DrainTimeout:        actors.DefaultDrainTimeout,
			MaxInFlight:         actors.DefaultMaxInFlight,
			FetchPartitionBytes: actors.DefaultFetchPartitionBytes,
			StallTimeout:        actors.DefaultStallTimeout,
		},
		Events:   Events{Topic: actors.DefaultEventsTopic},
		Log:      Log{Level: "info", Format: "text"},
		HTTP:     HTTP{Listen: DefaultHTTPListen},
		Tracing:  Tracing{Exporter: ExporterNone},
		Producer: DefaultProducer(),
	}
}
