package topics

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FirstTimestamps reads the first record at or after each offset of want
// (topic, partition, where to start) with a direct consumer built from cl's
// options (no group: nothing is joined or committed), for at most
// timeout, and returns the records' timestamps by topic and partition. A
// partition that gives nothing in time (an empty tail, a broker that does
// not answer) is left out. The age of the record at a group's committed
// offset is its lag in time.
func FirstTimestamps(ctx context.Context, cl *kgo.Client, want map[string]map[int32]kgo.Offset, timeout time.Duration) map[string]map[int32]time.Time {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	need := 0
	for _, ps := range want {
		need += len(ps)
	}
	out := map[string]map[int32]time.Time{}
	if need == 0 {
		return out
	}
	rcl, err := kgo.NewClient(append(slices.Clip(cl.Opts()),
		kgo.ConsumePartitions(want),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.FetchMaxPartitionBytes(64<<10),
	)...)
	if err != nil {
		return out
	}
	defer rcl.Close()
	got := 0
	for got < need && ctx.Err() == nil {
		rcl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if out[r.Topic] == nil {
				out[r.Topic] = map[int32]time.Time{}
			}
			if _, ok := out[r.Topic][r.Partition]; !ok {
				out[r.Topic][r.Partition] = r.Timestamp
				got++
			}
		})
	}
	return out
}
