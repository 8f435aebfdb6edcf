package actors_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/partition"
)

func TestConsumeEveryRecordOnceAndCommits(t *testing.T) {
	for _, mode := range []partition.Ordering{partition.ByPartition, partition.ByKey, partition.Unordered} {
		t.Run(mode.String(), func(t *testing.T) {
			b := startBroker(t)
			const n = 3000
			createTopic(t, b.Addr(), "orders", 3)
			produce(t, b.Addr(), "orders", n, 50)
			rt := newRuntime(t, b.Addr())
			seen := newCounter()
			err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
				seen.add(strconv.Itoa(m.Value))
				return nil
			}, actors.Ordering(mode), actors.Concurrency(8))
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			eventually(t, 30*time.Second, "every record handled", func() bool { return seen.distinct() == n })
			ends := endOffsets(t, b.Addr(), "orders")
			eventually(t, 10*time.Second, "offsets committed to the end", func() bool {
				c := committed(t, b.Addr(), "processor", "orders")
				for p, e := range ends {
					if c[p] != e {
						return false
					}
				}
				return true
			})
			stopRuntime(t, rt)
			if d := seen.dups(); d != 0 {
				t.Fatalf("clean run handled %d duplicates", d)
			}
		})
	}
}

func TestOrderPerPartitionAndPerKey(t *testing.T) {
	for _, mode := range []partition.Ordering{partition.ByPartition, partition.ByKey} {
		t.Run(mode.String(), func(t *testing.T) {
			b := startBroker(t)
			const n, keys = 2000, 20
			createTopic(t, b.Addr(), "orders", 2)
			produce(t, b.Addr(), "orders", n, keys)
			rt := newRuntime(t, b.Addr())
			var mu sync.Mutex
			lastByKey := map[string]int{}
			lastByPart := map[int32]int64{}
			var violations []string
			total := 0
			err := actors.Consume(rt, "orders", "ordered", func(ctx context.Context, m actors.Message[int]) error {
				mu.Lock()
				defer mu.Unlock()
				k := string(m.Key)
				if last, ok := lastByKey[k]; ok && m.Value <= last {
					violations = append(violations, k+": "+strconv.Itoa(m.Value)+" after "+strconv.Itoa(last))
				}
				lastByKey[k] = m.Value
				if mode == partition.ByPartition {
					if last, ok := lastByPart[m.Partition]; ok && m.Offset != last+1 {
						violations = append(violations, "partition order broken")
					}
					lastByPart[m.Partition] = m.Offset
				}
				total++
				return nil
			}, actors.Ordering(mode), actors.Concurrency(8))
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			eventually(t, 30*time.Second, "every record handled", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return total >= n
			})
			mu.Lock()
			defer mu.Unlock()
			if len(violations) > 0 {
				t.Fatalf("%d order violations, first: %s", len(violations), violations[0])
			}
		})
	}
}
