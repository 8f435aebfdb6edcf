package actors_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// The group client decodes fetched records into pooled slices, which go
// back to the pool once their records ran through. A record that failed
// and waits for its retry or its dead letter must keep its own key, value
// and offset meanwhile, and every record must be handled with what was
// produced, in order where the mode orders: small fetches, so that the
// slices are reused many times over during the run.
func TestRecycledRecordsKeepTheirContent(t *testing.T) {
	const (
		n    = 3000
		keys = 37
	)
	for _, o := range []struct {
		name     string
		ordering actors.OrderingMode
		conc     int
	}{
		{"partition", actors.ByPartition, 0},
		{"key", actors.ByKey, 8},
		{"unordered", actors.Unordered, 8},
	} {
		t.Run(o.name, func(t *testing.T) {
			b := actortest.Broker(t)
			const topic, group = "recycled", "recycler"
			actortest.CreateTopic(t, b, topic, 2)
			recs := make([]*kgo.Record, n)
			dead := 0
			for i := range recs {
				recs[i] = actortest.KeyValue("k"+strconv.Itoa(i%keys), "v"+strconv.Itoa(i))
				if i%101 == 0 {
					dead++
				}
			}
			// In many record batches: a slice of pooled records is one
			// batch's, back once all of it is recycled.
			for i := 0; i < n; i += 50 {
				actortest.Produce(t, b, topic, recs[i:i+50]...)
			}

			var (
				mu      sync.Mutex
				first   = map[[2]int64]string{} // partition, offset: the value on attempt 1
				handled = map[int]int{}
				last    = map[string]int{} // the key's last handled record
				bad     []string
			)
			fail := func(format string, args ...any) {
				if len(bad) < 10 {
					bad = append(bad, fmt.Sprintf(format, args...))
				}
			}
			// The in-flight cap above the topic's records: a full
			// partition pauses, and the client drops what it buffered
			// of a paused partition without recycling it (kgo strips
			// it from the fetch), which would leave those slices to
			// the garbage collector and the count below short.
			opts := []actors.ConsumerOption{actors.Ordering(o.ordering), actors.Backoff(time.Millisecond, 5*time.Millisecond), actors.MaxInFlight(n)}
			if o.conc > 0 {
				opts = append(opts, actors.Concurrency(o.conc))
			}
			rt := actortest.Runtime(t, b, actors.FetchPartitionBytes(4096))
			err := actors.Consume(rt, topic, group, func(_ context.Context, m actors.Message[string]) error {
				mu.Lock()
				defer mu.Unlock()
				i, err := strconv.Atoi(strings.TrimPrefix(m.Value, "v"))
				if err != nil {
					fail("offset %d: value %q was not produced", m.Offset, m.Value)
					return nil
				}
				key := "k" + strconv.Itoa(i%keys)
				if string(m.Key) != key {
					fail("offset %d: value %q with key %q, want %q", m.Offset, m.Value, m.Key, key)
				}
				at := [2]int64{int64(m.Partition), m.Offset}
				if m.Attempt == 1 {
					first[at] = m.Value
				} else if first[at] != m.Value {
					fail("partition %d offset %d: attempt %d has value %q, attempt 1 had %q", m.Partition, m.Offset, m.Attempt, m.Value, first[at])
				}
				switch {
				case i%11 == 0 && m.Attempt == 1:
					return errors.New("again")
				case i%101 == 0:
					return actors.Permanent(errors.New("to the dead letters"))
				}
				if p, ok := last[key]; ok && p > i && o.ordering != actors.Unordered {
					fail("key %s: record %d handled after %d", key, i, p)
				}
				last[key] = i
				handled[i]++
				return nil
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			actortest.WaitCommittedToEnd(t, b, group, topic)
			letters := actortest.WaitDeadLetters(t, b, topic+".dlq", dead)

			mu.Lock()
			defer mu.Unlock()
			for _, s := range bad {
				t.Error(s)
			}
			for i := range n {
				if i%101 != 0 && handled[i] == 0 {
					t.Errorf("record v%d never handled", i)
				}
			}
			for _, l := range letters {
				i, err := strconv.Atoi(strings.TrimPrefix(string(l.Value), "v"))
				if err != nil || i%101 != 0 || string(l.Key) != "k"+strconv.Itoa(i%keys) {
					t.Errorf("dead letter of offset %d: key %q value %q, not a record that failed for good", l.Offset, l.Key, l.Value)
				} else if v := first[[2]int64{int64(l.Partition), l.Offset}]; v != string(l.Value) {
					t.Errorf("dead letter of partition %d offset %d has value %q, the handler saw %q", l.Partition, l.Offset, l.Value, v)
				}
			}
			// Every record finished: once the partitions are drained,
			// every slice is back.
			actortest.Stop(t, rt)
			if gets, puts := actors.RecordPoolCounts(rt, group); gets == 0 || puts != gets {
				t.Errorf("record slices taken from the pool %d, given back %d: want all back", gets, puts)
			} else {
				t.Logf("record slices taken from the pool %d, given back %d", gets, puts)
			}
		})
	}
}
