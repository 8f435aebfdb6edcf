package fromconfig

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/config"
	"github.com/actord/actord/partition"
	"github.com/actord/actord/schema"
	"github.com/actord/actord/supervisor"
	"github.com/actord/actord/topics"
)

// Logger builds the runtime's slog logger from the log section: text or
// json, at the configured level.
func Logger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Level)); err != nil {
		lvl = slog.LevelInfo
	}
	o := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// Runtime is a started-up runtime of the configuration: with
// kafka.enabled false the embedded broker it started (Close stops it after
// the runtime), and the runtime pointed at it or at kafka.bootstrap_servers.
type Runtime struct {
	*actors.Runtime
	// Brokers are the bootstrap servers the runtime uses.
	Brokers []string
	// Embedded is the in-process broker of kafka.enabled false, else nil.
	Embedded *broker.Broker
	// Tracer is the tracer provider of tracing.exporter otlp, else nil.
	Tracer *sdktrace.TracerProvider
	// Registry is the Schema Registry client of schema_registry.url (or
	// of the embedded registry), which the runtime's producers and
	// consumers use; nil without a registry.
	Registry *schema.RegistryClient
	// EmbeddedRegistry is the in-process registry of kafka.enabled false
	// with broker.schema_registry.listen, else nil.
	EmbeddedRegistry *registry.Server
}

// Close sends the spans still batched (tracing on) and stops the embedded
// broker, if one was started; call it after the runtime has stopped.
func (r *Runtime) Close() {
	shutdownTracing(r.Tracer)
	if r.EmbeddedRegistry != nil {
		r.EmbeddedRegistry.Close()
	}
	if r.Embedded != nil {
		r.Embedded.Close()
	}
}

// NewRuntime builds the runtime cfg describes: it starts the embedded
// broker when kafka.enabled is false, and applies every key of the kafka,
// runtime, events, http and topics sections through RuntimeOptions. extra
// options come last (a logger, for example).
func NewRuntime(cfg config.Config, extra ...actors.RuntimeOption) (*Runtime, error) {
	out := &Runtime{Brokers: cfg.Kafka.Brokers()}
	if !cfg.Kafka.Enabled {
		b, err := StartBroker(cfg.Broker)
		if err != nil {
			return nil, err
		}
		out.Embedded = b
		out.Brokers = []string{b.Addr()}
		if out.EmbeddedRegistry, err = StartRegistry(cfg.Broker); err != nil {
			out.Close()
			return nil, err
		}
		if out.EmbeddedRegistry != nil && cfg.SchemaRegistry.URL == "" {
			cfg.SchemaRegistry.URL = out.EmbeddedRegistry.URL()
		}
	}
	opts, err := RuntimeOptions(cfg)
	if err != nil {
		out.Close()
		return nil, err
	}
	opts = append(opts, actors.Brokers(out.Brokers...))
	if out.Registry, err = RegistryClient(cfg.SchemaRegistry); err != nil {
		out.Close()
		return nil, err
	}
	if out.Registry != nil {
		opts = append(opts, actors.WithSchemaRegistry(out.Registry))
	}
	if out.Tracer, err = TracerProvider(cfg.Tracing, cfg.Service); err != nil {
		out.Close()
		return nil, err
	}
	if out.Tracer != nil {
		opts = append(opts, actors.WithTracerProvider(out.Tracer))
	}
	rt, err := actors.New(append(opts, extra...)...)
	if err != nil {
		out.Close()
		return nil, err
	}
	out.Runtime = rt
	for _, t := range cfg.Topics {
		err := actors.DeclareTopic(rt, topics.Topic{Name: t.Name, Partitions: t.Partitions, ReplicationFactor: t.ReplicationFactor, Config: t.Config})
		if err != nil {
			rt.Stop(context.Background())
			out.Close()
			return nil, fmt.Errorf("topics: %w", err)
		}
	}
	return out, nil
}

// RuntimeOptions turns every runtime-level key of cfg into the library's
// options (all but the bootstrap servers, which NewRuntime resolves).
func RuntimeOptions(cfg config.Config) ([]actors.RuntimeOption, error) {
	conn, err := ConnOpts(cfg.Kafka)
	if err != nil {
		return nil, err
	}
	opts := []actors.RuntimeOption{
		actors.ServiceName(cfg.Service),
		actors.KafkaOptions(conn...),
		actors.RequestTimeout(cfg.Kafka.RequestTimeout),
		actors.SessionTimeout(cfg.Kafka.SessionTimeout),
		actors.CommitInterval(cfg.Runtime.CommitInterval),
		actors.DrainTimeout(cfg.Runtime.DrainTimeout),
		actors.DefaultMaxInFlightPerPartition(cfg.Runtime.MaxInFlight),
		actors.FetchPartitionBytes(cfg.Runtime.FetchPartitionBytes),
		actors.StallTimeout(cfg.Runtime.StallTimeout),
		actors.EventsTopic(cfg.Events.Topic),
		actors.EventsPartitions(int32(max(cfg.Broker.DefaultPartitions, 1))),
		actors.WithLogger(Logger(cfg.Log, os.Stderr)),
	}
	if cfg.Kafka.ClientID != "" {
		opts = append(opts, actors.ClientID(cfg.Kafka.ClientID))
	}
	prod, err := cfg.Producer.Options()
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	opts = append(opts, prod...)
	groups, err := cfg.Kafka.GroupOptions()
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	opts = append(opts, groups...)
	if p := cfg.Kafka.TransactionalIDPrefix; p != "" {
		opts = append(opts, actors.TransactionalIDPrefix(p))
	}
	if cfg.Events.Group != "" {
		opts = append(opts, actors.EventsGroup(cfg.Events.Group))
	}
	if cfg.HTTP.Listen != "" {
		opts = append(opts, actors.ServeMetrics(cfg.HTTP.Listen))
	}
	if cfg.HTTP.Admin {
		token, err := ConsoleToken(cfg.HTTP)
		if err != nil {
			return nil, err
		}
		opts = append(opts, actors.ConsoleAdmin(token))
	}
	return opts, nil
}

// ConsumerOptions turns a consumer declared in config (with its defaults
// filled, as Load leaves it) into the library's options.
func ConsumerOptions(c config.Consumer) ([]actors.ConsumerOption, error) {
	mode, err := partition.ParseOrdering(c.Ordering)
	if err != nil {
		return nil, err
	}
	p := supervisor.DefaultPolicy()
	if c.MaxRetries != nil {
		p.MaxRetries = *c.MaxRetries
	}
	if c.Backoff.Initial != 0 {
		p.Initial = c.Backoff.Initial
	}
	if c.Backoff.Max != 0 {
		p.Max = c.Backoff.Max
	}
	if c.Backoff.Multiplier != 0 {
		p.Multiplier = c.Backoff.Multiplier
	}
	p.Jitter = c.Backoff.Jitter
	opts := []actors.ConsumerOption{actors.Ordering(mode), actors.RetryPolicy(p)}
	if c.Concurrency > 0 {
		opts = append(opts, actors.Concurrency(c.Concurrency))
	}
	if c.MaxInFlight > 0 {
		opts = append(opts, actors.MaxInFlight(c.MaxInFlight))
	}
	if c.DeadLetter != nil && !*c.DeadLetter {
		opts = append(opts, actors.NoDeadLetter())
	} else if c.DeadLetterTopic != "" {
		opts = append(opts, actors.DeadLetterTopic(c.DeadLetterTopic))
	}
	if c.HandlerTimeout > 0 {
		opts = append(opts, actors.HandlerTimeout(c.HandlerTimeout))
	}
	if c.FromBeginning != nil && !*c.FromBeginning {
		opts = append(opts, actors.FromLatest())
	}
	if c.RetryTopic != "" {
		opts = append(opts, actors.RetryTopic(c.RetryTopic, c.RetrySchedule...))
	}
	switch s := c.Circuit.Settings(); {
	case c.Circuit.Off():
		opts = append(opts, actors.NoCircuit())
	case s != (supervisor.CircuitConfig{}):
		opts = append(opts, actors.WithCircuit(s))
	}
	return opts, nil
}
