package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
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

// The settings of every comparison, one home each: the actord sides get
// them as runtime options (RuntimeOptions), the raw franz-go sides as
// client options (ClientOpts, ProducerOpts and the raw consume loop), so
// that both fetch as much, wait as long for a fetch and commit as often.
// They are the runtime's defaults, which a service that sets nothing runs
// with.
const (
	// ClientID is the Kafka client ID of every side.
	ClientID = actors.DefaultServiceName
	// RequestTimeout bounds requests and produce deliveries of every side.
	RequestTimeout = actors.DefaultRequestTimeout
	// CommitInterval is how often every consuming side commits.
	CommitInterval = actors.DefaultCommitInterval
	// FetchPartitionBytes is the most one fetch asks of one partition.
	FetchPartitionBytes = actors.DefaultFetchPartitionBytes
	// FetchMaxWait is how long the broker may hold a fetch: what the
	// runtime's group client asks (actors/group.go), for the raw loop.
	FetchMaxWait = 50 * time.Millisecond
	// MetadataMinAge is the runtime's metadata refresh floor
	// (actors/runtime.go), for the raw clients.
	MetadataMinAge = 500 * time.Millisecond
	// MaxInFlight is the in-flight cap per partition of actord sides that
	// set none.
	MaxInFlight = actors.DefaultMaxInFlight
	// DrainTimeout bounds an actord side's stop.
	DrainTimeout = 10 * time.Second
)

// RuntimeOptions are the options every actord side runs with: the
// settings above pointed at the broker, logging errors only, metrics
// collected on the runtime's private registry and not served (runtimes
// come and go during a run, and the memory children run beside the
// parent).
func (e *Env) RuntimeOptions() []actors.RuntimeOption {
	return []actors.RuntimeOption{
		actors.Brokers(e.Addr),
		actors.ClientID(ClientID),
		actors.RequestTimeout(RequestTimeout),
		actors.CommitInterval(CommitInterval),
		actors.FetchPartitionBytes(FetchPartitionBytes),
		actors.DefaultMaxInFlightPerPartition(MaxInFlight),
		actors.DrainTimeout(DrainTimeout),
		actors.WithLogger(e.Log),
	}
}

// Runtime builds an actord runtime on the broker; opts come after
// RuntimeOptions and win.
func (e *Env) Runtime(opts ...actors.RuntimeOption) (*actors.Runtime, error) {
	return actors.New(append(e.RuntimeOptions(), opts...)...)
}

// StopRuntime stops rt, bounded so that a stuck drain cannot hang a run.
func StopRuntime(rt *actors.Runtime) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return rt.Stop(ctx)
}

// ClientOpts are the franz-go options of the raw sides: the same base
// options the runtime builds its clients from (seed brokers, client ID,
// request timeout, metadata age), without its metrics hooks.
func (e *Env) ClientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(e.Addr),
		kgo.ClientID(ClientID),
		kgo.RetryTimeout(RequestTimeout),
		kgo.MetadataMinAge(MetadataMinAge),
	}
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

// Records is how many records each partition of topic holds (end offset
// less start offset), by partition number.
func (e *Env) Records(ctx context.Context, topic string) ([]int64, error) {
	cl, err := kgo.NewClient(e.ClientOpts()...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("start offsets of %s: %w", topic, err)
	}
	var want []int64
	ends.Each(func(o kadm.ListedOffset) {
		for int(o.Partition) >= len(want) {
			want = append(want, 0)
		}
		s, _ := starts.Lookup(topic, o.Partition)
		want[o.Partition] = o.Offset - s.Offset
	})
	return want, nil
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
	value := fillValue()
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

// fillValue is the value of every record Fill writes: ValueSize bytes of
// the alphabet over and over.
func fillValue() []byte {
	value := make([]byte, ValueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	return value
}

// medianBy sorts runs by key and returns the middle one.
func medianBy[T any](runs []T, key func(T) time.Duration) T {
	slices.SortFunc(runs, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	return runs[len(runs)/2]
}

// alternateRuns is alternate collecting each side's results: runs[i]
// holds side i's, one a round.
func alternateRuns[T any](sides, rounds int, run func(i int) (T, error)) ([][]T, error) {
	runs := make([][]T, sides)
	err := alternate(sides, rounds, func(i int) error {
		r, err := run(i)
		if err != nil {
			return err
		}
		runs[i] = append(runs[i], r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}

// alternate calls run for every side index, rounds times (at least once),
// in order in even rounds and in reverse in odd ones, so that no side
// always runs first on a warm or a cold broker; it stops at the first
// error.
func alternate(sides, rounds int, run func(i int) error) error {
	for round := range max(rounds, 1) {
		for j := range sides {
			i := j
			if round%2 == 1 {
				i = sides - 1 - j
			}
			if err := run(i); err != nil {
				return err
			}
		}
	}
	return nil
}
