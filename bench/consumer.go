package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/partition"
)

// Side is one consumer under test: a raw franz-go poll loop or an actord
// consumer in one ordering mode.
type Side struct {
	// Name labels the side in tables and benchmark names.
	Name string
	// Raw is the hand-rolled franz-go loop; otherwise actord runs with
	// Ordering and Concurrency.
	Raw bool
	// Pooled, with Raw, has the loop decode into a partition.RecordPool
	// and recycle each record after its handler, as actord does: not
	// among ConsumeSides (the raw loop is the loop a service would write),
	// for measuring what the pool alone is worth.
	Pooled      bool
	Ordering    actors.OrderingMode
	Concurrency int
	// MaxInFlight overrides the in-flight cap of an actord side (0: the
	// runtime default, 1,000 per partition).
	MaxInFlight int
	// Linger has the producing half of a latency side linger that long
	// (ProducerLinger) instead of sending at once, the runtime's default.
	Linger time.Duration
}

// ConsumeSides are the four sides of the consume comparison, baseline
// first.
func ConsumeSides(concurrency int) []Side {
	return []Side{
		{Name: "raw franz-go poll loop", Raw: true},
		{Name: "actord partition mode", Ordering: actors.ByPartition},
		{Name: "actord key mode c" + strconv.Itoa(concurrency), Ordering: actors.ByKey, Concurrency: concurrency},
		{Name: "actord unordered c" + strconv.Itoa(concurrency), Ordering: actors.Unordered, Concurrency: concurrency},
	}
}

// Handler is what a side runs per record, given the record's partition
// and value.
type Handler func(partition int32, value []byte)

// Running is a started consumer; Stop ends it (drain and commit included).
type Running interface{ Stop() error }

// StartConsumer starts side as group on topic, calling fn for every
// record. The actord sides go through actors.Consume with a []byte value
// (no decoding), the path a service's typed handler takes.
func (e *Env) StartConsumer(s Side, topic, group string, fn Handler) (Running, error) {
	if s.Raw {
		return e.startRaw(topic, group, fn, s.Pooled)
	}
	rt, err := e.Runtime()
	if err != nil {
		return nil, err
	}
	opts := []actors.ConsumerOption{actors.Ordering(s.Ordering), actors.NoDeadLetter()}
	if s.Concurrency > 0 {
		opts = append(opts, actors.Concurrency(s.Concurrency))
	}
	if s.MaxInFlight > 0 {
		opts = append(opts, actors.MaxInFlight(s.MaxInFlight))
	}
	err = actors.Consume(rt, topic, group, func(_ context.Context, m actors.Message[[]byte]) error {
		fn(m.Partition, m.Value)
		return nil
	}, opts...)
	if err != nil {
		StopRuntime(rt)
		return nil, err
	}
	if err := rt.Start(context.Background()); err != nil {
		StopRuntime(rt)
		return nil, err
	}
	return runtimeRunning{rt}, nil
}

type runtimeRunning struct{ rt *actors.Runtime }

func (r runtimeRunning) Stop() error { return StopRuntime(r.rt) }

// startRaw is the baseline: the loop a service would write by hand with
// franz-go for at-least-once consumption, with the client options actord's
// group client uses (mark after handling, commit marks every second, block
// rebalances while a poll's records are handled, the same fetch size per
// partition and the same 50 ms the broker may hold a fetch).
func (e *Env) startRaw(topic, group string, fn Handler, pooled bool) (Running, error) {
	opts := e.ClientOpts()
	if pooled {
		opts = append(opts, kgo.WithPools(new(partition.RecordPool)))
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(CommitInterval),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(FetchMaxWait),
		kgo.FetchMaxPartitionBytes(FetchPartitionBytes),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			cl.CommitMarkedOffsets(ctx)
		}),
	)...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			fetches := cl.PollRecords(ctx, 10000)
			if fetches.IsClientClosed() || ctx.Err() != nil {
				cl.AllowRebalance()
				return
			}
			fetches.EachPartition(func(p kgo.FetchTopicPartition) {
				for _, r := range p.Records {
					fn(r.Partition, r.Value)
				}
				if n := len(p.Records); n > 0 {
					cl.MarkCommitRecords(p.Records[n-1])
				}
				if pooled {
					for _, r := range p.Records {
						r.Recycle()
					}
				}
			})
			cl.AllowRebalance()
		}
	}()
	return &rawRunning{cl: cl, cancel: cancel, done: done}, nil
}

type rawRunning struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *rawRunning) Stop() error {
	r.cancel()
	<-r.done
	r.cl.CloseAllowingRebalance()
	return nil
}

// Tally counts handled records and notes when the first started and when
// the last partition's last record was handled. It counts per partition,
// each partition's counter on a cache line of its own: one counter shared
// by every handler goroutine made the concurrent sides pay for the
// counting itself (the line bouncing between the cores on every record,
// 0.25 s of CPU in fifteen key-mode rounds), a cost no service's handler
// has and the single-goroutine raw loop never paid.
type Tally struct {
	first atomic.Int64 // unix nanos of the first Begin
	_     [56]byte
	parts []tallyPart
	// left counts the partitions whose last record is not handled yet.
	left atomic.Int64
	last atomic.Int64 // unix nanos of the last partition's last Hit
	done chan struct{}
}

type tallyPart struct {
	n    atomic.Int64
	want int64
	_    [48]byte
}

// NewTally expects want[p] records of partition p.
func NewTally(want []int64) *Tally {
	t := &Tally{parts: make([]tallyPart, len(want)), done: make(chan struct{})}
	for p, n := range want {
		t.parts[p].want = n
		if n > 0 {
			t.left.Add(1)
		}
	}
	if t.left.Load() == 0 {
		close(t.done)
	}
	return t
}

// Begin notes a record's start (only the first one counts).
func (t *Tally) Begin() {
	if t.first.Load() == 0 {
		t.first.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// Hit counts a finished record of partition p.
func (t *Tally) Hit(p int32) {
	tp := &t.parts[p]
	c := tp.n.Add(1)
	if c == 1 {
		t.first.CompareAndSwap(0, time.Now().UnixNano())
	}
	if c == tp.want && t.left.Add(-1) == 0 {
		t.last.Store(time.Now().UnixNano())
		close(t.done)
	}
}

// Done is closed when every partition's records are counted.
func (t *Tally) Done() <-chan struct{} { return t.done }

// Count is the records counted so far.
func (t *Tally) Count() int64 {
	var n int64
	for i := range t.parts {
		n += t.parts[i].n.Load()
	}
	return n
}

// End is when the last record finished.
func (t *Tally) End() time.Time { return time.Unix(0, t.last.Load()) }

// Span is the time from the first record's start to the last record's
// end.
func (t *Tally) Span() time.Duration { return time.Duration(t.last.Load() - t.first.Load()) }

// allocs returns the process's heap allocation count and bytes so far.
func allocs() (n, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}
