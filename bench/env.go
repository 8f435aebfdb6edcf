package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
)

// ValueSize is the size of every record value the scenarios produce.
const ValueSize = 100

// Env is one embedded broker (one kfake node, loopback only) that every
// side of every comparison talks to. Broker is nil in a child process
// that connects to its parent's broker.
type Env struct {
	Broker *broker.Broker
	Addr   string
	Log    *slog.Logger

	mu  sync.Mutex
	seq int

	fetchStart atomic.Int64 // unix nanos
}

// Start runs the embedded broker on a free loopback port.
func Start() (*Env, error) {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		return nil, err
	}
	e := Connect(b.Addr())
	e.Broker = b
	// The fetch clock: a consume run is timed from its consumer's first
	// fetch, the same moment for every side, so that joining the group is
	// not counted and the first fetch's transfer is.
	c := b.Cluster()
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if f, ok := req.(*kmsg.FetchRequest); ok && len(f.Topics) > 0 {
			e.fetchStart.CompareAndSwap(0, time.Now().UnixNano())
		}
		return nil, nil, false
	})
	return e, nil
}

// armFetchClock forgets the last first fetch.
func (e *Env) armFetchClock() { e.fetchStart.Store(0) }

// fetchClock is when the first fetch since armFetchClock arrived, zero
// when none did or the broker is another process's.
func (e *Env) fetchClock() time.Time {
	if n := e.fetchStart.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// DeleteTopic deletes topic, freeing the broker's copy of its records.
func (e *Env) DeleteTopic(ctx context.Context, topic string) error {
	cl, err := kgo.NewClient(e.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

// Connect is an Env on a broker another process runs (the memory
// scenario's child process).
func Connect(addr string) *Env {
	return &Env{Addr: addr, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
}

// Close stops the broker when this Env runs it.
func (e *Env) Close() {
	if e.Broker != nil {
		e.Broker.Close()
	}
}

// Name returns a fresh topic or group name with prefix.
func (e *Env) Name(prefix string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return prefix + "-" + strconv.Itoa(e.seq)
}

// Config is the runtime configuration every actord side runs with: the
// defaults (commit every second, 1,000 records in flight per partition,
// metrics collected) pointed at the broker, logging errors only, with no
// HTTP listener.
func (e *Env) Config() config.Config {
	cfg := config.Default()
	cfg.Kafka.BootstrapServers = e.Addr
	cfg.Runtime.DrainTimeout = 10 * time.Second
	cfg.Log.Level = "error"
	// No metrics endpoint: runtimes come and go during a run, and the
	// memory children run beside the parent.
	cfg.HTTP.Listen = ""
	return cfg
}

// Runtime builds an actord runtime on the broker; mut adjusts its config.
func (e *Env) Runtime(mut ...func(*config.Config)) (*actors.Runtime, error) {
	cfg := e.Config()
	for _, m := range mut {
		m(&cfg)
	}
	return actors.New(cfg, actors.WithLogger(e.Log))
}

// StopRuntime stops rt, bounded so that a stuck drain cannot hang a run.
func StopRuntime(rt *actors.Runtime) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return rt.Stop(ctx)
}

// ClientOpts are the franz-go options of the raw sides: the same base
// options the runtime builds its clients from.
func (e *Env) ClientOpts() []kgo.Opt {
	opts, err := e.Config().Kafka.ClientOpts()
	if err != nil {
		panic(err) // plain loopback settings: cannot fail
	}
	return opts
}

// CreateTopic creates topic with the given partition count.
func (e *Env) CreateTopic(ctx context.Context, topic string, partitions int32) error {
	cl, err := kgo.NewClient(e.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

// Fill writes n records of ValueSize bytes to topic with a raw client,
// keyed "k<i % keys>" (Kafka's murmur2 placement spreads the keys over the
// partitions), and waits until every record is acknowledged.
func (e *Env) Fill(ctx context.Context, topic string, n, keys int) error {
	cl, err := kgo.NewClient(append(e.ClientOpts(), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var (
		mu   sync.Mutex
		perr error
	)
	value := make([]byte, ValueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	for i := range n {
		r := &kgo.Record{Key: []byte("k" + strconv.Itoa(i%keys)), Value: value}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = errors.Join(perr, err)
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("filling %s: %w", topic, perr)
	}
	return nil
}
