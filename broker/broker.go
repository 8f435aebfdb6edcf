// Package broker owns the embedded Kafka-protocol broker: one in-process
// franz-go kfake node with a chosen listen address, an optional data
// directory that keeps topics, records and committed offsets across
// restarts, and topic auto-creation. It backs `actord broker`,
// `kafka.enabled: false`, `--embedded` and the project's tests. Production
// runs against Kafka.
//
// The broker refuses what it cannot serve and keeps running: a topic of
// more than MaxPartitionsPerTopic (10,000) partitions, created or grown,
// is INVALID_PARTITIONS; a CreateTopics request of more than
// MaxPartitionsPerRequest (10,000) partitions in all is POLICY_VIOLATION;
// a replication factor above NumBrokers (1) is INVALID_REPLICATION_FACTOR,
// as Kafka answers; a request frame over MaxRequestBytes (100 MiB, Kafka's
// socket.request.max.bytes default) has its connection closed before it is
// read, as Kafka does. Without SASL, a SASLHandshake is answered
// ILLEGAL_SASL_STATE, as by a Kafka listener without SASL.
package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config says how to run the embedded broker.
type Config struct {
	// Listen is host:port; port 0 picks a free port. Default "127.0.0.1:0".
	Listen string
	// DataDir persists state when set; empty keeps it in memory.
	DataDir string
	// AutoCreateTopics lets producers and consumers create topics on use.
	AutoCreateTopics bool
	// DefaultPartitions is the partition count of auto-created topics and
	// of topics created without a count. Default 1.
	DefaultPartitions int
	// SeedTopics are created at start (with DefaultPartitions) when the
	// data dir holds no state yet.
	SeedTopics []string
	// Security is what the broker requires of every connection (SASL,
	// TLS); the zero value requires nothing. See SecurityFrom.
	Security Security
	// Opts are passed to kfake after actord's own, for tests and security
	// settings (SASL users, TLS).
	Opts []kfake.Opt
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	dataDir string
	once    sync.Once
}

// Start binds the listen address and starts serving. It fails with one
// clear error when the address is in use or the data dir is unusable.
func Start(cfg Config) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.DefaultPartitions < 1 {
		cfg.DefaultPartitions = 1
	}
	if err := cfg.Security.check(); err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
		if err := forgetCredentials(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	// Bind ourselves first: kfake only ever listens on 127.0.0.1, and the
	// error of a busy port should name the address the user asked for.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: cannot listen on %s: %w", cfg.Listen, unwrapOpErr(err))
	}
	ln = &sizeLimitListener{Listener: cfg.Security.listener(ln), max: MaxRequestBytes}
	opts := []kfake.Opt{
		kfake.NumBrokers(NumBrokers),
		kfake.DefaultNumPartitions(cfg.DefaultPartitions),
		kfake.ClusterID("actord-embedded"),
		kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }),
	}
	if cfg.AutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if len(cfg.SeedTopics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.DefaultPartitions), cfg.SeedTopics...))
	}
	opts = append(opts, cfg.Security.opts()...)
	opts = append(opts, cfg.Opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	limitRequests(c, cfg.Security.SASLMechanism != "")
	return &Broker{cluster: c, addr: ln.Addr().String(), dataDir: cfg.DataDir}, nil
}

// Addr is the host:port the broker accepts connections on.
func (b *Broker) Addr() string { return b.addr }

// Cluster exposes the kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker and, with a data dir, writes its state to disk.
// It is safe to call more than once.
func (b *Broker) Close() {
	b.once.Do(func() {
		b.cluster.Close()
		if b.dataDir != "" {
			forgetCredentials(b.dataDir)
		}
	})
}

// checkDataDir creates dir when missing and proves it writable, so that an
// unusable directory is reported before any client connects.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("embedded broker: data dir %s: %w", dir, unwrapPathErr(err))
	}
	probe, err := os.CreateTemp(dir, ".actord-write-check-*")
	if err != nil {
		return fmt.Errorf("embedded broker: data dir %s is not writable: %w", dir, unwrapPathErr(err))
	}
	name := probe.Name()
	probe.Close()
	os.Remove(name)
	if _, err := os.Stat(filepath.Join(dir)); err != nil {
		return fmt.Errorf("embedded broker: data dir %s: %w", dir, unwrapPathErr(err))
	}
	return nil
}

func unwrapOpErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
