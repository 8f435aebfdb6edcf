package actors_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

func TestConsumeEveryRecordOnceAndCommits(t *testing.T) {
	for _, mode := range []actors.OrderingMode{actors.ByPartition, actors.ByKey, actors.Unordered} {
		t.Run(mode.String(), func(t *testing.T) {
			b := actortest.Broker(t)
			const n = 3000
			actortest.CreateTopic(t, b, "orders", 3)
			produce(t, b, "orders", n, 50)
			rt := actortest.Runtime(t, b)
			seen := newCounter()
			err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
				seen.add(strconv.Itoa(m.Value))
				return nil
			}, actors.Ordering(mode), actors.Concurrency(8))
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			actortest.Eventually(t, 30*time.Second, "every record handled", func() bool { return seen.distinct() == n })
			ends := actortest.EndOffsets(t, b, "orders")
			actortest.Eventually(t, 10*time.Second, "offsets committed to the end", func() bool {
				c := actortest.Committed(t, b, "processor", "orders")
				for p, e := range ends {
					if c[p] != e {
						return false
					}
				}
				return true
			})
			actortest.Stop(t, rt)
			if d := seen.dups(); d != 0 {
				t.Fatalf("clean run handled %d duplicates", d)
			}
		})
	}
}

func TestOrderPerPartitionAndPerKey(t *testing.T) {
	for _, mode := range []actors.OrderingMode{actors.ByPartition, actors.ByKey} {
		t.Run(mode.String(), func(t *testing.T) {
			b := actortest.Broker(t)
			const n, keys = 2000, 20
			actortest.CreateTopic(t, b, "orders", 2)
			produce(t, b, "orders", n, keys)
			rt := actortest.Runtime(t, b)
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
				if mode == actors.ByPartition {
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
			actortest.Start(t, rt)
			actortest.Eventually(t, 30*time.Second, "every record handled", func() bool {
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
