package actors_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// Two and three runtimes in one group split the partitions, and a member
// that leaves mid-stream loses nothing.
func TestGroupMembersSplitAndLeaveLosesNothing(t *testing.T) {
	t.Parallel()
	for _, members := range []int{2, 3} {
		t.Run(strconv.Itoa(members), func(t *testing.T) {
			b := actortest.Broker(t)
			const n = 6000
			actortest.CreateTopic(t, b, "orders", 6)
			produce(t, b, "orders", n, 100)
			seen := newCounter()
			var mu sync.Mutex
			partsBy := map[int]map[int32]bool{}
			rts := make([]*actors.Runtime, members)
			var firstHandled, othersHandled atomic.Int64
			for i := range members {
				rt := actortest.Runtime(t, b)
				err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
					seen.add(strconv.Itoa(m.Value))
					mu.Lock()
					if partsBy[i] == nil {
						partsBy[i] = map[int32]bool{}
					}
					partsBy[i][m.Partition] = true
					mu.Unlock()
					if i == 0 {
						firstHandled.Add(1)
					} else {
						othersHandled.Add(1)
					}
					// Simulated I/O, slow enough that the stream outlasts the
					// joins and member 0 is mid-stream when it leaves.
					time.Sleep(time.Millisecond)
					return nil
				}, actors.MaxInFlight(100))
				if err != nil {
					t.Fatal(err)
				}
				rts[i] = rt
			}
			// Member 0 starts alone and owns every partition; the others
			// join mid-stream (a rebalance revokes part of its share), then
			// member 0 leaves mid-stream.
			actortest.Start(t, rts[0])
			actortest.Eventually(t, 20*time.Second, "member 0 handles records", func() bool { return firstHandled.Load() > 200 })
			for _, rt := range rts[1:] {
				actortest.Start(t, rt)
			}
			actortest.Eventually(t, 20*time.Second, "the others take partitions", func() bool { return othersHandled.Load() > 100 })
			if seen.distinct() == n {
				t.Fatal("the stream ended before member 0 left; the test proves nothing")
			}
			actortest.Stop(t, rts[0])
			actortest.Eventually(t, 60*time.Second, "every record handled by the group", func() bool { return seen.distinct() == n })
			ends := actortest.EndOffsets(t, b, "orders")
			actortest.Eventually(t, 10*time.Second, "group committed to the end", func() bool {
				c := actortest.Committed(t, b, "processor", "orders")
				for p, e := range ends {
					if c[p] != e {
						return false
					}
				}
				return true
			})
			mu.Lock()
			for i := 1; i < members; i++ {
				if len(partsBy[i]) == 0 {
					t.Errorf("member %d handled no partition", i)
				}
			}
			mu.Unlock()
			// Duplicates come only from member 0's unfinished records: at
			// most its in-flight cap per partition it held.
			if d := seen.dups(); d > 100*6 {
				t.Fatalf("%d duplicates, more than the in-flight cap allows", d)
			}
			t.Logf("members=%d sent=%d handled=%d lost=0 duplicates=%d", members, n, seen.distinct(), seen.dups())
		})
	}
}

// A restart resumes from the committed offset and skips nothing.
func TestRestartResumesFromCommit(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 2)
	produce(t, b, "orders", 1000, 10)
	seen := newCounter()
	rt1 := actortest.Runtime(t, b)
	var handled atomic.Int64
	if err := actors.Consume(rt1, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if handled.Add(1) > 400 {
			<-ctx.Done() // stall until shutdown: these stay uncommitted
			return ctx.Err()
		}
		seen.add(strconv.Itoa(m.Value))
		return nil
	}, actors.Ordering(actors.ByPartition)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt1)
	actortest.Eventually(t, 20*time.Second, "first run handled 400", func() bool { return seen.distinct() >= 400 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c := actortest.Committed(t, b, "processor", "orders")
	total := c[0] + c[1]
	if total > 400 {
		t.Fatalf("committed %d records, but only 400 were handled", total)
	}
	rt2 := actortest.Runtime(t, b)
	var first sync.Map
	if err := actors.Consume(rt2, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		first.LoadOrStore(m.Partition, m.Offset)
		seen.add(strconv.Itoa(m.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt2)
	actortest.Eventually(t, 20*time.Second, "second run handled the rest", func() bool { return seen.distinct() == 1000 })
	for p, off := range c {
		if v, ok := first.Load(p); ok && v.(int64) != off {
			t.Fatalf("partition %d resumed at %d, committed was %d", p, v, off)
		}
	}
}

// With a 200,000-record backlog and a slow handler, the in-flight cap holds
// memory: the heap does not grow with the backlog.
func TestBackpressureBoundsHeap(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "backlog", 1)
	const n = 200_000
	produce(t, b, "backlog", n, 1000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rt := actortest.Runtime(t, b)
	var handled atomic.Int64
	release := make(chan struct{})
	if err := actors.Consume(rt, "backlog", "slow", func(ctx context.Context, m actors.Message[[]byte]) error {
		if handled.Add(1) >= 500 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}, actors.MaxInFlight(500)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "handler stalled at the cap", func() bool { return handled.Load() >= 500 })
	// Give the fetcher every chance to overrun the cap: poll the heap while
	// the handler is stalled.
	var peak uint64
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		time.Sleep(50 * time.Millisecond) // sampling interval
	}
	close(release)
	grown := int64(peak) - int64(before.HeapAlloc)
	t.Logf("backlog=%d heap before=%dKiB peak=%dKiB grown=%dKiB", n, before.HeapAlloc>>10, peak>>10, grown>>10)
	// 200k records of ~6 bytes plus franz-go's per-record overhead would be
	// far over 40 MiB if fetched at once.
	if grown > 40<<20 {
		t.Fatalf("heap grew by %d MiB with a stalled handler: the in-flight cap does not hold", grown>>20)
	}
}

// A partition whose handler is stalled at its in-flight cap holds back the
// group's polls only briefly: the other partition's records keep flowing
// to the end while the stalled one stays stalled.
func TestStalledPartitionDoesNotStarveTheOthers(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "mixed", 2)
	produce(t, b, "mixed", 20_000, 100)
	end := actortest.EndOffsets(t, b, "mixed")
	if end[0] < 100 || end[1] < 100 {
		t.Fatalf("records not spread over both partitions: %v", end)
	}
	rt := actortest.Runtime(t, b, actors.FetchPartitionBytes(1024))
	var stalled, flowed atomic.Int64
	release := make(chan struct{})
	defer close(release)
	if err := actors.Consume(rt, "mixed", "mixed", func(ctx context.Context, m actors.Message[[]byte]) error {
		if m.Partition == 1 {
			flowed.Add(1)
			return nil
		}
		if stalled.Add(1) > 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}, actors.MaxInFlight(50)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 30*time.Second, "every record of the flowing partition handled", func() bool { return flowed.Load() >= end[1] })
	if got := stalled.Load(); got != 2 {
		t.Fatalf("%d records of the stalled partition started, want 2 (its first, then the one it is stuck in)", got)
	}
}

// ConsumeWith hands records to the service's own actors; a panic in one is
// a failed attempt and the record is retried, not lost.
func TestConsumeWithServiceActors(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 50, 5)
	rt := actortest.Runtime(t, b)
	seen := newCounter()
	var panicked atomic.Bool
	props := actor.PropsFromFunc(func(c actor.Context) {
		d, ok := c.Message().(*actors.Delivery)
		if !ok {
			return
		}
		if string(d.Record.Value) == "7" && !panicked.Swap(true) {
			panic("service actor crashed")
		}
		seen.add(string(d.Record.Value))
		d.Done(nil)
	})
	if err := actors.ConsumeWith(rt, "orders", "svc", props, fastRetries()); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "every record handled", func() bool { return seen.distinct() == 50 })
	if !panicked.Load() {
		t.Fatal("the crash never happened")
	}
	actortest.Eventually(t, 10*time.Second, "committed to the end", func() bool { return actortest.Committed(t, b, "svc", "orders")[0] == 50 })
}

// A stop while the coordinator holds a join (a rebalance waiting for a
// member) ends within its deadline, cleanly: franz-go leaves only once the
// join returns, so the runtime drains and commits first and then gives
// the leave what time is left. Nothing is lost: once the join is let go,
// the other member handles what the stopped one did not commit.
func TestStopDuringAHeldJoin(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 2)
	const n = 400
	produce(t, b, "orders", n, 40)
	seen := newCounter() // of partition/offset
	handler := func(ctx context.Context, m actors.Message[[]byte]) error {
		seen.add(strconv.Itoa(int(m.Partition)) + "/" + strconv.FormatInt(m.Offset, 10))
		return nil
	}
	a := actortest.Runtime(t, b)
	if err := actors.Consume(a, "orders", "held", handler); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, a)
	actortest.Eventually(t, 20*time.Second, "the first member handled every record", func() bool { return seen.distinct() == n })

	// From now on the coordinator takes no join of the first member until
	// released, so a rebalance waits for it.
	described, err := kadm.NewClient(actortest.Client(t, b)).DescribeGroups(context.Background(), "held")
	if err != nil || len(described["held"].Members) != 1 {
		t.Fatalf("describe group: %v %v", described, err)
	}
	first := described["held"].Members[0].MemberID
	c := b.Cluster()
	release := make(chan struct{})
	var held atomic.Int32
	c.ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if req.(*kmsg.JoinGroupRequest).MemberID == first {
			held.Add(1)
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	bRt := actortest.Runtime(t, b)
	if err := actors.Consume(bRt, "orders", "held", handler); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, bRt)
	// The first member sees the rebalance and rejoins: its join is held.
	actortest.Eventually(t, 20*time.Second, "the first member's rejoin held", func() bool { return held.Load() >= 1 })

	const deadline = 4 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	t0 := time.Now()
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("stop during a held join: %v", err)
	}
	if took := time.Since(t0); took > deadline+2*time.Second {
		t.Fatalf("stop took %v, its deadline was %v", took, deadline)
	}
	close(release)
	released = true
	produce(t, b, "orders", 100, 40)
	actortest.Eventually(t, 60*time.Second, "the other member handles the rest", func() bool { return seen.distinct() == n+100 })
}
